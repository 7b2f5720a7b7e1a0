#!/usr/bin/env bash
# Stage 3d: as 3c, with the pseudo-fakes, swaps and t2i kept at their stage-2 shares (3c diluted sbi: refused)
# Pre-registered: the last epoch is kept (as stage 2), threshold rule as shipped.
set -x
cd "$(dirname "$0")/../../../.."  # the repository root
# STAGE2: the shipped default's stage-2 last epoch (scripts/train_mix.sh writes it to runs/mix/lite0-final-stage2/last.pt)
PY=.venv/bin/python
OUT=runs/mix5
mkdir -p $OUT
/usr/bin/time -v $PY -m training.train --data-mix config/data-mix.yaml --model efficientnet_lite0 --samples-per-epoch 5000 \
  --batch-size 32 --warmup-epochs 0.1 --min-crop-scale 0.5 --workers 1 --seed 46 --output-dir $OUT \
  --init-from "${STAGE2:-runs/mix/lite0-final-stage2/last.pt}" --source-weight t2i-faces=3 gen-gan=3 faces-gan=1.5 sbi=3 swaps=1.5 gen-diffusion=0.75 --lr 1e-4 --epochs 2 --image-size 192 \
  --run-name stage3d > $OUT/stage3d.log 2>&1 || exit 1
