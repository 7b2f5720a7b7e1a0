#!/usr/bin/env bash
# Stage 3e: stage 3c's last epoch, then 1 epoch at lr 5e-5 with the pseudo-fakes drawn 3x (a third of the fakes),
# full-size GAN 1.5, t2i 2.5: can the blend cue come back while the GAN gain stays? Screened on Validation first.
set -x
cd "$(dirname "$0")/../../../.."  # the repository root
# STAGE2: the shipped default's stage-2 last epoch (scripts/train_mix.sh writes it to runs/mix/lite0-final-stage2/last.pt)
PY=.venv/bin/python
OUT=runs/mix6
mkdir -p $OUT
/usr/bin/time -v $PY -m training.train --data-mix config/data-mix.yaml --model efficientnet_lite0 --samples-per-epoch 5000 \
  --batch-size 32 --warmup-epochs 0.1 --min-crop-scale 0.5 --workers 1 --seed 47 --output-dir $OUT \
  --init-from runs/mix4/stage3c/last.pt --source-weight t2i-faces=2.5 gen-gan=1.5 sbi=3 --lr 5e-5 --epochs 1 --image-size 192 \
  --run-name stage3e > $OUT/stage3e.log 2>&1 || exit 1
# Then packaged and judged as in ../stage3c-gan/recipe.sh, with stage3e/last.pt and OUT=runs/mix6.
