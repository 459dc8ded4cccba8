"""The coordinator's commands that name a citizen take the municipality's reference as
well as the id; `citizen list` shows both; a citizens file that still lists someone who
left imports the rest. Through the `pejling` entry point, on both databases."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Citizen, CitizenStatus, Invite
from tests.bot.test_cli import in_process as pejling
from tests.harness import BOT_USERNAME, TOKEN

CITIZENS = (
    "Enhed;Fornavn;Reference;Plejeform;Pårørende\n"
    "Plejecenter Åbakken;Anna;B-0042;plejecenter;2\n"
    "Hjemmeplejen Nord;Karl;H-1187;hjemmepleje;0\n"
    # A reference that is a number, and the id of another citizen (Anna is 1).
    "Plejecenter Åbakken;Bodil;1;plejecenter;1\n"
)


async def set_up(database_url: str, tmp_path: Path) -> dict[str, str]:
    env = {"DATABASE_URL": database_url, "BOT_USERNAME": BOT_USERNAME, "BOT_TOKEN": TOKEN}
    assert (await pejling("db", "upgrade", env=env)).code == 0
    units = tmp_path / "enheder.csv"
    units.write_text(
        "navn;plejeform\nPlejecenter Åbakken;plejecenter\nHjemmeplejen Nord;hjemmepleje\n"
    )
    assert (await pejling("import", "units", str(units), env=env)).code == 0
    citizens = tmp_path / "borgere.csv"
    citizens.write_text(CITIZENS, encoding="utf-8")
    imported = await pejling("import", "citizens", str(citizens), env=env)
    assert imported.code == 0, imported.err
    return env


async def test_citizen_list_shows_ids_and_references(database_url: str, tmp_path: Path) -> None:
    env = await set_up(database_url, tmp_path)
    everyone = await pejling("citizen", "list", env=env)
    assert everyone.code == 0, everyone.err
    assert everyone.out.splitlines() == [
        "id\treference\tfirst_name\tstatus\tunit",
        "2\tH-1187\tKarl\tactive\tHjemmeplejen Nord",
        "1\tB-0042\tAnna\tactive\tPlejecenter Åbakken",
        "3\t1\tBodil\tactive\tPlejecenter Åbakken",
    ]
    added = await pejling("citizen", "add", "--unit", "Hjemmeplejen Nord", env=env)
    assert added.out.strip() == "4"
    await pejling("citizen", "leave", "H-1187", "--reason", "moved", env=env)
    north = await pejling("citizen", "list", "--unit", "hjemmeplejen nord", env=env)
    assert north.out.splitlines()[1:] == [
        "2\tH-1187\tKarl\tmoved\tHjemmeplejen Nord",
        "4\t-\t-\tactive\tHjemmeplejen Nord",
    ]
    nowhere = await pejling("citizen", "list", "--unit", "Nowhere", env=env)
    assert nowhere.code == 2 and "there is no unit 'Nowhere'" in nowhere.err


async def test_leave_and_invite_take_the_reference(
    database_url: str, tmp_path: Path, sessions: async_sessionmaker[AsyncSession]
) -> None:
    env = await set_up(database_url, tmp_path)
    links = await pejling("invite", "relative", "--citizen", "B-0042", "--count", "2", env=env)
    assert links.code == 0, links.err
    assert len(links.out.split()) == 2
    own = await pejling("invite", "citizen", "--citizen", "H-1187", env=env)
    assert own.code == 0 and len(own.out.split()) == 1
    async with sessions() as session:
        invited = list(await session.scalars(select(Invite.citizen_id).order_by(Invite.id)))
    assert invited == [1, 1, 2]

    left = await pejling("citizen", "leave", "B-0042", "--reason", "died", env=env)
    assert left.code == 0, left.err
    assert left.out.strip() == (
        "citizen 1 (reference B-0042) has died; 0 unfinished survey(s) stopped"
    )
    by_id = await pejling("citizen", "leave", "2", "--reason", "moved", env=env)
    assert by_id.code == 0 and by_id.out.startswith("citizen 2 (reference H-1187) has moved")
    async with sessions() as session:
        status = {i: s for i, s in await session.execute(select(Citizen.id, Citizen.status))}
    assert status == {1: CitizenStatus.DIED, 2: CitizenStatus.MOVED, 3: CitizenStatus.ACTIVE}


async def test_a_number_that_is_a_reference_and_an_id_must_be_said_which(
    database_url: str, tmp_path: Path, sessions: async_sessionmaker[AsyncSession]
) -> None:
    env = await set_up(database_url, tmp_path)
    both = await pejling("citizen", "leave", "1", "--reason", "moved", env=env)
    assert both.code == 2
    assert both.err.strip() == (
        "pejling: '1' is the reference of citizen 3 and the id of citizen 1: write ref:1 or id:1"
    )
    by_ref = await pejling("citizen", "leave", "ref:1", "--reason", "moved", env=env)
    assert by_ref.code == 0 and by_ref.out.startswith("citizen 3 (reference 1) has moved")
    by_id = await pejling("invite", "relative", "--citizen", "id:1", env=env)
    assert by_id.code == 0, by_id.err
    # A number that is only an id (3 is no one's reference) needs no prefix.
    only_id = await pejling("invite", "relative", "--citizen", "3", env=env)
    assert only_id.code == 2 and only_id.err.strip() == "pejling: citizen 3 has left (moved)"
    for missing, said in (
        ("99", "there is no citizen with reference or id '99'"),
        ("B-9999", "there is no citizen with reference or id 'B-9999'"),
        ("id:B-0042", "there is no citizen with id 'B-0042'"),
        ("ref:3", "there is no citizen with reference '3'"),
        ("³", "there is no citizen with reference or id '³'"),
    ):
        run = await pejling("citizen", "leave", missing, "--reason", "died", env=env)
        assert run.code == 2 and said in run.err, run.err
    async with sessions() as session:
        status = {i: s for i, s in await session.execute(select(Citizen.id, Citizen.status))}
    assert status == {1: CitizenStatus.ACTIVE, 2: CitizenStatus.ACTIVE, 3: CitizenStatus.MOVED}


async def test_importing_the_file_again_after_one_left_skips_that_row(
    database_url: str, tmp_path: Path, sessions: async_sessionmaker[AsyncSession]
) -> None:
    env = await set_up(database_url, tmp_path)
    await pejling("citizen", "leave", "B-0042", "--reason", "died", env=env)
    again = tmp_path / "borgere-igen.csv"
    # The same file a month later: Karl's relatives changed, and a new citizen came.
    again.write_text(
        CITIZENS.replace("Karl;H-1187;hjemmepleje;0", "Karl;H-1187;hjemmepleje;1")
        + "Hjemmeplejen Nord;Dora;H-2001;hjemmepleje;0\n",
        encoding="utf-8",
    )
    run = await pejling("import", "citizens", str(again), env=env)
    assert run.code == 0, run.err
    assert run.err.strip() == "line 2: skipped: the citizen with reference 'B-0042' has left (died)"
    assert run.out.strip() == (
        "citizens: 1 added, 0 moved to another unit, 1 updated, 1 unchanged, 1 skipped (left)"
    )
    async with sessions() as session:
        rows = await session.execute(
            select(Citizen.external_ref, Citizen.status, Citizen.relatives_wanted)
        )
        stored = {ref: (status, relatives) for ref, status, relatives in rows}
    assert stored == {
        "B-0042": (CitizenStatus.DIED, 2),
        "H-1187": (CitizenStatus.ACTIVE, 1),
        "1": (CitizenStatus.ACTIVE, 1),
        "H-2001": (CitizenStatus.ACTIVE, 0),
    }
