"""Claiming a Telegram update: the dedup marker and the sender's account, at the start of
the update's transaction."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import BigInteger, bindparam, event, exists, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from storage.models import ProcessedUpdate, TelegramAccount
from storage.types import utcnow


@lru_cache(maxsize=1)
def _postgres_claim() -> Any:
    """The marker insert in a CTE, joined to the account: one statement."""
    claimed = (
        postgresql.insert(ProcessedUpdate)
        .values(update_id=bindparam("marker_id"), processed_at=bindparam("marker_at"))
        .on_conflict_do_nothing(index_elements=["update_id"])
        .returning(ProcessedUpdate.update_id)
        .cte("claimed")
    )
    return (
        select(claimed.c.update_id, TelegramAccount)
        .select_from(claimed)
        .outerjoin(
            TelegramAccount, TelegramAccount.telegram_user_id == bindparam("telegram_user_id")
        )
    )


@lru_cache(maxsize=1)
def _sqlite_look_up() -> Any:
    """Whether the update is done, and the account: one statement."""
    user_id = bindparam("telegram_user_id", type_=BigInteger)
    person = select(user_id.label("telegram_user_id")).subquery("person")
    done = exists().where(ProcessedUpdate.update_id == bindparam("marker_id"))
    return (
        select(done.label("done"), TelegramAccount)
        .select_from(person)
        .outerjoin(TelegramAccount, TelegramAccount.telegram_user_id == person.c.telegram_user_id)
    )


async def claim_update(
    session: AsyncSession, update_id: int, telegram_user_id: int | None
) -> tuple[bool, TelegramAccount | None]:
    """Mark ``update_id`` as processed in this transaction and load the account of
    ``telegram_user_id``; False when the update was already processed.

    PostgreSQL: one statement, the marker inserted first (a concurrent transaction with
    the same id waits on it until the first commits, then sees the conflict). SQLite has
    no data-modifying CTE, and its one writer at a time should not be held from the
    first statement on, so there the marker is looked up with the account and written
    at commit (a concurrent duplicate then fails on the marker's key: IntegrityError).
    Either way a rollback forgets the marker.
    """
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    params: dict[str, Any] = {"marker_id": update_id, "telegram_user_id": telegram_user_id}
    if dialect == "postgresql":
        params["marker_at"] = utcnow()
        row = (await session.execute(_postgres_claim(), params)).one_or_none()
        return (False, None) if row is None else (True, row[1])
    row = (await session.execute(_sqlite_look_up(), params)).one()
    if row.done:
        return False, None
    _mark_processed_on_commit(session, update_id)
    return True, row[1]


def _mark_processed_on_commit(session: AsyncSession, update_id: int) -> None:
    def add_marker(sync_session: Session) -> None:
        sync_session.add(ProcessedUpdate(update_id=update_id))

    event.listen(session.sync_session, "before_commit", add_marker, once=True)


async def was_processed(session: AsyncSession, update_id: int) -> bool:
    """True when the marker of ``update_id`` is stored (after a concurrent duplicate)."""
    return await session.get(ProcessedUpdate, update_id) is not None
