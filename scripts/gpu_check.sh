#!/usr/bin/env bash
# One GPU check, run in one call on a lent GPU machine: installs nothing (uses the machine's python3 with torch),
# trains briefly with AMP + channels_last, then benchmarks training throughput (ours vs the original settings).
#   bash scripts/gpu_check.sh [DATA_DIR]      (default: a synthetic 256 px Kaggle-layout set it writes itself)
# Prints a short table; files land in $OUT (or runs/gpu_check).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUT=${OUT:-runs/gpu_check}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
$PY -c "import torch, torchvision; print('torch', torch.__version__, 'torchvision', torchvision.__version__, 'cuda', torch.cuda.is_available())"
WORKERS=${WORKERS:-$(( $(nproc) - 2 ))}
DATA=${1:-}
if [ -z "$DATA" ]; then
  DATA=/tmp/gpu_check_data
  [ -d "$DATA/Train" ] || $PY -m training.synthetic "$DATA" --per-class 2048 --size 256 >/dev/null
fi
# 1. A short real training run: the whole pipeline (loader, AMP, checkpoints, metrics) on the GPU.
$PY -m training.train --data-dir "$DATA" --model resnet50 --epochs 2 --batch-size 256 --image-size 224 \
  --amp bf16 --channels-last --workers "$WORKERS" --output-dir "$OUT" --run-name resnet50 2>&1 | grep -E "epoch [0-9]+:|Run folder"
# 2. Throughput: model step alone (synthetic tensors) and end to end from JPEG files, ours vs the original settings.
for model in resnet50 efficientnet_b0; do
  $PY benchmarks/train_throughput.py --model "$model" --data-dir "$DATA" --batch-size 256 --workers "$WORKERS" \
    --steps 30 --warmup 5 --json "$OUT/train_throughput_$model.json"
done
