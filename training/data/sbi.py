"""Blended pseudo-fakes, the trace a face swap leaves without any swap tool:
- self-blended images (SBI, Shiohara & Yamasaki, CVPR 2022): a real face blended with a colour-, sharpness- and
  scale-jittered copy of itself inside a blurred, deformed, face-shaped mask;
- cross-identity blends (BI of Face X-ray, Li et al., CVPR 2020): another real face of similar pose, aligned on the
  landmarks and colour-matched, blended over the face inside the same kind of mask.

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


def landmark_points(landmarks) -> np.ndarray:
    """5 landmarks (eyes, nose tip, mouth corners) as a float64 5 x 2 array of pixels."""
    return np.asarray(landmarks, dtype=np.float64).reshape(5, 2)


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
    landmarks = landmark_points(landmarks)
    target = np.asarray(image, dtype=np.float32) / 255
    source = jittered_copy(image, rng)
    mask = blend_mask(image.size, landmarks, rng) * rng.uniform(*C.SBI_BLEND_RATIO)
    return composite(target, source, mask), mask


def composite(target: np.ndarray, source: np.ndarray, mask: np.ndarray) -> Image.Image:
    """The 8-bit image of float pixels `source` blended over `target` by the HxW mask."""
    return to_image(target + (source - target) * mask[..., None])


def to_image(pixels: np.ndarray) -> Image.Image:
    """float HxWx3 pixels in [0, 1] as an 8-bit RGB image."""
    return Image.fromarray(np.round(pixels * 255).astype(np.uint8))


def similarity_transform(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The 2x3 least-squares similarity (scale, rotation, shift) taking source points onto target points (Umeyama)."""
    source_mean, target_mean = source.mean(axis=0), target.mean(axis=0)
    centred_source, centred_target = source - source_mean, target - target_mean
    u, singular, vt = np.linalg.svd(centred_target.T @ centred_source / len(source))
    sign = np.array([1.0, -1.0 if np.linalg.det(u) * np.linalg.det(vt) < 0 else 1.0])
    rotation = u @ np.diag(sign) @ vt
    scale = float((singular * sign).sum() / max(centred_source.var(axis=0).sum(), 1e-9))
    return np.hstack([scale * rotation, (target_mean - scale * rotation @ source_mean)[:, None]])


def pose_distance(source: np.ndarray, target: np.ndarray) -> float:
    """How far two sets of 5 landmarks differ once aligned, in units of the target's eye-to-mouth length."""
    matrix = similarity_transform(source, target)
    moved = source @ matrix[:, :2].T + matrix[:, 2]
    length = max(float(np.hypot(*(target[3:5].mean(axis=0) - target[:2].mean(axis=0)))), 1.0)
    return float(np.linalg.norm(moved - target, axis=1).mean() / length)


def warp(image: Image.Image, matrix: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(float32 HxWx3 pixels, HxW coverage in [0, 1]) of `image` moved by the 2x3 `matrix` onto a canvas of `size`."""
    inverse = np.linalg.inv(np.vstack([matrix, [0.0, 0.0, 1.0]]))[:2]
    coefficients = tuple(float(c) for c in inverse.ravel())
    moved = image.transform(size, Image.AFFINE, coefficients, resample=Image.BILINEAR)
    coverage = Image.new("L", image.size, 255).transform(size, Image.AFFINE, coefficients, resample=Image.BILINEAR)
    return np.asarray(moved, dtype=np.float32) / 255, np.asarray(coverage, dtype=np.float32) / 255


def match_colour(source: np.ndarray, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The source pixels with each channel's mean and spread inside the mask set to the target's there."""
    inside = mask > 0.5
    if inside.sum() < 16:
        return source
    source_in, target_in = source[inside], target[inside]
    spread = target_in.std(axis=0) / np.maximum(source_in.std(axis=0), 1e-3)
    return np.clip((source - source_in.mean(axis=0)) * np.minimum(spread, 3.0) + target_in.mean(axis=0), 0, 1)


def cross_blend(image: Image.Image, landmarks, donor: Image.Image, donor_landmarks,
                rng: np.random.Generator) -> tuple[Image.Image, np.ndarray]:
    """(pseudo-fake, mask used): the donor's face, aligned on the landmarks, colour-matched and sometimes blurred,
    blended over the image's face."""
    image = image.convert("RGB")
    landmarks, donor_landmarks = landmark_points(landmarks), landmark_points(donor_landmarks)
    source, coverage = warp(donor.convert("RGB"), similarity_transform(donor_landmarks, landmarks), image.size)
    target = np.asarray(image, dtype=np.float32) / 255
    mask = blend_mask(image.size, landmarks, rng) * coverage
    source = match_colour(source, target, mask)
    sigma = rng.uniform(*C.SBI_BLUR_SIGMA)
    if sigma > 0.2:
        source = np.asarray(to_image(source).filter(ImageFilter.GaussianBlur(sigma)), dtype=np.float32) / 255
    mask = mask * rng.uniform(*C.BI_BLEND_RATIO)
    return composite(target, source, mask), mask
