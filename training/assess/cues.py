"""The cue check: can a tiny classifier on trivial features (image and face pixel size, JPEG quality, mean colour,
sharpness, noise level, background blur) tell Real from Fake in a data mix? Near 0.5 means the mix does not leak its
labels through them.

`python -m training.cues --data-mix FILE` reports two views of the Train split, drawn as training draws it:
`raw` (each crop with its source file's JPEG quality) and `as trained` (after the pseudo-fake blending and the
random resize and re-compression every class goes through).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.model_selection import cross_val_score

from pipeline import constants as C
from pipeline.cli import ArgumentParser, run_command

from ..data.crops import mix_records
from ..data.dataset import IMAGE_DECODE_ERRORS, decode_image
from ..data.mix import load_mix
from ..data.mixdata import MixDataset, MixSampler, sampling_weights, split_dataset

logger = logging.getLogger(__name__)
FEATURES = ["width", "height", "face_px", "jpeg_quality", "mean_r", "mean_g", "mean_b", "sharpness", "noise",
            "background_blur"]
# Immerkaer's noise-estimation kernel: the difference of two Laplacians, blind to edges of constant slope.
NOISE_KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)
# libjpeg's standard luminance quantisation table (quality 50), for estimating a JPEG's quality.
STANDARD_LUMA = np.array([16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69,
                          56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104,
                          113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99], dtype=float)


def jpeg_quality(path: str) -> float:
    """Estimated JPEG quality (1-100) of a file from its luminance quantisation table; 100 for lossless images,
    0 for a video (its frames carry a codec's compression instead)."""
    try:
        with Image.open(path) as image:
            tables = getattr(image, "quantization", None)
    except IMAGE_DECODE_ERRORS:
        return 0.0
    if not tables:
        return 100.0
    scale = 100 * np.mean(np.asarray(tables[0], dtype=float)) / STANDARD_LUMA.mean()
    return float(np.clip((200 - scale) / 2 if scale <= 100 else 5000 / scale, 1, 100))


def laplacian(grey: np.ndarray) -> np.ndarray:
    """4-neighbour Laplacian of a 2-D array (one pixel smaller on each side)."""
    return grey[1:-1, :-2] + grey[1:-1, 2:] + grey[:-2, 1:-1] + grey[2:, 1:-1] - 4 * grey[1:-1, 1:-1]


def noise_level(grey: np.ndarray) -> float:
    """Standard deviation of white noise in a grey image (Immerkaer 1996)."""
    height, width = grey.shape
    response = sum(NOISE_KERNEL[i, j] * grey[i:height - 2 + i, j:width - 2 + j] for i in range(3) for j in range(3))
    return float(np.sqrt(np.pi / 2) * np.abs(response).mean() / 6)


def background_blur(grey: np.ndarray) -> float:
    """log of centre over border sharpness: high for a sharp face before a blurred background (shallow depth of
    field), near 0 when the whole crop is equally sharp. The face fills the centre half of a server crop."""
    edges = laplacian(grey) ** 2
    height, width = edges.shape
    centre = np.zeros_like(edges, dtype=bool)
    centre[height // 4: height - height // 4, width // 4: width - width // 4] = True
    return float(np.log((edges[centre].mean() + 1e-3) / (edges[~centre].mean() + 1e-3)))


def image_features(image: Image.Image, quality: float) -> list[float]:
    """The FEATURES of an image: size, face size, JPEG quality, mean colour, sharpness (variance of the Laplacian),
    noise level and background blur."""
    pixels = np.asarray(image.convert("RGB"), dtype=np.float32)
    grey = pixels.mean(axis=2)
    return [image.width, image.height, min(image.size) / C.CROP_SCALE, quality, *pixels.reshape(-1, 3).mean(axis=0),
            float(laplacian(grey).var()), noise_level(grey), background_blur(grey)]


def cue_features(dataset: MixDataset, keys: list[int], view: str) -> tuple[np.ndarray, np.ndarray]:
    """Feature matrix and labels of drawn examples, in the `raw` or `as trained` view."""
    rows, labels = [], []
    for key in keys:
        item = dataset.items.iloc[key % len(dataset)]
        if view == "raw":
            image, quality = decode_image(item["crop"]), jpeg_quality(item["file"])
        else:
            image, _, quality = dataset.view(key)
        rows.append(image_features(image, quality))
        labels.append(int(item["label"]))
    return np.asarray(rows), np.asarray(labels)


def cue_accuracy(features: np.ndarray, labels: np.ndarray, seed: int = 0) -> float:
    """5-fold cross-validated balanced accuracy of a small gradient-boosted tree model on the features."""
    model = GradientBoostingClassifier(n_estimators=100, max_depth=3, random_state=seed)
    return float(cross_val_score(model, features, labels, cv=5, scoring="balanced_accuracy").mean())


def cue_check(mix_path: Path, samples: int, seed: int, crop_cache: Path | None = None, split: str = "Train") -> dict:
    """Cue-check accuracy of both views on `samples` draws of a split, as training draws them."""
    mix = load_mix(mix_path)
    records = mix_records(mix, crop_cache)
    dataset = split_dataset(records, mix, split, lambda image: image, True, seed)
    weights = mix.sampling_weights()
    keys = list(MixSampler(sampling_weights(dataset.items, weights), samples, seed))
    report = {"data_mix": str(mix_path), "split": split, "samples": samples, "features": FEATURES}
    for view in ("raw", "as trained"):
        features, labels = cue_features(dataset, keys, view)
        report[view] = cue_accuracy(features, labels, seed)
        report[f"{view} by feature"] = {name: cue_accuracy(features[:, [i]], labels, seed) for i, name in enumerate(FEATURES)}
        logger.info("cue check (%s): balanced accuracy %.3f; one feature at a time: %s", view, report[view],
                    ", ".join(f"{k} {v:.3f}" for k, v in report[f"{view} by feature"].items()))
    return report


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    """Arguments of the cues command."""
    parser = ArgumentParser(description="How well do trivial image features tell Real from Fake in a data mix?", add_help=add_help)
    parser.add_argument("--data-mix", type=Path, required=True, help="data mix YAML (required)")
    parser.add_argument("--samples", type=int, default=2000, help="examples drawn from the split (default 2000)")
    parser.add_argument("--split", choices=C.MIX_SPLITS, default="Train", help="split to draw from (default Train)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--crop-cache", type=Path, default=None, help="face crop cache (default ~/.cache/deepfake-detector/crops)")
    parser.add_argument("--output", type=Path, default=None, help="also write the result as JSON here (default none)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m training.cues`."""
    def run(args: argparse.Namespace) -> int:
        report = cue_check(args.data_mix, args.samples, args.seed, args.crop_cache, args.split)
        print(f"cue check on {args.samples} {args.split} draws: raw {report['raw']:.3f}, as trained {report['as trained']:.3f} "
              "(balanced accuracy; 0.5 = no leak)")
        if args.output:
            args.output.write_text(json.dumps(report, indent=2))
        return C.EXIT_OK
    return run_command(get_args_parser(), run, argv)


if __name__ == "__main__":
    sys.exit(main())
