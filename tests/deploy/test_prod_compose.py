"""docker-compose.prod.yml and the nginx template agree with config/limits.json and with each other."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
LIMITS = json.loads((ROOT / "config" / "limits.json").read_text())
TEMPLATE = (ROOT / "deploy" / "nginx" / "default.conf.template").read_text()


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.prod.yml").read_text())["services"]


def test_proxy_and_app_share_the_upload_limit(services):
    from backend import create_app

    proxy_limit = int(services["nginx"]["environment"]["NGINX_MAX_BODY"])
    assert proxy_limit == LIMITS["max_video_upload_bytes"] == 100 * 1024 * 1024
    assert proxy_limit >= LIMITS["max_upload_bytes"]
    app = create_app({"TESTING": True, "MODEL_DIR": "/nonexistent", "ACCESS_LOG": False})
    assert app.config["MAX_CONTENT_LENGTH"] == proxy_limit


def test_template_placeholders_are_all_set(services):
    code = "\n".join(line for line in TEMPLATE.splitlines() if not line.lstrip().startswith("#"))
    placeholders = set(re.findall(r"\$\{(\w+)\}", code))
    assert placeholders == {"NGINX_PORT", "NGINX_UPSTREAM_SERVERS", "NGINX_MAX_BODY", "NGINX_STATIC_ROOT"}
    assert placeholders <= set(services["nginx"]["environment"])


@pytest.mark.parametrize("name", ["backend", "nginx", "redis"])
def test_every_service_restarts_is_checked_and_bounded(services, name):
    service = services[name]
    assert service["restart"] == "unless-stopped"
    assert service["healthcheck"]["test"]
    assert service["deploy"]["resources"]["limits"]["memory"]


def test_backend_replicas_share_limits_in_redis_and_trust_one_proxy(services):
    backend = services["backend"]
    assert str(backend["deploy"]["replicas"]).endswith(":-3}")
    assert backend["environment"]["FLASK_RATE_LIMIT_STORAGE"] == "redis://redis:6379"
    assert backend["environment"]["FLASK_PROXY_HOPS"] == "1"
    assert "backend:5000" in services["nginx"]["environment"]["NGINX_UPSTREAM_SERVERS"]
