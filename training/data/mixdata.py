"""Data-mix data sets: cached crops plus blended pseudo-fakes (self-blends, cross-identity blends), drawn
class-balanced by source weight, every class through the same random resize and re-compression (no free cues), then
the usual augmentation."""

from __future__ import annotations

import io
import json
from typing import Callable, Iterator, Mapping

import numpy as np
import pandas as pd
import torch
from PIL import Image, ImageEnhance, ImageFilter
from torch.utils.data import Dataset, Sampler

from pipeline import constants as C
from pipeline.media import IMAGE_DECODE_ERRORS, decode_image

from .dataset import Sample
from .sbi import cross_blend, landmark_points, pose_distance, self_blend


def equalise(image: Image.Image, rng: np.random.Generator) -> tuple[Image.Image, int]:
    """The degradation chain every class passes (colour, resample, blur or sharpen, noise, JPEG), drawn from one
    distribution; returns (image, JPEG quality or 100)."""
    image = jitter_colour(image, rng)
    short = rng.integers(C.EQUALISE_SIDE[0], C.EQUALISE_SIDE[1] + 1)
    scale = short / min(image.size)
    resample = Image.BICUBIC if scale > 1 else Image.BILINEAR if rng.random() < 0.5 else Image.LANCZOS
    image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), resample)
    image = blur_or_sharpen(image, rng)
    if rng.random() < C.EQUALISE_NOISE_PROBABILITY:
        image = add_noise(image, rng)
    if rng.random() >= C.EQUALISE_JPEG_PROBABILITY:
        return image, 100
    quality = int(rng.integers(C.EQUALISE_JPEG_QUALITY[0], C.EQUALISE_JPEG_QUALITY[1] + 1))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB"), quality


