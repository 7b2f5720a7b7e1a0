"""The OpenAPI 3.1 document of the API; its schemas are the contract the frontend and tests rely on."""

from __future__ import annotations

from typing import Any, Mapping

from pipeline import constants as C

from .openapi_ops import with_operations

NUMBER_0_1 = {"type": "number", "minimum": 0, "maximum": 1}
BOX = {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 4, "maxItems": 4,
       "description": "[x, y, width, height] in original image pixels (after EXIF rotation)."}
LABEL = {"type": "string", "enum": ["real", "fake"]}
VERDICT = {"type": "string", "enum": list(C.VERDICTS),
           "description": f"'fake' when probability_fake >= threshold (as label); 'uncertain' from "
                          f"{C.UNCERTAIN_FRACTION} x threshold up to it, where label still says 'real' but a person "
                          f"should look; else 'real'."}
SECONDS = {"type": "number", "minimum": 0}
SIZE = {"type": "object", "required": ["width", "height"], "additionalProperties": False,
        "properties": {"width": {"type": "integer", "minimum": 1}, "height": {"type": "integer", "minimum": 1}}}
SHOWN_WHEN = (f"Null when the verdict is neither fake nor uncertain (probability_fake below "
              f"{C.UNCERTAIN_FRACTION} x threshold) or the model has no kind head (GET /models lists its kinds).")
KIND_PROPERTIES: dict = {
    "kind": {"type": ["string", "null"], "enum": [*C.KIND_NAMES, None],
             "description": "The most likely kind of fake: 'gan' or 'diffusion' (fully generated) or 'swap' (a face "
                            "swapped or re-animated onto a real photo or video). The model's guess, not proof. "
                            + SHOWN_WHEN},
    "kind_probabilities": {
        "type": ["object", "null"], "required": list(C.KIND_NAMES), "additionalProperties": False,
        "properties": {name: NUMBER_0_1 for name in C.KIND_NAMES},
        "description": "Calibrated P(kind | fake) of each kind (they sum to 1). " + SHOWN_WHEN},
}
KIND_REQUIRED = list(KIND_PROPERTIES)
COMMON_REQUIRED = ["media", "label", "verdict", "probability_fake", *KIND_REQUIRED, "threshold", "model", "faces",
                   "face_detected", "image", "latency_ms"]
COMMON_PROPERTIES: dict = {
    "label": {**LABEL, "description": "Verdict of the image: that of its most likely fake face."},
    "verdict": VERDICT,
    "probability_fake": {**NUMBER_0_1, "description": "Calibrated probability that the image is fake."},
    **KIND_PROPERTIES,
    "threshold": {**NUMBER_0_1, "description": "probability_fake >= threshold means 'fake'."},
    "model": {"type": "object", "required": ["name", "version"], "additionalProperties": False,
              "properties": {"name": {"type": "string"},
                             "version": {"type": "string", "description": "Checkpoint content hash; for the "
                                                                          "ensemble, the members' hashes joined by '+'."}}},
    "faces": {"type": "array", "items": {"$ref": "#/components/schemas/Face"},
              "description": "Every detected face; empty when none was found or faces=off."},
    "face_detected": {"type": "boolean",
                      "description": "False: no face was found (or faces=off) and the whole image was classified."},
    "image": SIZE,
    "latency_ms": {"type": "number", "minimum": 0},
    "explanation": {"$ref": "#/components/schemas/Explanation"},
    "provenance": {"$ref": "#/components/schemas/Provenance"},
}
# Option values the server accepts (any case, surrounding spaces ignored); anything else is a 400.
FACES_OPTION = {"type": "string", "enum": ["on", "off", "1", "0", "true", "false", "yes", "no"], "default": "on"}
EXPLAIN_OPTION = {"type": "string", "enum": ["1", "0", "true", "false", "on", "off", "yes", "no"], "default": "0"}

