"""Data sets in the Kaggle layout and training augmentation; decoding and preprocessing come from pipeline."""

from __future__ import annotations

import io
import logging
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from PIL import Image, ImageFilter
from torch.utils.data import Dataset
from torchvision import transforms

from pipeline import constants as C
from pipeline.errors import DataError
from pipeline.media import IMAGE_DECODE_ERRORS, decode_image  # noqa: F401 (re-exported for training code)
from pipeline.preprocess import normalize, resize_square

logger = logging.getLogger(__name__)


def build_transforms(
    train: bool,
    image_size: int = C.DEFAULT_IMAGE_SIZE,
    mean: Sequence[float] = C.IMAGENET_MEAN,
    std: Sequence[float] = C.IMAGENET_STD,
    min_crop_scale: float = C.AUG_SCALE[0],
) -> Callable[[Image.Image], torch.Tensor]:
    """Return the PIL-to-tensor pipeline: augmented for training, deterministic otherwise.

    min_crop_scale is the smallest area fraction RandomResizedCrop keeps: lower values teach tighter framings.
    """
    if not train:
        return EvalTransform(image_size, mean, std)
    return transforms.Compose(
        [
            transforms.RandomResizedCrop(image_size, scale=(min_crop_scale, C.AUG_SCALE[1]), ratio=C.AUG_RATIO),
            transforms.RandomHorizontalFlip(),
            transforms.RandomApply([DownUpscale(C.AUG_RESCALE_FACTOR)], p=C.AUG_RESCALE_PROBABILITY),
            transforms.RandomApply([GaussianBlur(C.AUG_BLUR_SIGMA)], p=C.AUG_BLUR_PROBABILITY),
            transforms.RandomApply([JpegRecompress(C.AUG_JPEG_QUALITY)], p=C.AUG_JPEG_PROBABILITY),
            ToNormalizedTensor(mean, std),
        ]
    )


class ToNormalizedTensor:
    """An RGB image as a normalised CxHxW tensor, with the server's normalisation (pipeline.preprocess)."""

    def __init__(self, mean: Sequence[float], std: Sequence[float]):
        self.mean, self.std = mean, std

    def __call__(self, image: Image.Image) -> torch.Tensor:
        return torch.from_numpy(normalize(np.asarray(image.convert("RGB")), self.mean, self.std))


class EvalTransform(ToNormalizedTensor):
    """Evaluation preprocessing: exactly what the server feeds the model (square resize, then normalise)."""

    def __init__(self, image_size: int, mean: Sequence[float], std: Sequence[float]):
        super().__init__(mean, std)
        self.image_size = image_size

    def __call__(self, image: Image.Image) -> torch.Tensor:
        return super().__call__(resize_square(image, self.image_size))


def preprocess(image: Image.Image, image_size: int, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """Turn one RGB image into a normalised 1xCxHxW batch, exactly as evaluation does."""
    return build_transforms(False, image_size, mean, std)(image).unsqueeze(0)


class JpegRecompress:
    """Re-encode as JPEG at a random quality: detectors must not key on compression traces."""

    def __init__(self, quality: tuple[int, int]):
        self.quality = quality

    def __call__(self, image: Image.Image) -> Image.Image:
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=random.randint(*self.quality))
        buffer.seek(0)
        return Image.open(buffer).convert("RGB")


class GaussianBlur:
    """Blur slightly: uploads are often resampled, which wipes out GAN high-frequency artefacts."""

    def __init__(self, sigma: tuple[float, float]):
        self.sigma = sigma

    def __call__(self, image: Image.Image) -> Image.Image:
        return image.filter(ImageFilter.GaussianBlur(random.uniform(*self.sigma)))


class DownUpscale:
    """Downscale and upscale back, imitating resized re-uploads."""

    def __init__(self, factor: tuple[float, float]):
        self.factor = factor

    def __call__(self, image: Image.Image) -> Image.Image:
        width, height = image.size
        scale = random.uniform(*self.factor)
        small = image.resize((max(1, int(width * scale)), max(1, int(height * scale))), Image.BILINEAR)
        return small.resize((width, height), Image.BILINEAR)


def list_images(folder: Path) -> list[Path]:
    """Every image file directly inside a folder, sorted for reproducibility."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in C.IMAGE_EXTENSIONS)


def find_samples(root: Path) -> list[tuple[Path, int]]:
    """List (path, label) pairs of ROOT/Real and ROOT/Fake, or raise DataError naming what is missing."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"Data folder not found: {root}")
    samples: list[tuple[Path, int]] = []
    for label, class_name in enumerate(C.CLASS_NAMES):
        class_dir = root / class_name
        if not class_dir.is_dir():
            raise DataError(f"Class folder not found: {class_dir} (expected {' and '.join(C.CLASS_NAMES)} inside {root})")
        images = list_images(class_dir)
        if not images:
            raise DataError(f"No images ({', '.join(sorted(C.IMAGE_EXTENSIONS))}) in class folder {class_dir}")
        samples.extend((path, label) for path in images)
    return samples


def split_dir(data_dir: Path, split: str) -> Path:
    """The folder of one split of a Kaggle-layout data set."""
    if split not in C.SPLITS:
        raise DataError(f"Unknown split {split!r}: choose one of {', '.join(C.SPLITS)}")
    return Path(data_dir) / split


@dataclass(frozen=True)
class Sample:
    """One decoded example; `image` is None when the file could not be read."""

    image: torch.Tensor | None
    label: int
    index: int
    path: str


class FaceFolderDataset(Dataset):
    """Images under ROOT/Real and ROOT/Fake; unreadable files come back as skipped samples."""

    def __init__(self, root: Path, transform: Callable[[Image.Image], torch.Tensor]):
        self.root = Path(root)
        self.samples = find_samples(self.root)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> Sample:
        path, label = self.samples[index]
        try:
            image = self.transform(decode_image(path))
        except IMAGE_DECODE_ERRORS as error:
            logger.warning("Skipping unreadable image %s (%s)", path, error.__class__.__name__)
            image = None
        return Sample(image, label, index, str(path))

    def class_counts(self) -> dict[str, int]:
        """Number of files per class name."""
        counts = {name: 0 for name in C.CLASS_NAMES}
        for _, label in self.samples:
            counts[C.CLASS_NAMES[label]] += 1
        return counts


@dataclass
class Batch:
    """A collated batch with the paths of the files that could not be read."""

    images: torch.Tensor
    labels: torch.Tensor
    indices: torch.Tensor
    skipped: list[str]

    def __len__(self) -> int:
        return len(self.labels)

    def pin_memory(self) -> "Batch":
        """Pin tensors so host-to-GPU copies can run asynchronously."""
        return Batch(self.images.pin_memory(), self.labels.pin_memory(), self.indices.pin_memory(), self.skipped)


def collate_samples(samples: list[Sample]) -> Batch:
    """Stack readable samples and carry the paths of unreadable ones."""
    good = [s for s in samples if s.image is not None]
    skipped = [s.path for s in samples if s.image is None]
    if not good:
        return Batch(torch.empty(0), torch.empty(0, dtype=torch.long), torch.empty(0, dtype=torch.long), skipped)
    return Batch(
        torch.stack([s.image for s in good]),
        torch.tensor([s.label for s in good], dtype=torch.long),
        torch.tensor([s.index for s in good], dtype=torch.long),
        skipped,
    )
