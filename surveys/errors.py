"""Errors a person can cause through the command line or the chat.

A domain error carries a code (``Problem``) and the values that explain it, never a
sentence in one language: each edge turns it into text for its reader. The command line
speaks English to the municipality's IT person (``str(error)``, from ``ENGLISH``); the
chat looks the code up in the gettext catalog, so staff read Danish (bot/problems.py).
"""

from __future__ import annotations

from enum import StrEnum


class Problem(StrEnum):
    """What a person got wrong."""

    NO_ROUND = "no_round"
    ROUND_CLOSED_FOR_REMINDERS = "round_closed_for_reminders"
    PERIOD_BACKWARDS = "period_backwards"
    NO_ROUND_IN_PERIOD = "no_round_in_period"
    NO_ROUND_OF_VERSION = "no_round_of_version"
    INVITE_COUNT = "invite_count"
    NO_CITIZEN = "no_citizen"
    NO_CITIZEN_WITH_REF = "no_citizen_with_ref"
    NO_CITIZEN_BY_EITHER = "no_citizen_by_either"
    CITIZEN_REF_AMBIGUOUS = "citizen_ref_ambiguous"
    CITIZEN_LEFT = "citizen_left"
    NO_UNIT_ID = "no_unit_id"
    NO_UNIT_NAMED = "no_unit_named"
    UNIT_NAME_MISSING = "unit_name_missing"
    UNKNOWN_UNIT_KIND = "unknown_unit_kind"
    UNIT_EXISTS = "unit_exists"
    BAD_FIRST_NAME = "bad_first_name"
    FILE_NOT_UTF8 = "file_not_utf8"
    FILE_EMPTY = "file_empty"
    FILE_BAD_LINE = "file_bad_line"
    UNKNOWN_COLUMN = "unknown_column"
    COLUMN_TWICE = "column_twice"
    MISSING_COLUMN = "missing_column"
    BAD_REASON = "bad_reason"
    NO_UNITS = "no_units"
    CLOSING_IN_PAST = "closing_in_past"
    NO_ITEMS_FOR_AUDIENCE = "no_items_for_audience"
    BAD_REMINDERS = "bad_reminders"
    SURVEY_CHANGED = "survey_changed"
    BAD_EVERY = "bad_every"
    EVERY_NEVER_FIRES = "every_never_fires"
    SCHEDULE_NO_UNITS = "schedule_no_units"
    OPEN_DAYS = "open_days"
    NO_SCHEDULE = "no_schedule"


ENGLISH: dict[Problem, str] = {
    Problem.NO_ROUND: "there is no round {round_id}",
    Problem.ROUND_CLOSED_FOR_REMINDERS: "round {round_id} is closed: a reminder comes too late",
    Problem.PERIOD_BACKWARDS: "the period ends ({last}) before it begins ({first})",
    Problem.NO_ROUND_IN_PERIOD: "no round was opened from {first} to {last}",
    Problem.NO_ROUND_OF_VERSION: "no round of survey version {version} was opened in the period",
    Problem.INVITE_COUNT: "the number of invites must be between 1 and 50",
    Problem.NO_CITIZEN: "there is no citizen with id {citizen_id}",
    Problem.NO_CITIZEN_WITH_REF: "there is no citizen with reference {ref!r}",
    Problem.NO_CITIZEN_BY_EITHER: (
        "there is no citizen with reference or id {ref!r} (see them with `pejling citizen list`)"
    ),
    Problem.CITIZEN_REF_AMBIGUOUS: (
        "{ref!r} is the reference of citizen {by_ref} and the id of citizen {by_id}: "
        "write ref:{ref} or id:{ref}"
    ),
    Problem.CITIZEN_LEFT: "citizen {citizen_id} has left ({status})",
    Problem.NO_UNIT_ID: "there is no unit {unit_id}",
    Problem.NO_UNIT_NAMED: "there is no unit {ref!r} (see the unit names with `pejling unit list`)",
    Problem.UNIT_NAME_MISSING: "a unit needs a name",
    Problem.UNKNOWN_UNIT_KIND: "unknown unit kind {kind!r}: use care_home or home_care",
    Problem.UNIT_EXISTS: "there is already a unit called {name!r}",
    Problem.BAD_FIRST_NAME: "a first name has no digits and at most 100 characters",
    Problem.FILE_NOT_UTF8: "{source}: the file is not UTF-8 text; in Excel, save it as 'CSV UTF-8'",
    Problem.FILE_EMPTY: "{source}: the file is empty; {expected}",
    Problem.FILE_BAD_LINE: "{source}: line {line}: {error}",
    Problem.UNKNOWN_COLUMN: (
        "{source}: line 1: unknown column {column!r}; {expected} "
        "(remove other columns: Pejling needs no other data)"
    ),
    Problem.COLUMN_TWICE: "{source}: line 1: the column {column!r} is there twice",
    Problem.MISSING_COLUMN: "{source}: line 1: no column {names}; {expected}",
    Problem.BAD_REASON: "--reason {reason!r}: use moved or died",
    Problem.NO_UNITS: "a round needs at least one unit",
    Problem.CLOSING_IN_PAST: "the closing time must be in the future",
    Problem.NO_ITEMS_FOR_AUDIENCE: "survey {survey!r} has no items for {audience}",
    Problem.BAD_REMINDERS: "at most two reminders, each at least one day after the invitation",
    Problem.SURVEY_CHANGED: (
        "survey {survey!r} version {version} was changed after it was used; "
        "raise its version number in the file"
    ),
    Problem.BAD_EVERY: (
        "--every {every!r}: use month, quarter or a cron expression such as "
        "'0 10 1 */2 *' ({error})"
    ),
    Problem.EVERY_NEVER_FIRES: "--every {every!r} never fires",
    Problem.SCHEDULE_NO_UNITS: "a schedule needs at least one unit",
    Problem.OPEN_DAYS: "a round stays open between 1 and 90 days",
    Problem.NO_SCHEDULE: "there is no schedule {schedule_id}",
}
"""The command line's one-line messages (after ``pejling:``), for the IT person."""


class PejlingError(Exception):
    """A user error: what went wrong (``problem``) and the values that explain it.

    ``str(error)`` is the English line the command line prints; the chat translates
    ``problem`` with ``values`` through the catalog instead.
    """

    def __init__(self, problem: Problem, **values: object) -> None:
        super().__init__(ENGLISH[problem].format(**values))
        self.problem = problem
        self.values = values
