"""Task data: validated examples from JSONL/JSON, datasets directories or the hub, formatting,
tokenization with prompt masking, and the built-in suites."""
