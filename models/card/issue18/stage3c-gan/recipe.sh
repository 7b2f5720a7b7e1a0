#!/usr/bin/env bash
# Stage 3c: stage 2b's last epoch, full-size GAN drawn 3x, StyleGAN crops 1.5x, t2i 2.5x (as stage 2), no BI.
# Pre-registered: the last epoch is kept (as stage 2), threshold rule as shipped.
set -x
cd "$(dirname "$0")/../../../.."  # the repository root
# STAGE2: the shipped default's stage-2 last epoch (scripts/train_mix.sh writes it to runs/mix/lite0-final-stage2/last.pt)
PY=.venv/bin/python
OUT=runs/mix4
mkdir -p $OUT
/usr/bin/time -v $PY -m training.train --data-mix config/data-mix.yaml --model efficientnet_lite0 --samples-per-epoch 5000 \
  --batch-size 32 --warmup-epochs 0.1 --min-crop-scale 0.5 --workers 1 --seed 45 --output-dir $OUT \
  --init-from "${STAGE2:-runs/mix/lite0-final-stage2/last.pt}" --source-weight t2i-faces=2.5 gen-gan=3 faces-gan=1.5 --lr 1e-4 --epochs 2 --image-size 192 \
  --run-name stage3c > $OUT/stage3c.log 2>&1 || exit 1
/usr/bin/time -v $PY -m training.package --checkpoint $OUT/stage3c/last.pt --data-mix config/data-mix.yaml \
  --output $OUT/efficientnet_lite0-mix.pt --half --max-false-fake-rate 0.01 > $OUT/package.log 2>&1 || exit 1
$PY -m training.export_onnx --checkpoint $OUT/efficientnet_lite0-mix.pt > $OUT/export.log 2>&1 || exit 1
for split in Test Wild; do
  /usr/bin/time -v $PY -m training.evaluate --checkpoint $OUT/efficientnet_lite0-mix.pt --baseline models/efficientnet_lite0-mix.pt \
    --data-mix config/data-mix.yaml --split $split --output-dir $OUT/$split --workers 1 --require-no-regression > $OUT/$split.log 2>&1
  echo "$split rule exit $?" >> $OUT/rule.txt
done
echo done >> $OUT/rule.txt
