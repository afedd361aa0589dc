"""The replay core: clock, memory tracker, samplers, schedulers, buffer and strategies.

numpy only: no torch, no files. It takes example ids, losses and step counts and returns the
ids to replay (see ../shared/MSSR.md)."""
