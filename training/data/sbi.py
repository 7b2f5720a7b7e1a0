"""Self-blended images (SBI, Shiohara & Yamasaki, CVPR 2022): a real face blended with a colour-, sharpness- and
scale-jittered copy of itself inside a blurred, deformed, face-shaped mask, as a pseudo-fake.

The mask comes from the detector's 5 landmarks (eyes, nose tip, mouth corners): an oval from above the brows to
the chin, as wide as the cheeks, tilted with the eye line, its outline deformed by random low-frequency waves and
then blurred. Every random choice comes from the numpy Generator passed in, so a seed fixes the pixels.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from pipeline import constants as C

OUTLINE_POINTS = 48


def face_outline(landmarks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A deformed face-shaped polygon (OUTLINE_POINTS x 2) from 5 landmarks in pixels."""
    eyes, mouth = landmarks[:2].mean(axis=0), landmarks[3:5].mean(axis=0)
    down = mouth - eyes
    length = max(float(np.hypot(*down)), 1.0)
    down /= length
    right = np.array([-down[1], down[0]])
    eye_span = max(float(np.hypot(*(landmarks[1] - landmarks[0]))), length * 0.8)
    top, bottom = -0.6 * length * rng.uniform(0.8, 1.2), 1.75 * length * rng.uniform(0.9, 1.1)
    centre = eyes + down * (top + bottom) / 2
    half_height, half_width = (bottom - top) / 2, 0.95 * eye_span * rng.uniform(0.85, 1.1)
    angles = np.linspace(0, 2 * math.pi, OUTLINE_POINTS, endpoint=False)
    wobble = np.ones_like(angles)
    for frequency in (2, 3, 4):
        wobble += rng.uniform(-0.06, 0.06) * np.sin(frequency * angles + rng.uniform(0, 2 * math.pi))
    x, y = np.cos(angles) * half_width * wobble, np.sin(angles) * half_height * wobble
    return centre + np.outer(x, right) + np.outer(y, down)


def blend_mask(size: tuple[int, int], landmarks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A float32 HxW mask in [0, 1]: the filled outline, blurred; values under 1/255 set to exactly 0."""
    outline = face_outline(landmarks, rng)
    canvas = Image.new("L", size, 0)
    ImageDraw.Draw(canvas).polygon([tuple(p) for p in outline.tolist()], fill=255)
    face_size = float(np.ptp(outline, axis=0).max())
    sigma = max(1.0, face_size * rng.uniform(*C.SBI_MASK_BLUR))
    mask = np.asarray(canvas.filter(ImageFilter.GaussianBlur(sigma)), dtype=np.float32) / 255
    mask[mask < 1 / 255] = 0
    return mask


def jittered_copy(image: Image.Image, rng: np.random.Generator) -> np.ndarray:
    """The source face: the image rescaled and shifted a little, re-coloured, blurred or sharpened (float32 HxWx3)."""
    width, height = image.size
    scale = rng.uniform(*C.SBI_SCALE)
    dx, dy = rng.uniform(-C.SBI_SHIFT, C.SBI_SHIFT, size=2) * (width, height)
    cx, cy = width / 2, height / 2
    # Inverse affine map (output -> input pixel) of a scale about the centre plus a shift.
    coefficients = (1 / scale, 0, cx - (cx + dx) / scale, 0, 1 / scale, cy - (cy + dy) / scale)
    moved = image.transform(image.size, Image.AFFINE, coefficients, resample=Image.BILINEAR)
    sigma = rng.uniform(*C.SBI_BLUR_SIGMA)
    if rng.random() < C.SBI_SHARPEN_PROBABILITY:
        moved = moved.filter(ImageFilter.UnsharpMask(radius=2, percent=int(rng.uniform(50, 150)), threshold=0))
    elif sigma > 0.2:
        moved = moved.filter(ImageFilter.GaussianBlur(sigma))
    pixels = np.asarray(moved, dtype=np.float32) / 255
    pixels = (pixels - 0.5) * rng.uniform(*C.SBI_CONTRAST) + 0.5 + rng.uniform(*C.SBI_BRIGHTNESS)
    pixels += rng.uniform(-C.SBI_CHANNEL_SHIFT, C.SBI_CHANNEL_SHIFT, size=3)
    return np.clip(pixels, 0, 1)


def self_blend(image: Image.Image, landmarks, rng: np.random.Generator) -> tuple[Image.Image, np.ndarray]:
    """(pseudo-fake, mask used): the image with a jittered copy of itself blended in over its face."""
    image = image.convert("RGB")
    landmarks = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    target = np.asarray(image, dtype=np.float32) / 255
    source = jittered_copy(image, rng)
    mask = blend_mask(image.size, landmarks, rng) * rng.uniform(*C.SBI_BLEND_RATIO)
    blended = target + (source - target) * mask[..., None]
    return Image.fromarray(np.round(blended * 255).astype(np.uint8)), mask
