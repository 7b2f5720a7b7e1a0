"""Operating the API at scale: Prometheus metrics, API keys, rate limits, JSON access logs, lean workers."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import subprocess
import sys
from typing import Iterator

import pytest
from backend_samples import face_jpeg

pytestmark = [pytest.mark.filterwarnings("error"), pytest.mark.timeout(180)]

JPEG = face_jpeg(3)
KEY = "s3cret-key-for-tests"


def make_app(model_dir, tmp_path, **config):
    """A fresh app with extra configuration."""
    from backend import create_app

    return create_app({"TESTING": True, "MODEL_DIR": str(model_dir), "STATIC_DIR": str(tmp_path / "no-page"),
                       "THREADS": 1, **config})


def sample(text: str, metric: str, **labels: str) -> float:
    """The value of one sample in a Prometheus text exposition (0 when absent)."""
    for line in text.splitlines():
        if line.startswith(metric + "{") or line.startswith(metric + " "):
            found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
            if all(found.get(k) == v for k, v in labels.items()):
                return float(line.rsplit(" ", 1)[1])
    return 0.0


@contextlib.contextmanager
def access_lines() -> Iterator[list[dict]]:
    """The JSON access-log lines written while the block runs, parsed."""
    lines: list[dict] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(json.loads(record.getMessage()))
    logger = logging.getLogger("deepfake_detector.access")
    logger.addHandler(handler)
    try:
        yield lines
    finally:
        logger.removeHandler(handler)


def test_metrics_counters_move_after_a_request(client):
    before = client.get("/metrics")
    assert before.status_code == 200 and before.mimetype == "text/plain"
    answer = client.post("/predict", data=JPEG, content_type="image/jpeg").get_json()
    after = client.get("/metrics").text
    labels = {"endpoint": "predict", "status": "200", "media": "image"}
    assert sample(after, "deepfake_requests_total", **labels) == sample(before.text, "deepfake_requests_total",
                                                                        **labels) + 1
    verdict = {"label": answer["label"], "verdict": answer["verdict"], "media": "image"}
    assert sample(after, "deepfake_verdicts_total", **verdict) == sample(before.text, "deepfake_verdicts_total",
                                                                         **verdict) + 1
    for stage in ("decode", "detect", "classify"):
        assert sample(after, "deepfake_stage_seconds_count", stage=stage) > sample(
            before.text, "deepfake_stage_seconds_count", stage=stage)
    assert sample(after, "deepfake_faces_per_upload_count", media="image") >= 1
    assert sample(after, "deepfake_model_info", name="alpha", runtime="openvino") == 1


def test_error_statuses_are_counted(client):
    before = client.get("/metrics").text
    assert client.post("/predict", data=b"not an image", content_type="image/jpeg").status_code == 415
    after = client.get("/metrics").text
    labels = {"endpoint": "predict", "status": "415", "media": "none"}
    assert sample(after, "deepfake_requests_total", **labels) == sample(before, "deepfake_requests_total", **labels) + 1


def test_metrics_can_be_switched_off(model_dir, tmp_path):
    client = make_app(model_dir, tmp_path, METRICS=False).test_client()
    assert client.get("/metrics").status_code == 404


@pytest.fixture(scope="module")
def keyed_client(model_dir, tmp_path_factory):
    """An app that needs an API key, and also accepts a second key given as a digest in a key file."""
    from backend.auth import digest

    folder = tmp_path_factory.mktemp("keys")
    key_file = folder / "keys.txt"
    key_file.write_text(f"# hashed keys\n{digest('from-the-file')}\n\n")
    return make_app(model_dir, folder, API_KEYS=KEY, API_KEYS_FILE=str(key_file)).test_client()


@pytest.mark.parametrize("path", ["/predict", "/api/predict", "/models", "/api/models"])
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"X-API-Key": "wrong"},
                                     {"Authorization": f"Basic {KEY}"}])
def test_protected_endpoints_answer_401_without_a_valid_key(keyed_client, path, headers):
    method = keyed_client.post if path.endswith("predict") else keyed_client.get
    response = method(path, data=JPEG, content_type="image/jpeg", headers=headers)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["type"].endswith(":unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "wrong" not in response.text and KEY not in response.text


@pytest.mark.parametrize("headers", [{"Authorization": f"Bearer {KEY}"}, {"X-API-Key": KEY},
                                     {"Authorization": "bearer from-the-file"}])
def test_a_valid_key_is_accepted(keyed_client, headers):
    assert keyed_client.get("/models", headers=headers).status_code == 200
    response = keyed_client.post("/predict", data=JPEG, content_type="image/jpeg", headers=headers)
    assert response.status_code == 200 and response.get_json()["label"] in ("real", "fake")


@pytest.mark.parametrize("path", ["/health", "/metrics", "/openapi.json"])
def test_health_metrics_and_contract_need_no_key(keyed_client, path):
    assert keyed_client.get(path).status_code == 200


def test_keys_are_never_logged(keyed_client):
    with access_lines() as lines:
        keyed_client.get("/models", headers={"X-API-Key": KEY})
        keyed_client.get("/models", headers={"Authorization": "Bearer not-the-key"})
    assert [line["status"] for line in lines] == [200, 401]
    assert lines[0]["key_id"] and len(lines[0]["key_id"]) == 12 and lines[1]["key_id"] is None
    assert KEY not in json.dumps(lines) and "not-the-key" not in json.dumps(lines)


def test_bad_key_file_stops_the_start(model_dir, tmp_path):
    key_file = tmp_path / "keys.txt"
    key_file.write_text("plain-text-key\n")
    with pytest.raises(RuntimeError, match="line 1"):
        make_app(model_dir, tmp_path, API_KEYS_FILE=str(key_file))


def test_rate_limit_answers_429_with_retry_after(model_dir, tmp_path):
    client = make_app(model_dir, tmp_path, RATE_LIMIT="2/minute").test_client()
    statuses = [client.get("/models").status_code for _ in range(2)]
    statuses.append(client.get("/api/models").status_code)  # / and /api share one budget
    assert statuses == [200, 200, 429]
    response = client.post("/predict", data=JPEG, content_type="image/jpeg")
    assert response.status_code == 429 and response.mimetype == "application/problem+json"
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert response.get_json()["status"] == 429
    assert client.get("/health").status_code == 200  # only /predict and /models are limited


def test_rate_limit_is_per_key(model_dir, tmp_path):
    client = make_app(model_dir, tmp_path, RATE_LIMIT="1/minute", API_KEYS="one,two").test_client()
    assert client.get("/models", headers={"X-API-Key": "one"}).status_code == 200
    assert client.get("/models", headers={"X-API-Key": "one"}).status_code == 429
    assert client.get("/models", headers={"X-API-Key": "two"}).status_code == 200


def test_request_id_is_echoed_or_made(client):
    assert client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    made = client.get("/health", headers={"X-Request-ID": "bad id\u00e9"}).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)


def test_access_log_is_one_json_line_per_request(client):
    with access_lines() as lines:
        client.post("/predict?model=nope", data=JPEG, content_type="image/jpeg", headers={"X-Request-ID": "req-42"})
    (entry,) = lines
    assert entry["request_id"] == "req-42" and entry["status"] == 404
    assert entry["path"] == "/predict" and entry["method"] == "POST"
    assert entry["bytes_in"] == len(JPEG) and entry["duration_ms"] > 0


def test_a_worker_with_onnx_siblings_never_imports_torch_until_explain():
    """With NAME.onnx beside NAME.pt (the bundled models), PyTorch loads only for the first heat map."""
    script = (
        "import sys\n"
        "from backend import create_app\n"
        "import io\n"
        "from PIL import Image\n"
        "client = create_app({'THREADS': 1, 'STATIC_DIR': '/nonexistent'}).test_client()\n"
        "buffer = io.BytesIO()\n"
        "Image.new('RGB', (120, 120), (200, 150, 120)).save(buffer, 'JPEG')\n"
        "client.post('/predict', data=buffer.getvalue(), content_type='image/jpeg')\n"
        "print('torch' in sys.modules)\n"
        "body = client.post('/predict?explain=1', data=buffer.getvalue(), content_type='image/jpeg').get_json()\n"
        "print('torch' in sys.modules, body['explanation']['target'] == body['label'])\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": ".", "PATH": "/usr/bin:/bin", "FLASK_ACCESS_LOG": "false"})
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split("\n")[:2] == ["False", "True True"]


def test_openapi_describes_keys_limits_and_metrics_when_switched_on(model_dir, tmp_path, client):
    plain = client.get("/openapi.json").get_json()
    assert "securitySchemes" not in plain["components"] and "401" not in plain["paths"]["/predict"]["post"]["responses"]
    assert "/metrics" in plain["paths"]
    document = make_app(model_dir, tmp_path, API_KEYS=KEY, RATE_LIMIT="5/minute").test_client().get(
        "/openapi.json", headers={"X-API-Key": KEY}).get_json()
    for path in ("/predict", "/api/models"):
        operation = next(iter(document["paths"][path].values()))
        assert {"401", "429"} <= set(operation["responses"]) and operation["security"]
    assert "security" not in document["paths"]["/health"]["get"]