NULLABLE_TEXT = {"type": ["string", "null"]}
PROVENANCE_SCHEMAS: dict[str, Any] = {
    "Provenance": {
        "type": "object",
        "description": "What the file's own metadata says about its origin (absent when the server runs with "
                       "FLASK_PROVENANCE=false). Metadata can be stripped or forged: it never changes "
                       "probability_fake, and its absence proves nothing.",
        "required": ["verdict", "evidence", "c2pa", "notes"],
        "additionalProperties": False,
        "properties": {
            "verdict": {"type": "string", "enum": ["generated", "edited", "camera", "unknown"],
                        "description": "generated if any evidence says a generative tool made (part of) the image, "
                                       "else edited, else camera, else unknown."},
            "evidence": {"type": "array", "items": {"$ref": "#/components/schemas/Evidence"}},
            "c2pa": {"$ref": "#/components/schemas/C2pa"},
            "notes": {"type": "array", "items": {"type": "string"},
                      "description": "Metadata that was malformed or skipped."},
        },
    },
    "Evidence": {
        "type": "object",
        "required": ["source", "field", "value", "trust", "indicates"],
        "additionalProperties": False,
        "properties": {
            "source": {"type": "string", "enum": ["c2pa", "xmp", "exif", "png-text"]},
            "field": {"type": "string", "description": "A C2PA action, or the metadata field's name."},
            "value": {"type": "string", "description": "What it says (at most 200 characters)."},
            "trust": {"type": "string", "enum": ["valid", "untrusted", "invalid", "unsigned"],
                      "description": "valid: covered by a C2PA signature that holds, from a trusted signer; "
                                     "untrusted: the signature holds but its signer is not on the trust list; "
                                     "invalid: the signature does not hold; unsigned: plain metadata."},
            "indicates": {"type": ["string", "null"], "enum": ["generated", "edited", "camera", None]},
        },
    },
    "C2pa": {
        "type": "object",
        "required": ["state", "reason", "signer", "issuer", "signed_at", "claim_generator", "failures"],
        "additionalProperties": False,
        "properties": {
            "state": {"type": "string", "enum": ["valid", "untrusted", "tampered", "invalid", "skipped", "none"],
                      "description": "valid: signature holds, signer trusted; untrusted: signature holds, signer "
                                     "not trusted; tampered: the file changed after signing; invalid: unreadable "
                                     "or failing validation; skipped: too large or too slow to validate; none: "
                                     "no Content Credentials."},
            "reason": NULLABLE_TEXT,
            "signer": NULLABLE_TEXT,
            "issuer": NULLABLE_TEXT,
            "signed_at": NULLABLE_TEXT,
            "claim_generator": NULLABLE_TEXT,
            "failures": {"type": "array", "items": {"type": "string"},
                         "description": "C2PA validation failure codes, e.g. signingCredential.untrusted."},
        },
    },
}

