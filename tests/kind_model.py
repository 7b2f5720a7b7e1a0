"""A checkpoint with a kind head whose answers are known in advance: every image is fake (P 0.95), and its kind is
read from its dominant colour channel (red: gan, green: diffusion, blue: swap).

    python -m tests.kind_model MODEL_DIR [--images DIR]   # MODEL_DIR/kinds.pt, and DIR/{gan,diffusion,swap}.png

A resnet18 whose convolutions pass the first three channels through unchanged (the stem and each down-sampling
shortcut copy them, the residual branches add nothing), so the pooled features hold the image's mean R, G and B.
The input is not normalised (mean 0, std 1) and the size is tiny: it scores in a few milliseconds.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from PIL import Image, ImageDraw
from torch import nn

from pipeline import constants as C
from pipeline.checkpoint import CheckpointMeta, save_checkpoint
from pipeline.models import create_model

KIND_COLOURS = {"gan": (200, 40, 40), "diffusion": (40, 200, 40), "swap": (40, 40, 200)}
FAKE_LOGIT = 3.0  # P(fake) = sigmoid(3) = 0.953
STRICT_THRESHOLD = 0.99  # 0.953 is under it but over 0.7 x 0.99: verdict "uncertain"
KIND_GAIN = 4.0  # a dominant channel 0.6 above the others gives P(kind | fake) about 0.85


def colour_kind_model(fake_logit: float = FAKE_LOGIT) -> nn.Module:
    """resnet18 with 2 + 3 outputs: Real/Fake logits 0 and fake_logit, kind logits KIND_GAIN x mean R, G, B."""
    model = create_model("resnet18", num_classes=len(C.CLASS_NAMES) + len(C.KIND_NAMES))
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Conv2d):
                module.weight.zero_()
            elif isinstance(module, nn.BatchNorm2d):
                module.weight.fill_(1.0)
                module.bias.zero_()
                module.running_mean.zero_()
                module.running_var.fill_(1.0)
        centre = model.conv1.kernel_size[0] // 2
        for channel in range(3):
            model.conv1.weight[channel, channel, centre, centre] = 1.0
            for layer in (model.layer2, model.layer3, model.layer4):
                layer[0].downsample[0].weight[channel, channel, 0, 0] = 1.0
        model.fc.weight.zero_()
        model.fc.bias.zero_()
        model.fc.bias[C.FAKE_INDEX] = fake_logit
        for channel in range(3):
            model.fc.weight[len(C.CLASS_NAMES) + channel, channel] = KIND_GAIN
    return model.eval()


def write_kind_checkpoint(path: Path, crop_scale: float = C.CROP_SCALE, threshold: float = C.DEFAULT_THRESHOLD,
                          fake_logit: float = FAKE_LOGIT) -> Path:
    """Save the colour-kind model (P(fake) = sigmoid(fake_logit) for every image) as a self-describing checkpoint
    with a kind head and the given threshold."""
    meta = CheckpointMeta(architecture="resnet18", image_size=32, mean=[0.0, 0.0, 0.0], std=[1.0, 1.0, 1.0],
                          kind_names=list(C.KIND_NAMES), crop_scale=crop_scale, threshold=threshold)
    save_checkpoint(path, colour_kind_model(fake_logit), meta, half=True)
    return path


def kind_image(kind: str, size: int = 160) -> Image.Image:
    """A face-like drawing tinted in the colour the colour-kind model reads as `kind`."""
    red, green, blue = KIND_COLOURS[kind]
    image = Image.new("RGB", (size, size), (red, green, blue))
    draw = ImageDraw.Draw(image)
    draw.ellipse((size * 0.25, size * 0.15, size * 0.75, size * 0.85), fill=(min(red + 40, 255), min(green + 40, 255),
                                                                             min(blue + 40, 255)))
    return image


def main(argv: list[str] | None = None) -> int:
    """Write MODEL_DIR/kinds.pt, its twin kinds_strict.pt whose threshold puts every image in the uncertain band, and,
    with --images, one image of each kind (the browser test's uploads)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", type=Path, help="folder to write kinds.pt into")
    parser.add_argument("--images", type=Path, default=None, help="folder to write gan.png, diffusion.png and "
                        "swap.png into (default none)")
    args = parser.parse_args(argv)
    write_kind_checkpoint(args.model_dir / "kinds.pt")
    write_kind_checkpoint(args.model_dir / "kinds_strict.pt", threshold=STRICT_THRESHOLD)
    if args.images:
        args.images.mkdir(parents=True, exist_ok=True)
        for kind in KIND_COLOURS:
            kind_image(kind, 320).save(args.images / f"{kind}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
