"""The deployment files run the same commands the tests run."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent


def test_compose_runs_the_commands_the_tests_use() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["bot"]["command"] == ["run", "--webhook"]
    # Every command parses with the real `pejling` parser (a typo would fail here).
    for service in ("migrate", "bot"):
        args = build_parser().parse_args(services[service]["command"])
        assert callable(args.func)
    assert services["bot"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert "8081/healthz" in " ".join(services["bot"]["healthcheck"]["test"])
    assert all(services[name]["restart"] for name in ("db", "bot"))
    assert "pgdata" in compose["volumes"]


def test_the_image_runs_as_a_non_root_user_with_the_catalogs() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "\nUSER pejling\n" in dockerfile
    assert "pybabel compile" in dockerfile and "COPY locale" in dockerfile
    assert 'ENTRYPOINT ["pejling"]' in dockerfile


def test_the_image_builds_on_python_slim_unless_given_another_base() -> None:
    # Users build on Docker Hub's python:3.11-slim; scripts/check-image (run by .ci/run)
    # builds the same file on a base made from Debian's mirror, with --build-arg BASE_IMAGE.
    lines = (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()
    first_from = next(i for i, line in enumerate(lines) if line.startswith("FROM "))
    assert "ARG BASE_IMAGE=python:3.11-slim" in lines[:first_from]
    stages = [line for line in lines if line.startswith("FROM ")]
    assert stages == ["FROM ${BASE_IMAGE} AS build", "FROM ${BASE_IMAGE}"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.rstrip().splitlines()[-2:] == ["scripts/test", "scripts/check-image"]