SCHEMAS: dict[str, Any] = {
    "Prediction": {
        "description": "The verdict on an image (media 'image') or a clip (media 'video').",
        "oneOf": [{"$ref": "#/components/schemas/ImagePrediction"}, {"$ref": "#/components/schemas/VideoPrediction"}],
    },
    "ImagePrediction": {
        "type": "object",
        "required": [*COMMON_REQUIRED],
        "additionalProperties": False,
        "properties": {**COMMON_PROPERTIES, "media": {"type": "string", "enum": ["image"]}},
    },
    "VideoPrediction": {
        "type": "object",
        "required": [*COMMON_REQUIRED, "video", "decoded", "tracks", "timeline"],
        "additionalProperties": False,
        "properties": {
            **COMMON_PROPERTIES,
            "media": {"type": "string", "enum": ["video"]},
            "label": {**LABEL, "description": "Verdict of the clip: that of its most likely fake face track."},
            "probability_fake": {**NUMBER_0_1, "description": "The most-fake track's P(fake): the mean of the "
                                                              "most-fake half of its frames' calibrated P(fake)."},
            "kind": {**KIND_PROPERTIES["kind"], "description": "The most-fake track's kind (see Track.kind)."},
            "kind_probabilities": {**KIND_PROPERTIES["kind_probabilities"],
                                   "description": "The most-fake track's P(kind | fake); without faces, the mean "
                                                  "over the frames that make probability_fake. " + SHOWN_WHEN},
            "faces": {"type": "array", "items": {"$ref": "#/components/schemas/Face"},
                      "description": "The faces of the deciding frame (boxes in video pixels)."},
            "image": {**SIZE, "description": "The video's frame size."},
            "video": {"$ref": "#/components/schemas/VideoInfo"},
            "decoded": {"$ref": "#/components/schemas/DecodedPart"},
            "tracks": {"type": "array", "items": {"$ref": "#/components/schemas/Track"},
                       "description": "Faces linked across the sampled frames; empty when no frame had a face."},
            "timeline": {"type": "array", "items": {
                "type": "object", "required": ["t", "probability_fake"], "additionalProperties": False,
                "properties": {"t": SECONDS, "probability_fake": NUMBER_0_1}},
                "description": "One point per sampled frame: its most-fake face, or the whole frame without one. "
                               "Frames are sampled over the part of the clip that could be decoded (`decoded`)."},
        },
    },
    "VideoInfo": {
        "type": "object",
        "required": ["duration_s", "fps", "width", "height", "codec", "container", "frames_sampled"],
        "additionalProperties": False,
        "properties": {"duration_s": SECONDS, "fps": {"type": "number", "minimum": 0},
                       "width": {"type": "integer", "minimum": 0}, "height": {"type": "integer", "minimum": 0},
                       "codec": {"type": "string"}, "container": {"type": "string",
                                                                  "enum": ["mp4", "mov", "webm", "mkv", "avi"]},
                       "frames_sampled": {"type": "integer", "minimum": 1}},
    },
    "DecodedPart": {
        "type": "object",
        "description": "How much of the clip could be read. A truncated or damaged file is sampled over the part "
                       "there is: the verdict, tracks and timeline then cover only its first `seconds`.",
        "required": ["seconds", "of_seconds", "partial", "note"],
        "additionalProperties": False,
        "properties": {
            "seconds": {**SECONDS, "description": "Seconds decoded, from the start of the clip."},
            "of_seconds": {**SECONDS, "description": "Seconds the clip's header claims (video.duration_s)."},
            "partial": {"type": "boolean", "description": "True when decoding stopped before the end of the clip."},
            "note": {"type": ["string", "null"],
                     "description": "A sentence for the reader when partial (show it beside the verdict), else null."},
        },
    },
    "Track": {
        "type": "object",
        "required": ["id", "probability_fake", "label", "verdict", *KIND_REQUIRED, "thumbnail_jpeg", "frames"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer", "minimum": 1},
            "probability_fake": NUMBER_0_1,
            "label": LABEL,
            "verdict": VERDICT,
            "kind": KIND_PROPERTIES["kind"],
            "kind_probabilities": {**KIND_PROPERTIES["kind_probabilities"],
                                   "description": "The mean P(kind | fake) of the sightings that make the track's "
                                                  "probability_fake (its most-fake half). " + SHOWN_WHEN},
            "thumbnail_jpeg": {"type": "string", "contentEncoding": "base64", "contentMediaType": "image/jpeg",
                               "description": "The track's most-fake face crop, at most 96 px."},
            "frames": {"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["t", "box", "probability_fake"], "additionalProperties": False,
                "properties": {"t": SECONDS, "box": BOX, "probability_fake": NUMBER_0_1}}},
        },
    },
    **PROVENANCE_SCHEMAS,
    "Face": {
        "type": "object",
        "required": ["box", "probability_fake", "label", "verdict", *KIND_REQUIRED, "deciding", "detector_score",
                     "landmarks"],
        "additionalProperties": False,
        "properties": {
            "box": {**BOX, "description": "The square region around the face that was classified (face box "
                                          "enlarged by the model's crop scale, 2x by default, clipped to the image)."},
            "probability_fake": NUMBER_0_1,
            "label": LABEL,
            "verdict": VERDICT,
            **KIND_PROPERTIES,
            "deciding": {"type": "boolean", "description": "True for the face that gave the image its verdict."},
            "detector_score": {**NUMBER_0_1, "description": "The face detector's confidence that this is a face."},
            "landmarks": {"type": "array", "minItems": 5, "maxItems": 5,
                          "items": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
                          "description": "[x, y] in original image pixels of the subject's right eye, left eye, "
                                         "nose tip, right and left mouth corners."},
        },
    },
    "Explanation": {
        "type": "object",
        "required": ["heatmap_png", "box", "target", "note"],
        "additionalProperties": False,
        "properties": {
            "heatmap_png": {"type": ["string", "null"], "contentEncoding": "base64", "contentMediaType": "image/png",
                            "description": "Grad-CAM heat map of the decided class (RGBA, alpha follows the heat) "
                                           "sized exactly box width x height; null when no region pushed toward it."},
            "box": {**BOX, "description": "Where the heat map goes: the deciding face's box, or the whole image."},
            "target": {**LABEL, "description": "The class the map explains: the verdict."},
            "note": {"type": ["string", "null"], "description": "Why there is no map, in words (else null)."},
            "t": {**SECONDS, "description": "Clips only: the time of the deciding frame."},
        },
    },
    "ModelList": {
        "type": "object",
        "required": ["default", "models"],
        "properties": {
            "default": {"type": ["string", "null"]},
            "models": {"type": "array", "items": {"$ref": "#/components/schemas/ModelInfo"}},
        },
    },
    "ModelInfo": {
        "type": "object",
        "required": ["name", "architecture", "input_size", "threshold", "temperature", "kinds", "metrics", "hash",
                     "runtime"],
        "properties": {
            "name": {"type": "string"},
            "architecture": {"type": "string"},
            "input_size": {"type": "integer"},
            "threshold": {"type": "number"},
            "temperature": {"type": "number"},
            "kinds": {"type": "array", "items": {"type": "string"},
                      "description": "The kinds of fake its second head tells apart; empty: no kind head, and "
                                     "answers carry kind null."},
            "metrics": {"type": "object", "additionalProperties": {"type": "number"}},
            "hash": {"type": "string"},
            "runtime": {"type": "string", "enum": ["openvino", "onnxruntime", "torch"],
                        "description": "What scores with it: FLASK_RUNTIME's engine, or the one it fell back to."},
        },
    },
    "Health": {
        "type": "object",
        "required": ["status", "models_loaded"],
        "properties": {"status": {"type": "string", "enum": ["ok"]}, "models_loaded": {"type": "integer"}},
    },
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details; some problems add members such as known_models.",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "known_models": {"type": "array", "items": {"type": "string"}},
            "accepted_types": {"type": "array", "items": {"type": "string"}},
            "max_pixels": {"type": "integer"},
            "min_side": {"type": "integer"},
            "max_bytes": {"type": "integer"},
            "max_duration_s": {"type": "number"},
            "max_frame_count": {"type": "integer"},
            "budget_s": {"type": "number", "description": "503 time-budget-exhausted: the budget that ran out."},
        },
    },
}

