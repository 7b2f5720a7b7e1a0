"""Facts shared by training, evaluation and serving: one place for each."""

from pathlib import Path

# Class order is the index order of the model's outputs. Label 0 = Real, 1 = Fake.
CLASS_NAMES: tuple[str, ...] = ("Real", "Fake")
REAL_INDEX = 0
FAKE_INDEX = 1

# Kaggle "deepfake and real images" layout: DATA_DIR/<split>/<class>/*.jpg
SPLITS: tuple[str, ...] = ("Train", "Validation", "Test")
IMAGE_EXTENSIONS: frozenset[str] = frozenset({".jpg", ".jpeg", ".png", ".webp"})
# Clips the predict command and the bulk scan pick up in folders (the server recognises clips from their bytes).
VIDEO_EXTENSIONS: frozenset[str] = frozenset({".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi"})

IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)
DEFAULT_IMAGE_SIZE = 224
DEFAULT_THRESHOLD = 0.5
MAX_THRESHOLD = 0.95  # training.package --max-false-fake-rate never raises the threshold above this
# Temperature scaling may soften an overconfident model but never sharpen it (see metrics.fit_temperature).
MIN_TEMPERATURE = 1.0
MAX_TEMPERATURE = 20.0

# Training augmentation strengths (see README "Augmentation").
AUG_SCALE = (0.8, 1.0)
AUG_RATIO = (0.9, 1.1)
AUG_JPEG_QUALITY = (60, 100)
AUG_JPEG_PROBABILITY = 0.5
AUG_BLUR_PROBABILITY = 0.2
AUG_BLUR_SIGMA = (0.1, 1.0)
AUG_RESCALE_PROBABILITY = 0.2
AUG_RESCALE_FACTOR = (0.5, 1.0)

NPR_GAIN = 10.0  # scale of the neighbouring-pixel residual the npr_resnet model sees (pipeline/models.py)

# Data mixes (training/mix.py, crops.py, splits.py, mixdata.py, sbi.py; documented in config/data-mix.yaml).
MIX_VALIDATION_FRACTION = 0.15
MIX_TEST_FRACTION = 0.15
MIX_FRAMES_PER_CLIP = 16
MIX_MAX_FACES = 3  # faces kept per real photo (a fake photo keeps its most confident face)
MIX_HASH_SIZE = 16  # difference hash of 16 x 16 bits
MIX_NEAR_DUPLICATE_BITS = 12  # difference hashes this close (of 256 bits) are the same picture
SBI_SOURCE = "sbi"  # the self-blended pseudo-fakes, a source of their own in every per-source table
# Every class goes through the same random resize (short side, pixels) and JPEG re-compression before the usual
# augmentation, so that size and compression history say nothing about the label.
EQUALISE_SIDE = (96, 320)
# Colour jitter of the same step (factors for PIL's ImageEnhance, hue shift as a fraction of the colour wheel):
# the sources differ in palette (CelebA's look, diffusion portraits' grading), which must not tell the label.
EQUALISE_BRIGHTNESS = (0.75, 1.25)
EQUALISE_CONTRAST = (0.75, 1.25)
EQUALISE_SATURATION = (0.6, 1.4)
EQUALISE_HUE_SHIFT = 0.04
EQUALISE_GRAYSCALE_PROBABILITY = 0.05
EQUALISE_JPEG_QUALITY = (55, 95)
EQUALISE_JPEG_PROBABILITY = 0.9
# Self-blended images (Shiohara & Yamasaki, CVPR 2022), made from 5 detector landmarks.
SBI_SCALE = (0.95, 1.05)
SBI_SHIFT = 0.03  # fraction of the crop side
SBI_BRIGHTNESS = (-0.1, 0.1)
SBI_CONTRAST = (0.9, 1.1)
SBI_CHANNEL_SHIFT = 0.06
SBI_BLUR_SIGMA = (0.0, 1.5)
SBI_SHARPEN_PROBABILITY = 0.3
SBI_MASK_BLUR = (0.02, 0.08)  # Gaussian sigma as a fraction of the eye-to-mouth-scaled face size
SBI_BLEND_RATIO = (0.5, 1.0)
# Landmarks (fractions of the side) of a face crop made like the server's (face box x CROP_SCALE, centred), for
# `faces` sources where the detector finds no face in the crop: eyes, nose tip, mouth corners.
CANONICAL_LANDMARKS = ((0.425, 0.45), (0.575, 0.45), (0.5, 0.54), (0.44, 0.64), (0.56, 0.64))

CHECKPOINT_FORMAT_VERSION = 1

# Exit codes of every command.
EXIT_OK = 0
EXIT_BAD_INPUT = 2

REPO_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = REPO_ROOT / "models"
DEFAULT_MODEL_NAME = "efficientnet_lite0-mix"
WEIGHTS_DIR = REPO_ROOT / "weights"

# Face detection (pipeline/faces.py). Detection runs on a copy whose long side is at most DETECT_MAX_SIDE.
FACE_DETECTORS: tuple[str, ...] = ("yunet", "retinaface", "mtcnn")
DEFAULT_FACE_DETECTOR = "yunet"
DETECT_MAX_SIDE = 320
YUNET_MIN_CONFIDENCE = 0.7
RETINAFACE_MIN_CONFIDENCE = 0.5
MTCNN_MIN_CONFIDENCE = 0.9
DETECT_NMS_IOU = 0.3
DETECT_TOP_K = 50
YUNET_WEIGHTS = Path(__file__).resolve().parent / "weights" / "yunet_s_dynamic.onnx"
YUNET_SHA256 = "daede24002cc8590f457998cc5e6c9e8b82f45f6bd969506a8913cd4ed10a2d3"
# Training crops (CelebA, Kaggle) show the face at about half the crop's width: the face box x 2, made square.
CROP_SCALE = 2.0
# A JPEG whose shorter side is at least twice this is decoded at 1/2, 1/4 or 1/8 scale, keeping it >= this.
DECODE_MIN_SIDE = 1024

# Clips (pipeline/video.py). Frames are sampled uniformly over the duration and scaled to VIDEO_FRAME_MAX_SIDE.
MIN_IMAGE_SIDE = 16
MAX_VIDEO_DURATION_S = 600
MAX_VIDEO_PIXELS = 4096 * 2160  # DCI 4K; 8K frames cost ~50 MB each to decode
# Packets (frames) a clip may have: 10 minutes at 240 fps. Bounds the demuxing and the keyframe index of a clip.
MAX_VIDEO_FRAME_COUNT = 600 * 240
VIDEO_FRAME_MAX_SIDE = 1280
DEFAULT_VIDEO_FRAMES = 16
MAX_VIDEO_FRAMES = 64
# Faces in consecutive sampled frames belong to one track when their boxes overlap this much (IoU).
TRACK_IOU = 0.3
TRACK_AGGREGATION = "top_half_mean"
# A clip frame without a face is kept (for its whole-frame score) as a copy at most this long.
VIDEO_WHOLE_FRAME_SIDE = 448
