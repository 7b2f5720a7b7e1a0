"""Decoding, preprocessing and scoring shared by every caller: parity with torchvision, reduced JPEG decoding,
and a batch scored at once equal to its images scored one by one."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import transforms

from pipeline import constants as C
from pipeline.analysis import analyse_image, face_crops, score_regions
from pipeline.faces import Box, Face
from pipeline.media import decode_image, probe_image
from pipeline.onnx_runtime import OnnxClassifier
from pipeline.preprocess import to_model_input
from pipeline.scoring import fake_probability
from pipeline.torch_runtime import Classifier
from training.data.synthetic import synthetic_face

pytestmark = [pytest.mark.timeout(120)]


def jpeg(image: Image.Image, **save_options) -> bytes:
    """An image encoded as JPEG bytes."""
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90, **save_options)
    return buffer.getvalue()


def test_preprocessing_equals_torchvision():
    images = [synthetic_face(i % 2, i, size) for i, size in enumerate((48, 97, 300))]
    reference = transforms.Compose([transforms.Resize((64, 64)), transforms.ToTensor(),
                                    transforms.Normalize(C.IMAGENET_MEAN, C.IMAGENET_STD)])
    expected = torch.stack([reference(image) for image in images]).numpy()
    actual = to_model_input(images, 64, C.IMAGENET_MEAN, C.IMAGENET_STD)
    assert actual.shape == (3, 3, 64, 64) and actual.dtype == np.float32 and actual.flags.c_contiguous
    np.testing.assert_allclose(actual, expected, atol=1e-6, rtol=0)
    assert to_model_input([], 64, C.IMAGENET_MEAN, C.IMAGENET_STD).shape == (0, 3, 64, 64)


def test_fake_probability_is_a_tempered_softmax():
    logits = np.array([[0.0, 0.0], [1.0, 3.0], [800.0, -800.0]])
    np.testing.assert_allclose(fake_probability(logits), [0.5, 1 / (1 + np.exp(-2)), 0.0], atol=1e-7)
    np.testing.assert_allclose(fake_probability(logits[1:2], 2.0), [1 / (1 + np.exp(-1))], atol=1e-7)
    np.testing.assert_allclose(fake_probability(torch.tensor(logits)), fake_probability(logits))


def test_big_jpeg_is_decoded_at_reduced_scale_but_not_below_min_side():
    big = Image.fromarray(np.random.default_rng(0).integers(0, 256, (2400, 3200, 3), dtype=np.uint8))
    data = jpeg(big)
    assert decode_image(data).size == (3200, 2400)
    assert decode_image(data, min_side=1024).size == (1600, 1200)  # 1/2: 1/4 would be 600 < 1024
    assert decode_image(data, min_side=500).size == (800, 600)
    assert decode_image(data, min_side=300).size == (400, 300)  # 1/8 at most
    assert decode_image(data, min_side=2000).size == (3200, 2400)  # no power-of-two scale keeps 2000
    png = io.BytesIO()
    big.save(png, format="PNG")
    assert decode_image(png.getvalue(), min_side=300).size == (3200, 2400)  # only JPEG has DCT scaling


def test_reduced_decode_keeps_exif_rotation():
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: displays 2400 wide, 3200 high
    data = jpeg(Image.new("RGB", (3200, 2400), (200, 10, 10)), exif=exif)
    assert decode_image(data, min_side=1024).size == (1200, 1600)
    assert probe_image(data, ["JPEG"]) == ("JPEG", (2400, 3200))


@pytest.fixture(scope="module")
def scorers(tiny_checkpoint):
    """The tiny checkpoint in both runtimes."""
    classifier = Classifier.from_checkpoint(tiny_checkpoint)
    return {"torch": classifier, "onnx": OnnxClassifier.from_checkpoint(tiny_checkpoint, classifier)}


@pytest.mark.parametrize("runtime", ["torch", "onnx"])
def test_batch_equals_one_by_one(scorers, runtime):
    scorer = scorers[runtime]
    images = [synthetic_face(i % 2, 100 + i, size) for i, size in enumerate((40, 64, 128, 33, 90))]
    together = scorer.probabilities(images)
    alone = np.concatenate([scorer.probabilities([image]) for image in images])
    np.testing.assert_allclose(together, alone, atol=1e-5, rtol=0)


class FixedDetector:
    """A detector that 'finds' given faces, so crops and aggregation can be checked exactly."""

    def __init__(self, faces):
        self.faces = faces

    def detect(self, image):
        return self.faces


def test_all_faces_of_several_images_scored_in_one_batch_match_one_by_one(scorers):
    scorer = scorers["onnx"]
    marks = ((0, 0),) * 5
    detector = FixedDetector([Face((10, 10, 40, 40), 0.9, marks), Face((60, 20, 100, 60), 0.8, marks)])
    images = [synthetic_face(1, 7, 160), synthetic_face(0, 8, 160)]
    regions = [face_crops(image, detector) for image in images]
    batched = score_regions(regions, scorer.probabilities)
    for image, analysis in zip(images, batched):
        alone = analyse_image(image, scorer.probabilities, detector)
        np.testing.assert_allclose(analysis.probabilities, alone.probabilities, atol=1e-5, rtol=0)
        assert analysis.regions.boxes == [Box(0, 0, 60, 60), Box(40, 0, 80, 80)]
        assert analysis.probability_fake == pytest.approx(float(analysis.probabilities.max()))
    nothing = analyse_image(images[0], scorer.probabilities, FixedDetector([]))
    assert not nothing.regions.face_detected and nothing.regions.boxes == [Box(0, 0, 160, 160)]


def test_kind_probabilities_come_from_the_logits_after_the_classes():
    from pipeline.scoring import kind_probabilities

    logits = np.array([[0.0, 2.0, 1.0, 1.0, 1.0], [0.0, 2.0, 3.0, 0.0, 0.0]])
    np.testing.assert_allclose(fake_probability(logits), fake_probability(logits[:, :2]))
    np.testing.assert_allclose(kind_probabilities(logits)[0], [1 / 3] * 3, atol=1e-6)
    assert kind_probabilities(logits)[1].argmax() == 0 and kind_probabilities(logits[:, :2]).shape == (2, 0)


def test_kind_is_shown_for_fake_or_uncertain_verdicts_only():
    from pipeline.scoring import kind_fields

    kinds = {"gan": 0.2, "diffusion": 0.7, "swap": 0.1}
    assert kind_fields(0.9, 0.5, kinds) == {"kind": "diffusion", "kind_probabilities": kinds}
    # Uncertain: from 0.7 x threshold, where the page stops saying "likely real" (frontend describeProbability).
    assert kind_fields(C.UNCERTAIN_FRACTION * 0.9, 0.9, kinds)["kind"] == "diffusion"
    assert kind_fields(C.UNCERTAIN_FRACTION * 0.9 - 1e-6, 0.9, kinds) == {"kind": None, "kind_probabilities": None}
    assert kind_fields(0.99, 0.5, None) == {"kind": None, "kind_probabilities": None}


def test_verdict_is_fake_at_the_threshold_uncertain_from_its_fraction_and_real_below():
    from pipeline.scoring import fake_or_uncertain, verdict_of

    threshold = 0.95
    band = C.UNCERTAIN_FRACTION * threshold
    cases = {1.0: "fake", threshold: "fake", threshold - 1e-6: "uncertain", band: "uncertain",
             band - 1e-6: "real", 0.0: "real"}
    assert {p: verdict_of(p, threshold) for p in cases} == cases
    assert [fake_or_uncertain(p, threshold) for p in cases] == [v != "real" for v in cases.values()]
    assert set(cases.values()) == set(C.VERDICTS)


def test_the_page_draws_the_uncertain_band_where_the_server_does():
    page_api = (C.REPO_ROOT / "frontend" / "src" / "api.js").read_text(encoding="utf-8")
    fractions = re.findall(r"^const UNCERTAIN_FRACTION = ([0-9.]+)$", page_api, flags=re.M)
    assert [float(f) for f in fractions] == [C.UNCERTAIN_FRACTION]


def test_ensemble_scores_average_the_kinds_of_members_with_a_head():
    from pipeline.scoring import Scores

    with_head = Scores(np.array([0.8, 0.2]), np.array([[0.6, 0.3, 0.1], [0.2, 0.2, 0.6]]), C.KIND_NAMES)
    other = Scores(np.array([0.6, 0.4]), np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]), C.KIND_NAMES)
    old = Scores.of(np.array([0.4, 0.0]))
    mean = Scores.mean([old, with_head, other])
    np.testing.assert_allclose(mean.fake, [0.6, 0.2])
    np.testing.assert_allclose(mean.kinds, [[0.3, 0.65, 0.05], [0.1, 0.1, 0.8]])
    assert mean.kind_probabilities(0) == pytest.approx({"gan": 0.3, "diffusion": 0.65, "swap": 0.05})
    assert Scores.mean([old, old]).kind_names == () and Scores.mean([old]).kind_probabilities(0) is None


def test_one_detection_gives_crops_at_every_scale():
    detector = FixedDetector([Face((40, 40, 60, 60), 0.9, ((0, 0),) * 5)])
    regions = face_crops(synthetic_face(1, 3, 160), detector, (2.0, 1.0, 2.0))
    assert regions.boxes == [Box(30, 30, 40, 40)] and regions.crops[0].size == (40, 40)
    assert regions.at(1.0)[0].size == (20, 20) and regions.at(2.0) is regions.crops
    assert regions.at(3.0) is regions.crops  # not cut at 3: one scale set for every model
