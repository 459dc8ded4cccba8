"""A domain error reaches staff in their language: /runde refused in Danish, not in the
command line's English, and nothing started."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.i18n import make_i18n
from bot.problems import TEXTS
from storage.models import Delivery, InviteRole, Round, SurveyVersion
from surveys.errors import ENGLISH, Problem
from surveys.questionnaire.loader import load_surveys
from tests.harness import BotHarness


async def test_a_refused_round_is_explained_to_staff_in_danish(harness: BotHarness) -> None:
    home = await harness.unit("Plejecenter Åbakken", "care_home")
    await harness.crowd(home, 3, first_user_id=510_000)
    standard = load_surveys()["standard"]
    async with harness.sessions() as session:
        # The file's wording changed without a new version number after the version was used.
        session.add(
            SurveyVersion(
                survey_id=standard.id,
                version=standard.version,
                checksum="0" * 64,
                definition=standard.snapshot(),
            )
        )
        await session.commit()
    nurse = harness.person(511)
    await nurse.send(f"/start {await harness.invite(InviteRole.STAFF, unit_id=home)}")

    await nurse.send("/runde")
    await nurse.press("☐ Plejecenter Åbakken")
    await nurse.press("Videre ➡️")
    await nurse.press(nurse.buttons()[0])  # the standard survey
    await nurse.press("pårørende")
    await nurse.press(nurse.buttons()[1])  # in two weeks
    refusal = await nurse.press("✅ Start runden")

    assert refusal.show_alert
    assert refusal.text == (
        f"Spørgeskemaet «standard» version {standard.version} er ændret, efter at det blev "
        "brugt. Bed den, der passer Pejling, om at give filen et nyt versionsnummer."
    )
    assert "changed" not in refusal.text  # not the command line's English
    async with harness.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Round)) == 0
        assert await session.scalar(select(func.count()).select_from(Delivery)) == 0


def test_every_chat_text_of_a_problem_reads_in_english_after_sprog() -> None:
    i18n = make_i18n()
    for problem, text in TEXTS.items():
        with i18n.context(), i18n.use_locale("da"):
            danish = str(text)
        with i18n.context(), i18n.use_locale("en"):
            english = str(text)
        assert english != danish, problem
    with i18n.context(), i18n.use_locale("en"):
        assert str(TEXTS[Problem.NO_UNITS]) == "Choose at least one unit."
    assert set(ENGLISH) == set(Problem)  # the command line has a line for every problem
