"""Survey versions as stored in the database: the exact text a round was sent with."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SurveyVersion
from surveys.errors import PejlingError, Problem
from surveys.questionnaire.loader import survey_from_snapshot
from surveys.questionnaire.schema import Survey

# Stored versions never change, so a parsed copy is kept per checksum for the life of the
# process (keyed by content, not row id, so two databases never mix their surveys).
_parsed: dict[str, Survey] = {}
# (database URL, survey_versions.id) -> the parsed survey, to skip the read altogether.
_by_row: dict[tuple[str, int], Survey] = {}


def checksum(survey: Survey) -> str:
    """A stable hash of a survey's definition."""
    text = json.dumps(survey.snapshot(), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


async def store_version(session: AsyncSession, survey: Survey) -> SurveyVersion:
    """The stored row for this survey version, created on first use.

    A file whose text changed without a new version number is refused: answers
    already given to that version would otherwise point at different wording.
    """
    digest = checksum(survey)
    result = await session.execute(
        select(SurveyVersion).where(
            SurveyVersion.survey_id == survey.id, SurveyVersion.version == survey.version
        )
    )
    row = result.scalar_one_or_none()
    if row is None:
        row = SurveyVersion(
            survey_id=survey.id,
            version=survey.version,
            checksum=digest,
            definition=survey.snapshot(),
        )
        session.add(row)
        await session.flush()
    elif row.checksum != digest:
        raise PejlingError(Problem.SURVEY_CHANGED, survey=survey.id, version=survey.version)
    return row


async def load_version(session: AsyncSession, survey_version_id: int) -> Survey:
    """The survey definition a round was started with.

    Stored versions never change, so each is read once per database and process: every
    button press needs it, and the definition is the biggest row a press would read.
    """
    bind = session.bind
    key = (str(bind.engine.url) if bind is not None else "", survey_version_id)
    survey = _by_row.get(key)
    if survey is not None:
        return survey
    row = await session.get(SurveyVersion, survey_version_id)
    if row is None:
        raise LookupError(f"survey version {survey_version_id} does not exist")
    survey = _parsed.get(row.checksum)
    if survey is None:
        survey = survey_from_snapshot(row.definition)
        _parsed[row.checksum] = survey
    _by_row[key] = survey
    return survey
