"""The files shipped inside the package: the ready configs (configs/) and the bundled model
(assets/), found through importlib.resources so that a checkout, an editable install and an
installed wheel all find their own; and how a config is named on the command line."""

from __future__ import annotations

from importlib import resources
from pathlib import Path, PurePosixPath

from mssr.errors import ConfigError


def package_path(*parts: str) -> Path:
    """A folder or file shipped in the mssr package, as a path on disk (what transformers and
    YAML readers need); a package installed without files on disk (zipped) cannot give one."""
    location = resources.files("mssr").joinpath(*parts)
    if not isinstance(location, Path):
        raise ConfigError("config", f"mssr is installed without files on disk ({location}); "
                          "install it with pip from a wheel or a source folder")
    return location


CONFIGS_DIR = package_path("configs")
ASSETS_DIR = package_path("assets")
SEQUENCES_FOLDER = "sequences"  # ready task sequences, named with --sequence, not run configs


def ready_config_names() -> list[str]:
    """The ready configs a command takes by name: `demo`, `smoke`, `models/qwen2.5-7b-instruct`."""
    return sorted(path.relative_to(CONFIGS_DIR).with_suffix("").as_posix()
                  for path in CONFIGS_DIR.rglob("*.yaml")
                  if path.relative_to(CONFIGS_DIR).parts[0] != SEQUENCES_FOLDER)


def find_config(spec: str | Path) -> Path:
    """The config file `spec` names: a file that exists, else a ready config by name, with or
    without `configs/` and `.yaml` (so the checkout's `configs/smoke.yaml` still reads, from any
    folder). ConfigError saying where it looked and listing the ready configs otherwise."""
    path = Path(spec)
    if path.is_file():
        return path
    name = PurePosixPath(str(spec).replace("\\", "/"))
    if name.parts[:1] == ("configs",):
        name = PurePosixPath(*name.parts[1:])
    name = name.with_suffix("") if name.suffix in (".yaml", ".yml") else name
    if str(name) in ready_config_names():
        return CONFIGS_DIR / f"{name}.yaml"
    ready = ", ".join(ready_config_names())
    raise ConfigError("config", f"{spec}: no such file (looked for {path.resolve()}) and no "
                      f"ready config of that name; ready configs: {ready}")