STATUS_NOTES = {
    "400": "No file, empty (0-byte) file, or an invalid option value.",
    "404": "Unknown model (the problem lists known_models).",
    "405": "Method not allowed.",
    "413": "Upload larger than the size limit: the request limit (clips), or the smaller image limit.",
    "415": "Not an image or clip, or a format or video codec that is not accepted (the format is read from the "
           "bytes, not the file name or Content-Type).",
    "422": "An accepted format that cannot be used: truncated/corrupt pixel or video data, too many pixels "
           "(decompression bomb, frames over 4K), a side shorter than the minimum, a clip longer than the "
           "duration limit or has more frames than 10 minutes at 240 fps, or a file with no video stream.",
    "503": "No model is loaded (no-model), or the analysis ran past the time budget of a request "
           "(time-budget-exhausted, with budget_s): it was stopped cleanly; try again later or with fewer frames.",
}


def problem_responses(codes: list[str]) -> dict[str, Any]:
    """Response objects for problem statuses."""
    return {code: {"description": STATUS_NOTES[code],
                   "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
            for code in codes}


def json_ok(schema: str, description: str) -> dict[str, Any]:
    """A 200 response with a JSON schema reference."""
    return {"200": {"description": description,
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}}


def option(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter (also accepted as a multipart form field)."""
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


def budget_sentence(budget_s: float | None) -> str:
    """The description's sentence on the time budget of a request (none without one)."""
    if not budget_s:
        return ""
    return f" The work of a request stops after {budget_s:g} s (503 time-budget-exhausted)."


def openapi_document(config: Mapping[str, Any]) -> dict[str, Any]:
    """The OpenAPI 3.1 document; every path is also served under the /api prefix."""
    accepted = list(config.get("ACCEPTED_TYPES", []))
    accepted_video = list(config.get("ACCEPTED_VIDEO_TYPES", []))
    max_frames = int(config.get("VIDEO_MAX_FRAMES", 64))
    # Non-empty bytes; whether they are a usable image or clip only decoding can tell (415/422 otherwise).
    binary = {"type": "string", "format": "binary", "minLength": 1, "contentMediaType": "application/octet-stream"}
    frames = {"type": "integer", "minimum": 1, "maximum": max_frames,
              "default": int(config.get("VIDEO_DEFAULT_FRAMES", 16))}
    predict = {
        "summary": "Classify an image or a clip as real or fake",
        "description": (
            "Detects every face (YuNet by default), classifies a square crop of each and gives the image the verdict "
            "of its most likely fake face; with no face (or faces=off) the whole image is classified. A clip "
            "(recognised from its bytes: mp4, mov, webm, mkv, avi) has `frames` frames sampled uniformly over its "
            "duration; the faces are linked into tracks across frames, and the clip gets the verdict of its most "
            "likely fake track. Uploads are processed in memory and never stored. Accepted images: "
            f"{', '.join(accepted)} (GIF and animated WebP: first frame), at most {config.get('IMAGE_MAX_BYTES')} "
            f"bytes. Accepted clips: {', '.join(accepted_video)}, at most {config.get('VIDEO_MAX_BYTES')} bytes and "
            f"{config.get('VIDEO_MAX_DURATION_S')} s. A truncated clip is analysed over the part that can be decoded "
            f"and says so in `decoded`.{budget_sentence(config.get('REQUEST_BUDGET_S'))}"),
        "parameters": [
            option("model", "A model name from /models, or 'ensemble' (mean of all models). Default: the "
                            "server's default model.", {"type": "string"}),
            option("faces", "on: detect faces and classify each; off: classify the whole image.", FACES_OPTION),
            option("explain", "1: add a Grad-CAM heat map of the deciding region.", EXPLAIN_OPTION),
            option("frames", f"Clips: how many frames to sample (1-{max_frames}); ignored for images.", frames),
        ],
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {"schema": {
                    "type": "object",
                    "properties": {"file": {**binary, "description": "The image or clip (the field may also be named "
                                                                     "'image')."},
                                   "image": binary, "model": {"type": "string"}, "faces": FACES_OPTION,
                                   "explain": EXPLAIN_OPTION, "frames": frames},
                    "anyOf": [{"required": ["file"]}, {"required": ["image"]}]}},
                **{mime: {"schema": binary} for mime in [*accepted, *accepted_video]},
                "application/octet-stream": {"schema": binary},
            },
        },
        "responses": {**json_ok("Prediction", "The verdict."),
                      **problem_responses(["400", "404", "405", "413", "415", "422", "503"])},
    }
    paths = {
        "/predict": {"post": predict},
        "/models": {"get": {"summary": "Loaded models and the default", "responses": json_ok("ModelList", "Models.")}},
        "/health": {"get": {"summary": "Liveness (no model call)", "responses": json_ok("Health", "Alive.")}},
        "/openapi.json": {"get": {"summary": "This document",
                                  "responses": {"200": {"description": "OpenAPI 3.1 document.",
                                                        "content": {"application/json": {}}}}}},
    }
    return with_operations({
        "openapi": "3.1.0",
        "info": {"title": "deepfake-detector API", "version": "1.0.0",
                 "description": "Real-or-fake face image classifier. Every path is also served under /api. "
                                "Errors are RFC 9457 application/problem+json."},
        "paths": {**paths, **{"/api" + path: item for path, item in paths.items()}},
        "components": {"schemas": SCHEMAS},
    }, config)
