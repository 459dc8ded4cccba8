"""The one set of names for what Pejling stores: a unit's kind, who answers, a person's
role, a round's audience, a citizen's status, a delivery's state and an answer's kind.

Pure Python (no sqlalchemy), so the models and the whole domain, the questionnaire
included, use the very same enums. The values are what the database holds: change one
only with a migration.
"""

from __future__ import annotations

from enum import StrEnum


class UnitKind(StrEnum):
    """The kind of care unit a citizen belongs to."""

    CARE_HOME = "care_home"
    HOME_CARE = "home_care"


class Audience(StrEnum):
    """Who answers: the citizen, or a relative answering about the citizen (a respondent's
    kind, a delivery's audience, the people a survey item is asked of)."""

    CITIZEN = "citizen"
    RELATIVE = "relative"


class InviteRole(StrEnum):
    """What a person is to Pejling, given by the invite they opened: one of the two
    audiences, or staff (``STAFF_ROLES``), who may start rounds."""

    CITIZEN = Audience.CITIZEN.value
    RELATIVE = Audience.RELATIVE.value
    STAFF = "staff"
    COORDINATOR = "coordinator"


STAFF_ROLES = (InviteRole.STAFF, InviteRole.COORDINATOR)
"""The roles of staff: staff see their own units, coordinators all of them."""


class RoundAudience(StrEnum):
    """Whom a round is sent to."""

    CITIZENS = "citizens"
    RELATIVES = "relatives"
    BOTH = "both"


ROUND_AUDIENCES: dict[RoundAudience, tuple[Audience, ...]] = {
    RoundAudience.CITIZENS: (Audience.CITIZEN,),
    RoundAudience.RELATIVES: (Audience.RELATIVE,),
    RoundAudience.BOTH: (Audience.CITIZEN, Audience.RELATIVE),
}
"""The audiences a round of each kind is sent to."""


class CitizenStatus(StrEnum):
    """Whether a citizen is still in a unit's care."""

    ACTIVE = "active"
    MOVED = "moved"
    DIED = "died"


class DeliveryStatus(StrEnum):
    """Where one person's invitation to one round stands."""

    PENDING = "pending"  # written, invitation not yet sent (the outbox)
    SENDING = "sending"  # claimed by a sender, the message may be in flight
    SENT = "sent"  # invitation delivered, no answer yet
    STARTED = "started"  # at least one answer
    COMPLETED = "completed"
    FAILED = "failed"  # Telegram refused the invitation for good
    WITHDRAWN = "withdrawn"  # the person deleted their data; kept as a count only
    CANCELLED = "cancelled"  # the citizen moved or died before the person was invited


OPEN_DELIVERY_STATUSES = (DeliveryStatus.SENT, DeliveryStatus.STARTED)


class AnswerKind(StrEnum):
    """An answer is a chosen option (its position), "Ved ikke", or "Spring over"."""

    VALUE = "value"
    DONT_KNOW = "dont_know"
    SKIP = "skip"


class Channel(StrEnum):
    """How an answer came: through the Telegram bot or the web pages."""

    TELEGRAM = "telegram"
    WEB = "web"
