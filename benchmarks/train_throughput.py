"""Training throughput (images/s): our settings beside the original project's, on synthetic tensors and a real folder.

    python benchmarks/train_throughput.py --model resnet50 --data-dir ../shared/data/faces-gan --steps 20

"Ours" = AMP (bf16 on CUDA), channels_last on CUDA, --workers loader processes with pinned memory, persistent
workers and prefetch, batch --batch-size. "Original" = fp32, num_workers=0, batch 32, as the seed project's train.py.
Prints a table and writes JSON (--json).
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import sys
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pipeline.cli import resolve_device  # noqa: E402
from pipeline.models import create_model  # noqa: E402
from training.data.dataset import FaceFolderDataset, build_transforms, collate_samples, split_dir  # noqa: E402
from training.fit.engine import autocast_context  # noqa: E402


def get_args_parser() -> argparse.ArgumentParser:
    """Arguments of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="resnet50", help="architecture (default resnet50)")
    parser.add_argument("--data-dir", type=Path, default=None, help="Kaggle-layout folder for the end-to-end case (default: synthetic only)")
    parser.add_argument("--image-size", type=int, default=224, help="input side (default 224)")
    parser.add_argument("--batch-size", type=int, default=128, help="our batch size (default 128)")
    parser.add_argument("--workers", type=int, default=8, help="our loader processes (default 8)")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per case (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    parser.add_argument("--amp", default="bf16", choices=("bf16", "fp16", "none"), help="our mixed precision on CUDA (default bf16)")
    parser.add_argument("--json", type=Path, default=None, help="also write results here (default none)")
    return parser


def synthetic_batches(batch_size: int, image_size: int):
    """The same random batch forever: measures the model step alone."""
    images = torch.randn(batch_size, 3, image_size, image_size)
    labels = torch.randint(0, 2, (batch_size,))
    return itertools.repeat((images, labels))


def folder_batches(data_dir: Path, image_size: int, batch_size: int, workers: int, pin: bool):
    """Batches decoded from JPEG files by a DataLoader, cycling through the Train split."""
    dataset = FaceFolderDataset(split_dir(data_dir, "Train"), build_transforms(True, image_size))
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=workers, collate_fn=collate_samples,
                        pin_memory=pin, persistent_workers=workers > 0, prefetch_factor=4 if workers > 0 else None,
                        drop_last=len(dataset) >= batch_size)
    while True:
        for batch in loader:
            yield batch.images, batch.labels


def time_training(model_name: str, batches, device: torch.device, amp: str | None, channels_last: bool,
                  steps: int, warmup: int) -> float:
    """Images per second over `steps` optimizer steps after `warmup` untimed ones."""
    model = create_model(model_name).to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    seen, start = 0, 0.0
    for step, (images, labels) in enumerate(batches):
        if step == warmup:
            if device.type == "cuda":
                torch.cuda.synchronize()
            seen, start = 0, time.perf_counter()
        if step == warmup + steps:
            break
        images = images.to(device, non_blocking=True)
        if channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        labels = labels.to(device, non_blocking=True)
        with autocast_context(device, amp):
            loss = loss_fn(model(images), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        seen += len(labels)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return seen / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    """Run every case and print the table."""
    args = get_args_parser().parse_args(argv)
    device = resolve_device(args.device)
    cuda = device.type == "cuda"
    # Mixed precision and NHWC pay off on CUDA only (engine.autocast_context ignores amp elsewhere).
    ours = {"amp": None if args.amp == "none" or not cuda else args.amp, "channels_last": cuda}
    original = {"amp": None, "channels_last": False}
    cases = [
        ("synthetic", "original", 32, lambda: synthetic_batches(32, args.image_size), original),
        ("synthetic", "ours", args.batch_size, lambda: synthetic_batches(args.batch_size, args.image_size), ours),
    ]
    if args.data_dir is not None:
        cases += [
            ("folder", "original", 32, lambda: folder_batches(args.data_dir, args.image_size, 32, 0, False), original),
            ("folder", "ours", args.batch_size,
             lambda: folder_batches(args.data_dir, args.image_size, args.batch_size, args.workers, cuda), ours),
        ]
    results = []
    for source, config, batch_size, make_batches, settings in cases:
        rate = time_training(args.model, make_batches(), device, settings["amp"], settings["channels_last"], args.steps, args.warmup)
        results.append({"source": source, "config": config, "batch_size": batch_size, "images_per_s": rate, **settings})
    for row in results:
        baseline = next(r for r in results if r["source"] == row["source"] and r["config"] == "original")
        row["speedup_vs_original"] = row["images_per_s"] / baseline["images_per_s"]
    machine = torch.cuda.get_device_name(device) if cuda else f"{platform.processor() or platform.machine()} CPU, {torch.get_num_threads()} threads"
    print(f"model {args.model}, {args.image_size}px, device {machine}, torch {torch.__version__}")
    print(f"{'source':<10} {'config':<9} {'batch':>5} {'amp':>5} {'NHWC':>5} {'images/s':>10} {'x original':>10}")
    for r in results:
        print(f"{r['source']:<10} {r['config']:<9} {r['batch_size']:>5} {str(r['amp'] or 'fp32'):>5} "
              f"{'yes' if r['channels_last'] else 'no':>5} {r['images_per_s']:>10.1f} {r['speedup_vs_original']:>10.2f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"model": args.model, "image_size": args.image_size, "device": machine,
                                         "torch": str(torch.__version__), "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
