"""Pejling's files for Prometheus (prometheus/), checked by Prometheus's own promtool: the
configuration and the alert rules load, each alert fires when it should and stays silent
when it should not (the unit tests in prometheus/pejling-alerts.test.yml), every figure
the rules name is one a real /metrics shows, and the README shows the files as they are.

Skipped when promtool is not installed, but failing under CI=true: .ci/run installs it
(Debian: prometheus).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.bot.test_metrics import scrape
from tests.harness import BotHarness

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "prometheus"
CONFIG = FOLDER / "prometheus.yml"
RULES = FOLDER / "pejling-alerts.yml"
RULE_TESTS = FOLDER / "pejling-alerts.test.yml"
PROMTOOL = shutil.which("promtool")

# A selector of one of Pejling's figures, with its label matchers: name{label="value"}.
SELECTOR = re.compile(r"(?<![\w:])(pejling_[\w:]*)(?:\{([^}]*)\})?")
MATCHER = re.compile(r'(\w+)\s*(=~|!=|!~|=)\s*"([^"]*)"')
WORD = re.compile(r"(?<![\w:])[a-zA-Z_:][\w:]*")
# Every other word the rules may use: PromQL's own, and Prometheus's own figure `up`.
PROMQL = {"max", "sum", "increase", "absent", "and", "or", "unless", "by", "without", "up"}


def _promtool(*args: str) -> str:
    if PROMTOOL is None:
        problem = "promtool is not installed (Debian: apt-get install prometheus)"
        if os.environ.get("CI") == "true":
            pytest.fail(problem)
        pytest.skip(problem)
    done = subprocess.run(
        [PROMTOOL, *args], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


def _rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_promtool_loads_the_configuration_and_the_rules() -> None:
    rules = _rules()
    assert len(rules) == 5
    checked = _promtool("check", "rules", str(RULES.relative_to(ROOT)))
    assert f"SUCCESS: {len(rules)} rules found" in checked
    # The configuration loads the rules file beside it.
    configured = _promtool("check", "config", str(CONFIG.relative_to(ROOT)))
    assert "SUCCESS: 1 rule files found" in configured
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    assert [FOLDER / name for name in config["rule_files"]] == [RULES]
    # PejlingDown asks for the job the configuration scrapes.
    (job,) = config["scrape_configs"]
    down = next(rule for rule in rules if rule["alert"] == "PejlingDown")
    assert f'up{{job="{job["job_name"]}"}}' in down["expr"]


def test_each_alert_fires_when_it_should_and_stays_silent_otherwise() -> None:
    tests = yaml.safe_load(RULE_TESTS.read_text(encoding="utf-8"))
    assert [FOLDER / name for name in tests["rule_files"]] == [RULES]
    firing: dict[str, int] = {}
    silent: dict[str, int] = {}
    for case in tests["tests"]:
        for check in case["alert_rule_test"]:
            counts = firing if check["exp_alerts"] else silent
            counts[check["alertname"]] = counts.get(check["alertname"], 0) + 1
    alerts = {rule["alert"] for rule in _rules()}
    assert set(firing) == alerts
    assert set(silent) == alerts
    assert "SUCCESS" in _promtool("test", "rules", str(RULE_TESTS.relative_to(ROOT)))


async def test_the_rules_name_only_figures_pejling_shows(
    harness: BotHarness, engine: AsyncEngine
) -> None:
    metrics = harness.metrics
    metrics.watch(harness.sessions, harness.settings.contact_hours)
    shown = [(sample.name, sample.labels) for sample in (await scrape(engine, metrics)).samples()]
    selectors: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    for rule in _rules():
        expr = rule["expr"]
        for name, matchers in SELECTOR.findall(expr):
            found = MATCHER.findall(matchers)
            assert all(op == "=" for _, op, _ in found), expr  # the check below knows only =
            selectors.add((name, tuple((label, value) for label, _, value in found)))
        # Nothing else names a figure: a typo (pejlng_...) or a new figure would show here.
        rest = re.sub(r'\{[^}]*\}|"[^"]*"|\[[^]]*\]', " ", SELECTOR.sub(" ", expr))
        assert set(WORD.findall(rest)) <= PROMQL, expr
    names = {name for name, _ in selectors}
    assert {"pejling_sender_paused", "pejling_sender_messages_total"} <= names
    assert {"pejling_outbox_messages", "pejling_sender_unauthorized"} <= names
    missing = sorted(
        (name, matchers)
        for name, matchers in selectors
        if not any(
            name == shown_name and set(matchers) <= set(labels.items())
            for shown_name, labels in shown
        )
    )
    assert missing == [], f"the alert rules name figures /metrics does not show: {missing}"


def test_the_readme_shows_the_files_as_they_are() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for path in (CONFIG, RULES):
        assert f"```yaml\n{path.read_text(encoding='utf-8')}```\n" in readme, path.name
    # Every code block is closed: an even number of fences.
    assert readme.count("\n```") % 2 == 0
