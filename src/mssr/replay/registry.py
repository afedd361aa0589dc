"""The replay strategies, each registered once as a `StrategySpec`: its schedule kind, its
sampler and the facts the rest of the library asks about it. Nothing outside this module
compares a strategy's name; adding a strategy is one `register(...)` line (and its tests).

The compositions are docs/MSSR.md section 4's baselines, MSSR and its ablations, FOREVER and
MIR."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mssr.errors import ConfigError
from mssr.replay.forever import ForeverStrategy
from mssr.replay.model_time import ModelTimeSchedule
from mssr.replay.schedulers import (
    AccuracyTrigger,
    AdaptiveSchedule,
    EveryStep,
    FixedInterval,
    LossTrigger,
    MemorySchedule,
    Scheduler,
)
from mssr.replay.strategy import ReplayStrategy

if TYPE_CHECKING:
    from mssr.replay.config import ReplayConfig


@dataclass(frozen=True)
class StrategySpec:
    """One replay strategy. `schedule` is the schedule kind (replay/schedulers.py): it builds
    the scheduler, plans the spend and matches a budget."""

    name: str
    schedule: type[Scheduler]
    memory_sampler: bool = False  # replay the examples at risk (else uniformly)
    anchors: bool = False  # an L2 pull to the previous task's weights on replay steps
    needs_update_norm: bool = False  # the optimizer update's norm feeds the strategy
    shardable: bool = True  # runs under FSDP (sharded weights)
    # pick the replay among uniformly drawn candidates by the loss rise a virtual step on the
    # current batch causes (MIR): the trainer measures, the driver picks (replay/driver.py)
    virtual_step: bool = False
    strategy_class: type[ReplayStrategy] = ReplayStrategy

    @property
    def replays(self) -> bool:
        return self.schedule is not Scheduler

    @property
    def memory(self) -> bool:
        """Whether the memory model drives a decision (its snapshots are recorded)."""
        return self.memory_sampler or issubclass(self.schedule, MemorySchedule)

    @property
    def reads_schedule_law(self) -> bool:
        """Whether `replay.schedule.law` picks the schedule (MSSR's schedule kind)."""
        return self.schedule.reads_law

    @property
    def adaptive_spend(self) -> bool:
        """Whether the spend depends on the run, so it cannot be a budget reference."""
        return self.schedule.adaptive


SPECS: dict[str, StrategySpec] = {}


def register(spec: StrategySpec) -> StrategySpec:
    if spec.name in SPECS:
        raise ValueError(f"strategy {spec.name!r} is registered twice")
    SPECS[spec.name] = spec
    return spec


register(StrategySpec("none", Scheduler))
register(StrategySpec("uniform", EveryStep))
register(StrategySpec("fixed", FixedInterval))
register(StrategySpec("loss", LossTrigger))
register(StrategySpec("accuracy", AccuracyTrigger))
register(StrategySpec("mssr", MemorySchedule, memory_sampler=True))
register(StrategySpec("mssr-sampler", FixedInterval, memory_sampler=True))
register(StrategySpec("mssr-every-step", EveryStep, memory_sampler=True))
register(StrategySpec("mssr-scheduler", MemorySchedule))
# the shipped default (round 3's rule, BENCHMARKS.md): uniform sampling on the adaptive law,
# the same as `mssr-scheduler` with `schedule.law: adaptive`
register(StrategySpec("adaptive", AdaptiveSchedule))
register(StrategySpec("forever", ModelTimeSchedule, anchors=True, needs_update_norm=True,
                      shardable=False, strategy_class=ForeverStrategy))
# MIR: uniform's every-step share, spent on the candidates a virtual step interferes with most;
# the virtual step needs the whole weights on every process
register(StrategySpec("mir", EveryStep, virtual_step=True, shardable=False))

STRATEGY_NAMES = tuple(SPECS)  # the built-in strategies; `SPECS` also holds any registered later


def spec_for(name: str) -> StrategySpec:
    """The registered spec of `name`; a ConfigError listing the valid names otherwise."""
    if name not in SPECS:
        raise ConfigError("replay.strategy", f"unknown strategy {name!r}; valid: "
                          f"{', '.join(SPECS)}")
    return SPECS[name]


def build_strategy(config: ReplayConfig, seed: int) -> ReplayStrategy:
    """The strategy `config.strategy` names, with the config's constants."""
    spec = spec_for(config.strategy)
    return spec.strategy_class(spec, config, seed)
