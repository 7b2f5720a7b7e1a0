#!/usr/bin/env bash
# The five stage-3 candidates for full-size GAN faces (model card, "How it got there"), each refused or screened out:
#   3c  stage 2's last epoch, full-size GAN drawn 3x, StyleGAN crops 1.5x, t2i 2.5x, 2 epochs at lr 1e-4 (seed 45)
#   3d  as 3c, with the pseudo-fakes, swaps and t2i at their stage-2 shares of the fake draws (seed 46)
#   3e  3c's last epoch + 1 epoch at lr 5e-5 with the pseudo-fakes drawn 3x, full-size GAN 1.5x (seed 47)
#   3f  3e's last epoch + 1 epoch at lr 5e-5 as 3e, with the professional photos drawn 2x as often (pro-real 4; seed 48)
#   3g  3f's last epoch + 1 epoch at lr 5e-5 as 3f, with the Nano Banana Pro portraits drawn 3x (gen-diffusion 1.5; seed 49)
# Each is first screened on Validation (the per-source table of its training log); JUDGE=1 then packages it and runs
# the no-regression rule against models/ on Test and Wild. Tables: stage3c-gan/, stage3d-gan-sbi/, stage3e-gan-then-sbi/,
# stage3f-pro-real/, stage3g-nano-banana/.
# STAGE2: the shipped default's stage-2 last epoch (scripts/train_mix.sh writes it to runs/mix/lite0-final-stage2/last.pt).
# Usage: [JUDGE=1] models/card/issue18/stage3-gan.sh 3c|3d|3e|3f|3g
set -euo pipefail
cd "$(dirname "$0")/../../.."
PY=${PYTHON:-.venv/bin/python}
MIX=config/data-mix.yaml
STAGE2=${STAGE2:-runs/mix/lite0-final-stage2/last.pt}
OUT=runs/stage3
case "${1:-}" in
    3c) FLAGS=(--init-from "$STAGE2" --source-weight t2i-faces=2.5 gen-gan=3 faces-gan=1.5 --lr 1e-4 --epochs 2 --seed 45) ;;
    3d) FLAGS=(--init-from "$STAGE2" --source-weight t2i-faces=3 gen-gan=3 faces-gan=1.5 sbi=3 swaps=1.5 gen-diffusion=0.75
               --lr 1e-4 --epochs 2 --seed 46) ;;
    3e) FLAGS=(--init-from "$OUT/3c/last.pt" --source-weight t2i-faces=2.5 gen-gan=1.5 sbi=3 --lr 5e-5 --epochs 1 --seed 47) ;;
    3f) FLAGS=(--init-from "$OUT/3e/last.pt" --source-weight t2i-faces=2.5 gen-gan=1.5 sbi=3 pro-real=4 --lr 5e-5 --epochs 1
               --seed 48) ;;
    3g) FLAGS=(--init-from "$OUT/3f/last.pt" --source-weight t2i-faces=2.5 gen-gan=1.5 sbi=3 pro-real=4 gen-diffusion=1.5
               --lr 5e-5 --epochs 1 --seed 49) ;;
    *) echo "usage: $0 3c|3d|3e|3f|3g" >&2; exit 2 ;;
esac
mkdir -p "$OUT"
$PY -m training.train --data-mix "$MIX" --model efficientnet_lite0 --samples-per-epoch 5000 --batch-size 32 \
    --warmup-epochs 0.1 --min-crop-scale 0.5 --workers 1 --image-size 192 --output-dir "$OUT" --run-name "$1" "${FLAGS[@]}"
[ "${JUDGE:-0}" = 1 ] || exit 0
CANDIDATE="$OUT/$1/efficientnet_lite0-mix.pt"
$PY -m training.package --checkpoint "$OUT/$1/last.pt" --data-mix "$MIX" --output "$CANDIDATE" --half \
    --max-false-fake-rate 0.01
$PY -m training.export_onnx --checkpoint "$CANDIDATE"
for split in Test Wild; do
    $PY -m training.evaluate --checkpoint "$CANDIDATE" --baseline models/efficientnet_lite0-mix.pt --data-mix "$MIX" \
        --split "$split" --output-dir "$OUT/$1-$split" --workers 1 --require-no-regression || echo "$1: $split refuses it"
done
