"""MSSR replay inside trainers people already use, one module per trainer family:

- `mssr.integrations.transformers.ReplayTrainer`: `transformers.Trainer`;
- `mssr.integrations.trl.ReplaySFTTrainer`: TRL's `SFTTrainer` (the `mssr[trl]` extra).

Both train a sequence of `ContinualTask`s with any strategy of the replay registry and write the
same results.json as `mssr run` (README: "Use it from your own Trainer")."""

from mssr.integrations.continual import ContinualConfig, ContinualTask

__all__ = ["ContinualConfig", "ContinualTask"]
