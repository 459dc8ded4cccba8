"""The `pejling` command, run as a real process against a real database."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import signal
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from unittest.mock import patch

from aiohttp import ClientSession

from bot import cli
from standin import BotAPIStandIn
from tests.harness import BOT_USERNAME, TOKEN

PEJLING = str(Path(sys.executable).with_name("pejling"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Run:
    code: int
    out: str
    err: str


async def pejling(*args: str, env: dict[str, str]) -> Run:
    process = await asyncio.create_subprocess_exec(
        PEJLING,
        *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return Run(process.returncode, out.decode(), err.decode())


async def in_process(*args: str, env: dict[str, str]) -> Run:
    """`pejling ARGS` through the same entry point, in a worker thread of this process: the
    same parsing, settings, database and output, without a second's interpreter start-up
    per call. (The tests below also run the installed command as a real process.)"""
    out, err = io.StringIO(), io.StringIO()

    def call() -> int:
        with (
            patch.dict(os.environ, env),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            return cli.main(list(args))

    code = await asyncio.to_thread(call)
    return Run(code, out.getvalue(), err.getvalue())


async def test_cli_sets_up_units_citizens_invites_and_a_round(
    database_url: str, tmp_path: Path
) -> None:
    pejling = in_process
    env = {"DATABASE_URL": database_url, "BOT_USERNAME": BOT_USERNAME, "BOT_TOKEN": TOKEN}
    upgrade = await pejling("db", "upgrade", env=env)
    assert upgrade.code == 0, upgrade.err

    unit = await pejling("unit", "add", "Plejecenter Åbakken", "--kind", "care_home", env=env)
    assert (unit.code, unit.out.strip()) == (0, "1")
    again = await pejling("unit", "add", "plejecenter åbakken", "--kind", "care_home", env=env)
    assert again.code == 2 and "already a unit" in again.err

    citizen = await pejling(
        "citizen", "add", "--unit", "Plejecenter Åbakken", "--name", "Anna", env=env
    )
    assert (citizen.code, citizen.out.strip()) == (0, "1")
    nowhere = await pejling("citizen", "add", "--unit", "Nowhere", env=env)
    assert nowhere.code == 2
    assert nowhere.err.strip() == (
        "pejling: there is no unit 'Nowhere' (see the unit names with `pejling unit list`)"
    )

    links = await pejling("invite", "relative", "--citizen", "1", "--count", "2", env=env)
    assert links.code == 0, links.err
    lines = links.out.split()
    assert len(lines) == 2 and len(set(lines)) == 2
    assert all(line.startswith(f"https://t.me/{BOT_USERNAME}?start=") for line in lines)
    assert all(len(line.split("=", 1)[1]) >= 22 for line in lines)  # >= 128 bits of base64
    missing = await pejling("invite", "relative", "--citizen", "99", env=env)
    assert missing.code == 2 and missing.err.strip() == (
        "pejling: there is no citizen with reference or id '99' "
        "(see them with `pejling citizen list`)"
    )

    surveys = await pejling("survey", "list", env=env)
    assert surveys.out.startswith("standard\tv1\tcitizen,relative")

    round_ = await pejling(
        "round",
        "start",
        "--survey",
        "standard",
        "--unit",
        "1",
        "--audience",
        "both",
        "--closes",
        "14d",
        env=env,
    )
    assert (round_.code, round_.out.strip()) == (0, "1"), round_.err
    bad_close = await pejling(
        "round",
        "start",
        "--survey",
        "standard",
        "--unit",
        "1",
        "--audience",
        "both",
        "--closes",
        "next week",
        env=env,
    )
    assert bad_close.code == 2 and "--closes 'next week'" in bad_close.err
    unknown = await pejling(
        "round", "start", "--survey", "nope", "--unit", "1", "--audience", "both", env=env
    )
    assert unknown.code == 2 and "unknown survey 'nope'" in unknown.err
    nowhere_round = await pejling(
        "round",
        "start",
        "--survey",
        "standard",
        "--unit",
        "1",
        "--unit",
        "Nowhere",
        "--audience",
        "both",
        env=env,
    )
    assert nowhere_round.code == 2 and "there is no unit 'Nowhere'" in nowhere_round.err
    listing = await pejling("round", "list", env=env)
    assert len(listing.out.splitlines()) == 1  # nothing half-made by the failed start

    reworded = tmp_path / "reworded.yaml"
    reworded.write_text(
        (Path(__file__).parents[2] / "surveys" / "standard.yaml")
        .read_text(encoding="utf-8")
        .replace("Hvor tilfreds er du med maden?", "Hvad synes du om maden?"),
        encoding="utf-8",
    )
    check = await pejling("survey", "check", str(reworded), env=env)
    assert check.code == 2
    assert "no English translation for 'Hvad synes du om maden?'" in check.err

    assert listing.out.startswith("1\tstandard\tboth\topen")
    status = await pejling("round", "status", "1", env=env)
    assert "invited\t0" in status.out and "Plejecenter Åbakken" in status.out

    left = await pejling("citizen", "leave", "1", "--reason", "died", env=env)
    assert left.code == 0 and "citizen 1 has died" in left.out
    gone = await pejling("invite", "relative", "--citizen", "1", env=env)
    assert gone.code == 2 and gone.err.strip() == "pejling: citizen 1 has left (died)"

    added = await pejling(
        "schedule",
        "add",
        "--survey",
        "standard",
        "--unit",
        "1",
        "--audience",
        "relatives",
        "--every",
        "quarter",
        env=env,
    )
    assert (added.code, added.out.strip()) == (0, "1"), added.err
    schedules = await pejling("schedule", "list", env=env)
    assert schedules.out.startswith("1\tstandard\trelatives\tevery quarter\tnext 20")
    removed = await pejling("schedule", "remove", "1", env=env)
    assert removed.code == 0
    again = await pejling("schedule", "remove", "1", env=env)
    assert again.code == 2 and again.err.strip() == "pejling: there is no schedule 1"


async def test_bad_settings_and_bad_survey_files_give_one_clear_line(tmp_path: Path) -> None:
    sqlite = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"}
    bad_url = await pejling("unit", "list", env={"DATABASE_URL": "mysql://localhost/x"})
    assert bad_url.code == 2
    assert bad_url.err.startswith("pejling: DATABASE_URL: ")
    assert len(bad_url.err.strip().splitlines()) == 1

    bad_token = await pejling("run", env={**sqlite, "BOT_TOKEN": "not-a-token"})
    assert bad_token.code == 2 and bad_token.err.startswith("pejling: BOT_TOKEN: ")
    no_token = await pejling("run", env={**sqlite, "BOT_TOKEN": ""})
    assert no_token.code == 2 and "BOT_TOKEN is not set" in no_token.err
    # A token of the right form that Telegram refuses (wrong, or revoked at @BotFather).
    async with BotAPIStandIn(token=TOKEN, bot_username=BOT_USERNAME) as standin:
        refused = await pejling(
            "run",
            env={
                **sqlite,
                "BOT_TOKEN": TOKEN.replace(TOKEN[-6:], "XXXXXX"),
                "TELEGRAM_API_URL": standin.url,
                "HEALTH_PORT": "0",
                "WEB_PORT": "0",
            },
        )
    # After `run`'s migration lines, one line says what is wrong; no traceback.
    assert refused.code == 2, refused.err
    assert (
        refused.err.strip()
        .splitlines()[-1]
        .startswith("pejling: BOT_TOKEN: Telegram refused the token (401")
    )
    assert "Traceback" not in refused.err and "Unclosed" not in refused.err, refused.err
    # Telegram (or the way to it) down when Pejling starts: one line naming the address.
    async with BotAPIStandIn(token=TOKEN, bot_username=BOT_USERNAME) as standin:
        standin.outage("disconnect")
        unreachable = await pejling(
            "run",
            env={
                **sqlite,
                "BOT_TOKEN": TOKEN,
                "TELEGRAM_API_URL": standin.url,
                "HEALTH_PORT": "0",
                "WEB_PORT": "0",
            },
        )
    assert unreachable.code == 2, unreachable.err
    assert (
        unreachable.err.strip()
        .splitlines()[-1]
        .startswith(f"pejling: TELEGRAM_API_URL: cannot reach Telegram at {standin.url} (")
    )
    assert "Traceback" not in unreachable.err and "Unclosed" not in unreachable.err

    broken = tmp_path / "broken.yaml"
    broken.write_text(
        (Path(__file__).parents[2] / "surveys" / "standard.yaml")
        .read_text(encoding="utf-8")
        .replace("scale: KENDER4", "scale: NOSUCH"),
        encoding="utf-8",
    )
    check = await pejling("survey", "check", str(broken), env=sqlite)
    assert check.code == 2
    assert check.err.startswith(f"pejling: {broken}: item K2: ")
    assert "NOSUCH" in check.err and len(check.err.strip().splitlines()) == 1


async def test_pejling_run_migrates_a_new_sqlite_file_and_serves_a_person(
    tmp_path: Path,
) -> None:
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'new.db'}",
        "BOT_TOKEN": TOKEN,
        "BOT_USERNAME": BOT_USERNAME,
        "SENDER_INTERVAL_SECONDS": "0.2",
        "CONTACT_HOURS": "00-24",  # the test may run at any time of day
        "HEALTH_PORT": str(free_port()),
        "LOG_FORMAT": "json",
    }
    async with BotAPIStandIn(token=TOKEN, bot_username=BOT_USERNAME) as standin:
        env["TELEGRAM_API_URL"] = standin.url
        process = await asyncio.create_subprocess_exec(
            PEJLING, "run", env={**os.environ, **env}, stderr=asyncio.subprocess.PIPE
        )
        try:
            await standin.wait_for(lambda: bool(standin.calls_of("getUpdates")), timeout=30)
            assert (
                await pejling("unit", "add", "Åbakken", "--kind", "care_home", env=env)
            ).code == 0
            assert (await pejling("citizen", "add", "--unit", "1", env=env)).code == 0
            link = (await pejling("invite", "citizen", "--citizen", "1", env=env)).out.strip()
            person = standin.person(9001)
            await person.send("/start " + link.split("start=")[1])
            await person.press("Ja, jeg vil gerne være med")
            assert "ikke noget spørgeskema til dig lige nu" in person.last.text
            started = await pejling(
                "round",
                "start",
                "--survey",
                "standard",
                "--unit",
                "1",
                "--audience",
                "citizens",
                env=env,
            )
            assert started.code == 0, started.err
            # The running bot's scheduler finds the new round in the outbox and invites.
            await standin.wait_for(lambda: "nyt spørgeskema" in person.last.text, timeout=30)
            await person.press("Start spørgeskemaet")
            assert person.last.text.startswith("Spørgsmål 1 af 9")
            async with ClientSession() as client:
                health = await client.get(f"http://127.0.0.1:{env['HEALTH_PORT']}/healthz")
                assert health.status == 200
                body = await health.json()
                assert (body["status"], body["database"], body["scheduler"]) == ("ok",) * 3
        finally:
            process.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(process.communicate(), timeout=30)
        assert process.returncode == 0, err.decode()[-2000:]
        # LOG_FORMAT=json: one JSON object per line, and no person's words or ids in them.
        lines = [json.loads(line) for line in err.decode().splitlines() if line.strip()]
        assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
        assert "9001" not in err.decode() and "Ja, jeg vil" not in err.decode()
