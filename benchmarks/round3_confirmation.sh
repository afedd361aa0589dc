#!/bin/bash
# Round 3, step C (BENCHMARKS.md's pre-registration): the shipped default (arm uniform-adaptive,
# chosen by step B's rule) against uniform, run once, untuned. Resumable: finished runs are
# reused, a killed one resumes; run from the repository root with the venv active (JOBS=1:
# one training at a time, leaving a core to other work).
# `round3_confirmation.sh extra` runs only step A's extra seeds: the project's own seven
# pre-registered pairs were run under the arm's first definition (mssr-scheduler with law
# adaptive, which replays identically; BENCHMARKS.md, round 3), so their saved configs differ
# from today's arm and a rerun of them stops at the config check.
set -e
export OMP_NUM_THREADS=1
A="--arms uniform uniform-adaptive --jobs ${JOBS:-2} --tasks 4 --steps 100"
L="python benchmarks/bench_frontier.py --regime lora $A"
P="python benchmarks/bench_frontier.py --regime full $A"
# the pre-registered 7 pairs, LoRA at 1/3/10% and the 30% check, then full fine-tuning
if [ "${1:-all}" != extra ]; then
$L --orders default --seeds 1 2 3 --budgets 0.01 0.03 0.1 0.3
$L --orders reverse shuffled --seeds 0 1 --budgets 0.01 0.03 0.1 0.3
$P --orders default --seeds 1 2 3 --budgets 0.01 0.03 0.1
$P --orders reverse shuffled --seeds 0 1 --budgets 0.01 0.03 0.1
fi
# step A's sigma_d = 0.056 asks for 61 pairs a budget: default seeds 4-21, reverse and
# shuffled seeds 2-19, a seed of each order at a time
for k in $(seq 0 17); do
  $L --orders default --seeds $((4 + k)) --budgets 0.01 0.03 0.1
  $L --orders reverse shuffled --seeds $((2 + k)) --budgets 0.01 0.03 0.1
done
