"""The continual fine-tuning engine: model loading, the training recipe, checkpoints."""