def blur_or_sharpen(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A Gaussian blur, or else sometimes an unsharp mask, or neither."""
    if rng.random() < C.EQUALISE_BLUR_PROBABILITY:
        return image.filter(ImageFilter.GaussianBlur(float(rng.uniform(*C.EQUALISE_BLUR_SIGMA))))
    if rng.random() < C.EQUALISE_SHARPEN_PROBABILITY:
        return image.filter(ImageFilter.UnsharpMask(radius=2, percent=int(rng.integers(*C.EQUALISE_SHARPEN_PERCENT)), threshold=2))
    return image


def add_noise(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Gaussian noise of a random strength, like a small sensor's, clipped to 8 bits."""
    pixels = np.asarray(image, dtype=np.float32)
    pixels = pixels + rng.normal(0.0, rng.uniform(*C.EQUALISE_NOISE_SIGMA), pixels.shape).astype(np.float32)
    return Image.fromarray(np.clip(pixels + 0.5, 0, 255).astype(np.uint8))


def jitter_colour(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Random brightness, contrast, saturation and hue (sometimes grey), so that a source's palette is no label."""
    for enhancer, (low, high) in ((ImageEnhance.Brightness, C.EQUALISE_BRIGHTNESS),
                                  (ImageEnhance.Contrast, C.EQUALISE_CONTRAST),
                                  (ImageEnhance.Color, C.EQUALISE_SATURATION)):
        image = enhancer(image).enhance(float(rng.uniform(low, high)))
    hsv = np.asarray(image.convert("HSV")).copy()
    hsv[..., 0] = (hsv[..., 0].astype(np.int16) + round(rng.uniform(-1, 1) * C.EQUALISE_HUE_SHIFT * 256)) % 256
    image = Image.fromarray(hsv, "HSV").convert("RGB")
    if rng.random() < C.EQUALISE_GRAYSCALE_PROBABILITY:
        image = image.convert("L").convert("RGB")
    return image


def mix_items(records: pd.DataFrame, pseudo_weights: Mapping[str, float], blend_sources: set[str]) -> pd.DataFrame:
    """One row per example: every record, plus for each pseudo-fake source of positive weight (sbi, bi) a
    pseudo-fake of each real face with landmarks of the blend sources; `pseudo` names the kind of row ("" or one of
    C.PSEUDO_FAKE_SOURCES)."""
    items = records.assign(record=np.arange(len(records)), pseudo="")
    real = items[(items["label"] == C.REAL_INDEX) & (items["landmarks"] != "") & items["source"].isin(blend_sources)]
    pseudo = [real.assign(pseudo=name, label=C.FAKE_INDEX, source=name, tag=name, family="swap")
              for name in C.PSEUDO_FAKE_SOURCES if pseudo_weights.get(name, 0) > 0]
    return pd.concat([items, *pseudo], ignore_index=True).reset_index(drop=True)


def kind_targets(items: pd.DataFrame) -> torch.Tensor:
    """Index into C.KIND_NAMES of each item's family, -1 for reals and fakes of no known kind (ignored by the loss)."""
    families = items["family"] if "family" in items else pd.Series([""] * len(items))
    return torch.tensor([C.KIND_NAMES.index(f) if f in C.KIND_NAMES else -1 for f in families], dtype=torch.long)


def sampling_weights(items: pd.DataFrame, source_weights: dict[str, float]) -> np.ndarray:
    """Per-item probabilities: classes 50/50, sources by weight within a class, items uniform within a source."""
    weights = np.zeros(len(items))
    for label in (C.REAL_INDEX, C.FAKE_INDEX):
        in_class = items["label"] == label
        total = sum(source_weights[s] for s in items.loc[in_class, "source"].unique())
        for source, rows in items[in_class].groupby("source").groups.items():
            weights[rows] = source_weights[source] / total / len(rows)
    return weights / weights.sum()


class MixDataset(Dataset):
    """Examples of one split of a mix. Training keys encode (draw, item) so each draw gets fresh, seeded randomness."""

    def __init__(self, records: pd.DataFrame, transform: Callable[[Image.Image], torch.Tensor], train: bool,
                 seed: int = 0, pseudo_weights: Mapping[str, float] | None = None,
                 blend_sources: set[str] | None = None):
        pseudo_weights = {C.SBI_SOURCE: 1.0} if pseudo_weights is None else pseudo_weights
        self.items = mix_items(records.reset_index(drop=True), pseudo_weights, blend_sources or set(records["source"]))
        self.transform, self.train, self.seed = transform, train, seed
        self.samples = list(zip(self.items["file"], self.items["label"]))  # (path, label) as FaceFolderDataset
        self.kinds = kind_targets(self.items)
        # The real faces a cross-identity blend may take its donor from: those of this split that are blended over.
        self.donors = self.items.loc[self.items["pseudo"] == C.BI_SOURCE, "record"].to_numpy()
        self.donor_landmarks = {int(record): landmark_points(json.loads(self.items["landmarks"].iloc[record]))
                                for record in self.donors}

    def __len__(self) -> int:
        return len(self.items)

    def view(self, key: int) -> tuple[Image.Image, int, int]:
        """(PIL image before the tensor transform, label, JPEG quality of its re-compression or 100) of a key."""
        item, draw = key % len(self.items), key // len(self.items)
        row = self.items.iloc[item]
        rng = np.random.default_rng([self.seed, draw, item] if self.train else [self.seed, item])
        image, quality = decode_image(row["crop"]), 100
        if row["pseudo"] == C.SBI_SOURCE:
            image, _ = self_blend(image, json.loads(row["landmarks"]), rng)
        elif row["pseudo"] == C.BI_SOURCE:
            record = int(row["record"])
            donor = self.pick_donor(record, rng)
            image, _ = cross_blend(image, self.donor_landmarks[record], decode_image(self.items["crop"].iloc[donor]),
                                   self.donor_landmarks[donor], rng)
        if self.train:
            image, quality = equalise(image, rng)
        return image, int(row["label"]), quality

    def pick_donor(self, record: int, rng: np.random.Generator) -> int:
        """The record of another real face to blend over `record`'s: of C.BI_CANDIDATES drawn at random, the one
        closest in pose (its record itself when it is the only real face)."""
        others = self.donors[self.donors != record]
        if not len(others):
            return record
        candidates = rng.choice(others, size=min(C.BI_CANDIDATES, len(others)), replace=False)
        target = self.donor_landmarks[record]
        distances = [pose_distance(self.donor_landmarks[int(c)], target) for c in candidates]
        return int(candidates[int(np.argmin(distances))])

    def __getitem__(self, key: int) -> Sample:
        item = key % len(self.items)
        try:
            image, label, _ = self.view(key)
            tensor = self.transform(image)
        except IMAGE_DECODE_ERRORS:
            tensor, label = None, int(self.items["label"].iloc[item])
        return Sample(tensor, label, item, str(self.items["crop"].iloc[item]))

    def sources(self, indices, column: str = "source") -> np.ndarray:
        """Source names (or another column: tag, family) of item indices (as collected by engine.collect_logits)."""
        return self.items[column].to_numpy()[np.asarray(indices, dtype=np.int64)]

    def class_counts(self) -> dict[str, int]:
        """Number of examples per class name (pseudo-fakes included)."""
        return {name: int((self.items["label"] == i).sum()) for i, name in enumerate(C.CLASS_NAMES)}

    def source_counts(self) -> dict[str, int]:
        """Number of examples per source."""
        return {str(k): int(v) for k, v in self.items["source"].value_counts().sort_index().items()}


def split_dataset(records: pd.DataFrame, mix, split: str, transform: Callable[[Image.Image], torch.Tensor],
                  train: bool, seed: int) -> MixDataset:
    """The examples of one split of a mix. The Wild split gets no pseudo-fakes: blending is no held-out source."""
    pseudo_weights = {} if split == C.WILD_SPLIT else mix.pseudo_fake_weights()
    return MixDataset(records[records["split"] == split], transform, train, seed, pseudo_weights,
                      {s.name for s in mix.sources if s.sbi})


class MixSampler(Sampler[int]):
    """Draws `num_samples` items per epoch with replacement by sampling weight; seeded by (seed, epoch)."""

    def __init__(self, weights: np.ndarray, num_samples: int, seed: int = 0):
        self.weights, self.num_samples, self.seed, self.epoch = torch.as_tensor(weights), num_samples, seed, 0

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose draws come next."""
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        chosen = torch.multinomial(self.weights, self.num_samples, replacement=True, generator=generator)
        first_draw = self.epoch * self.num_samples
        size = len(self.weights)
        return iter([(first_draw + position) * size + int(item) for position, item in enumerate(chosen)])
