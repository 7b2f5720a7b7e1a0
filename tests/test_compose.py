"""docker-compose.yml (development setup) agrees with the browser test's command lines.

The browser test (tests/e2e/run.mjs) and this file both read tests/e2e/commands.json,
so ports and commands cannot drift apart silently.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
COMMANDS = json.loads((ROOT / "tests" / "e2e" / "commands.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services() -> dict:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and "services" in data
    return data["services"]


def command_line(service: dict) -> str:
    """The service's command as one string, whether written as a list or a string."""
    command = service["command"]
    return " ".join(command) if isinstance(command, list) else str(command)


def healthcheck_text(service: dict) -> str:
    test = service["healthcheck"]["test"]
    return " ".join(test) if isinstance(test, list) else str(test)


def test_both_services_exist(services):
    assert {"backend", "frontend"} <= set(services)


def test_backend_image_volumes_and_env(services):
    backend = services["backend"]
    assert backend["image"].startswith("python:3.11")
    assert backend["working_dir"] == "/app"
    volumes = backend["volumes"]
    assert ".:/app" in volumes
    assert any(str(v).endswith(":/venv") for v in volumes), "venv must live in a named volume"
    env = backend["environment"]
    assert env["FLASK_MODEL_DIR"] == "/app/models"


def test_backend_installs_requirements_only_when_venv_missing(services):
    line = command_line(services["backend"])
    assert "test -x /venv/bin/gunicorn ||" in line
    assert "python -m venv /venv" in line
    assert "/venv/bin/pip install -r requirements.txt" in line
    assert "/venv/bin/pip install --no-deps -r requirements-nodeps.txt" in line


def test_backend_runs_the_same_gunicorn_command_as_the_browser_test(services):
    spec = COMMANDS["backend"]
    line = command_line(services["backend"])
    assert spec["command"] in line
    assert f"-b {spec['host_in_container']}:{spec['port']}" in line
    assert f"'{spec['app']}'" in line
    assert "--reload" in line


def test_backend_port_and_healthcheck(services):
    backend = services["backend"]
    port = COMMANDS["backend"]["port"]
    assert f"{port}:{port}" in [str(p) for p in backend["ports"]]
    check = healthcheck_text(backend)
    assert "urllib" in check
    assert f"http://localhost:{port}{COMMANDS['backend']['health_path']}" in check
    assert backend["healthcheck"].get("interval")


def test_frontend_runs_the_same_dev_command_as_the_browser_test(services):
    frontend = services["frontend"]
    spec = COMMANDS["frontend"]
    assert frontend["image"].startswith("node:20")
    assert frontend["working_dir"] == "/app/frontend"
    line = command_line(frontend)
    assert "npm ci" in line
    assert f"{spec['command']} --host {spec['host_in_container']} --port {spec['port']}" in line
    assert any(str(v).endswith(":/app/frontend/node_modules") for v in frontend["volumes"])


def test_frontend_proxies_to_the_backend_service(services):
    env = services["frontend"]["environment"]
    backend_port = COMMANDS["backend"]["port"]
    assert env[COMMANDS["frontend"]["api_target_env"]] == f"http://backend:{backend_port}"


def test_frontend_port_healthcheck_and_depends_on(services):
    frontend = services["frontend"]
    port = COMMANDS["frontend"]["port"]
    assert f"{port}:{port}" in [str(p) for p in frontend["ports"]]
    assert f"http://localhost:{port}/" in healthcheck_text(frontend)
    assert frontend["depends_on"]["backend"]["condition"] == "service_healthy"


def test_named_volumes_are_declared(services):
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    declared = set(data.get("volumes") or {})
    for name in ("backend", "frontend"):
        for volume in services[name]["volumes"]:
            source = str(volume).split(":", 1)[0]
            if not source.startswith((".", "/")):
                assert source in declared, f"volume {source} is not declared"


def test_vite_config_uses_the_same_port_and_proxy_env():
    config = (ROOT / "frontend" / "vite.config.js").read_text(encoding="utf-8")
    assert f"port: {COMMANDS['frontend']['port']}" in config
    assert COMMANDS["frontend"]["api_target_env"] in config
    assert "'/api'" in config
    assert "rewrite:" not in config, "the /api prefix must reach the backend unchanged"


def test_e2e_reads_the_shared_commands():
    script = (ROOT / "tests" / "e2e" / "run.mjs").read_text(encoding="utf-8")
    assert "commands.json" in script
    assert "commands.backend.command" in script and "commands.backend.app" in script
    assert "commands.frontend.command" in script
