"""The OpenAPI 3.1 document of the API; its schemas are the contract the frontend and tests rely on."""

from __future__ import annotations

from typing import Any, Mapping

NUMBER_0_1 = {"type": "number", "minimum": 0, "maximum": 1}
BOX = {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 4, "maxItems": 4,
       "description": "[x, y, width, height] in original image pixels (after EXIF rotation)."}
LABEL = {"type": "string", "enum": ["real", "fake"]}

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
        "type": "object",
        "required": ["label", "probability_fake", "threshold", "model", "faces", "face_detected", "image",
                     "latency_ms"],
        "additionalProperties": False,
        "properties": {
            "label": {**LABEL, "description": "Verdict of the image: that of its most likely fake face."},
            "probability_fake": {**NUMBER_0_1, "description": "Calibrated probability that the image is fake."},
            "threshold": {**NUMBER_0_1, "description": "probability_fake >= threshold means 'fake'."},
            "model": {"type": "object", "required": ["name", "version"], "additionalProperties": False,
                      "properties": {"name": {"type": "string"},
                                     "version": {"type": "string", "description": "Checkpoint content hash; "
                                                 "for the ensemble, the members' hashes joined by '+'."}}},
            "faces": {"type": "array", "items": {"$ref": "#/components/schemas/Face"},
                      "description": "Every detected face; empty when none was found or faces=off."},
            "face_detected": {"type": "boolean",
                              "description": "False: no face was found (or faces=off) and the whole image was "
                                             "classified."},
            "image": {"type": "object", "required": ["width", "height"], "additionalProperties": False,
                      "properties": {"width": {"type": "integer", "minimum": 1},
                                     "height": {"type": "integer", "minimum": 1}}},
            "latency_ms": {"type": "number", "minimum": 0},
            "explanation": {"$ref": "#/components/schemas/Explanation"},
            "provenance": {"$ref": "#/components/schemas/Provenance"},
        },
    },
    **PROVENANCE_SCHEMAS,
    "Face": {
        "type": "object",
        "required": ["box", "probability_fake", "label", "deciding"],
        "additionalProperties": False,
        "properties": {
            "box": {**BOX, "description": "The square region around the face that was classified "
                                          "(face box enlarged 2x, clipped to the image)."},
            "probability_fake": NUMBER_0_1,
            "label": LABEL,
            "deciding": {"type": "boolean", "description": "True for the face that gave the image its verdict."},
        },
    },
    "Explanation": {
        "type": "object",
        "required": ["heatmap_png", "box"],
        "additionalProperties": False,
        "properties": {
            "heatmap_png": {"type": "string", "contentEncoding": "base64", "contentMediaType": "image/png",
                            "description": "Grad-CAM heat map (RGBA, alpha follows the heat) sized exactly "
                                           "box width x height."},
            "box": {**BOX, "description": "Where the heat map goes: the deciding face's box, or the whole image."},
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
        "required": ["name", "architecture", "input_size", "threshold", "temperature", "metrics", "hash"],
        "properties": {
            "name": {"type": "string"},
            "architecture": {"type": "string"},
            "input_size": {"type": "integer"},
            "threshold": {"type": "number"},
            "temperature": {"type": "number"},
            "metrics": {"type": "object", "additionalProperties": {"type": "number"}},
            "hash": {"type": "string"},
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
        },
    },
}

STATUS_NOTES = {
    "400": "No file, empty (0-byte) file, or an invalid option value.",
    "404": "Unknown model (the problem lists known_models).",
    "405": "Method not allowed.",
    "413": "Upload larger than the size limit.",
    "415": "Not an image, or an image format that is not accepted (the format is read from the bytes, not the "
           "file name or Content-Type).",
    "422": "An accepted format that cannot be used: truncated/corrupt pixel data, too many pixels "
           "(decompression bomb), or a side shorter than the minimum.",
    "503": "No model is loaded.",
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


def openapi_document(config: Mapping[str, Any]) -> dict[str, Any]:
    """The OpenAPI 3.1 document; every path is also served under the /api prefix."""
    accepted = list(config.get("ACCEPTED_TYPES", []))
    limit = config.get("MAX_CONTENT_LENGTH")
    binary = {"type": "string", "contentMediaType": "application/octet-stream"}
    predict = {
        "summary": "Classify an image as real or fake",
        "description": (
            "Detects every face (MTCNN), classifies a square crop of each and gives the image the verdict of its "
            "most likely fake face; with no face (or faces=off) the whole image is classified. The image is "
            f"processed in memory and never stored. Accepted formats: {', '.join(accepted)} (GIF: first frame). "
            f"Upload limit: {limit} bytes."),
        "parameters": [
            option("model", "A model name from /models, or 'ensemble' (mean of all models). Default: the "
                            "server's default model.", {"type": "string"}),
            option("faces", "on: detect faces and classify each; off: classify the whole image.",
                   {"type": "string", "enum": ["on", "off", "1", "0", "true", "false"], "default": "on"}),
            option("explain", "1: add a Grad-CAM heat map of the deciding region.",
                   {"type": "string", "enum": ["1", "0", "true", "false", "on", "off"], "default": "0"}),
        ],
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {"schema": {"type": "object", "properties": {
                    "file": {**binary, "description": "The image (the field may also be named 'image')."},
                    "image": binary, "model": {"type": "string"}, "faces": {"type": "string"},
                    "explain": {"type": "string"}}}},
                **{mime: {"schema": binary} for mime in accepted},
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
    return {
        "openapi": "3.1.0",
        "info": {"title": "deepfake-detector API", "version": "1.0.0",
                 "description": "Real-or-fake face image classifier. Every path is also served under /api. "
                                "Errors are RFC 9457 application/problem+json."},
        "paths": {**paths, **{"/api" + path: item for path, item in paths.items()}},
        "components": {"schemas": SCHEMAS},
    }
