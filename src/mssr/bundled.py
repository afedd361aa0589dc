"""Where the small base model shipped with the project lives (`model.path: bundled`)."""

from __future__ import annotations

import os
from pathlib import Path

from mssr.errors import MSSRError
from mssr.paths import ASSETS_DIR

ENV_VARIABLE = "MSSR_BUNDLED_MODEL"
REBUILD_COMMAND = (".venv/bin/python scripts/build_base_model.py "
                   "--output src/mssr/assets/base-model")


def bundled_model_path() -> Path:
    """The bundled model directory: $MSSR_BUNDLED_MODEL, else the package's assets/base-model
    (installed with mssr). Raises MSSRError, with the rebuild command, when it holds no model."""
    override = os.environ.get(ENV_VARIABLE)
    path = Path(override) if override else ASSETS_DIR / "base-model"
    if not (path / "config.json").is_file():
        source = f"${ENV_VARIABLE}" if override else "the mssr package"
        raise MSSRError(f"no bundled model at {path} (from {source}): rebuild it with "
                        f"`{REBUILD_COMMAND}` or set {ENV_VARIABLE} to a model directory")
    return path
