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
