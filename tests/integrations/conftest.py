"""The engine tests' tiny model and tasks (tests/engine/conftest.py), so the integrations are
compared with `mssr run` on exactly the same data and model."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "engine_fixtures", Path(__file__).parents[1] / "engine" / "conftest.py")
_engine_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_engine_fixtures)

engine_assets = _engine_fixtures.engine_assets
make_config = _engine_fixtures.make_config
