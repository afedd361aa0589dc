#!/bin/bash
# Issue 21's learning curve: the realtext suite without replay (`mssr run realtext --strategy
# none --seed 0`, the ready config's LoRA settings) on snapshots of the larger base model's
# build (scripts/build_base_model.py --snapshot-every 500), one run per snapshot in
# runs/realtext-curve/step-N. Resumable: a finished run is skipped, a killed one resumes from
# its last task end; a snapshot not written yet is skipped. Run from the repository root with
# the venv active: STEPS="1000 2000" benchmarks/realtext_curve.sh [work-dir].
set -e
export OMP_NUM_THREADS=1
work=${1:-build/base-model-realtext}
for step in ${STEPS:-500 1000 2000 3000 4000}; do
  snapshot=$work/snapshots/step-$step
  out=runs/realtext-curve/step-$step
  if [ -f "$out/results.json" ]; then continue; fi
  if [ ! -f "$snapshot/config.json" ]; then echo "no snapshot $snapshot yet"; continue; fi
  mssr run realtext --strategy none --seed 0 --output "$out" --resume --no-progress \
    "model.path=$snapshot" train.checkpoint_every=150
done
