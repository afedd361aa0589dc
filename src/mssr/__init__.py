"""mssr: continual fine-tuning of language models with memory-inspired replay."""

__version__ = "0.1.0"
