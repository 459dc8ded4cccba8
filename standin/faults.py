"""Fault injection: failing calls on purpose, Telegram's outages, and its flood control (429)."""

from __future__ import annotations

import math
import random
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Final, Literal

from .errors import ApiError, default_description
from .params import Params, as_int

__all__ = ["DISCONNECTED", "GATEWAY_PAGE", "OUTAGES", "Faults", "Outage"]

# What a request meets while Telegram, or the way to it, is down (see Faults.outage):
# the connection closed without an answer, Telegram's own 502 in its JSON shape, a
# proxy's HTML error page (which is not JSON, so aiogram cannot even read it), or no
# answer at all: the connection is accepted and held until the outage ends (then it is
# closed) or the client gives up waiting (its timeout).
Outage = Literal["disconnect", "bad_gateway", "gateway_page", "hang"]
OUTAGES: Final[tuple[Outage, ...]] = ("disconnect", "bad_gateway", "gateway_page", "hang")
GATEWAY_PAGE: Final = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
#: The status recorded for a request whose connection was closed without an answer.
DISCONNECTED: Final = 0


@dataclass
class _Fault:
    method: str  # lower-case method name
    status: int
    description: str
    retry_after: int | None
    remaining: int
    chat_id: int | None


@dataclass(frozen=True)
class _OutageTrigger:
    """An outage that begins with the next call of ``method`` (to ``chat_id``, if given)."""

    kind: Outage
    method: str  # lower-case method name
    chat_id: int | None


@dataclass
class _FractionFault:
    fraction: float
    status: int
    description: str
    retry_after: int | None
    rng: random.Random


@dataclass
class _Window:
    """Sliding window for the rate limiter: ``capacity`` calls per ``span`` seconds."""

    capacity: int
    span: float
    stamps: deque[float] = field(default_factory=deque)

    @classmethod
    def per_second(cls, rate: float) -> _Window:
        capacity = max(1, math.floor(rate))
        return cls(capacity=capacity, span=capacity / rate)

    def retry_after(self, now: float) -> int | None:
        while self.stamps and now - self.stamps[0] >= self.span:
            self.stamps.popleft()
        if len(self.stamps) < self.capacity:
            return None
        return max(1, math.ceil(self.stamps[0] + self.span - now))


class Faults:
    """The failures a test asked for; :meth:`check` applies them to one call."""

    def __init__(self) -> None:
        self._faults: list[_Fault] = []
        self._fraction_faults: dict[str, _FractionFault] = {}
        #: The outage in progress (every request meets it), or None.
        self.outage: Outage | None = None
        self._outage_trigger: _OutageTrigger | None = None
        self._global_window: _Window | None = None
        self._chat_rate: float | None = None
        self._chat_windows: dict[int, _Window] = {}

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        description: str | None,
        retry_after: int | None,
        count: int,
        chat_id: int | None,
    ) -> None:
        """Fail the next ``count`` calls of ``method`` (see BotAPIStandIn.fail_next)."""
        if status == 429 and retry_after is None:
            retry_after = 1
        self._faults.append(
            _Fault(
                method=method.lower(),
                status=status,
                description=description or default_description(status, retry_after),
                retry_after=retry_after,
                remaining=count,
                chat_id=chat_id,
            ),
        )

    def fail_fraction(
        self,
        method: str,
        fraction: float,
        status: int,
        retry_after: int | None,
        seed: int | None,
        *,
        description: str | None,
    ) -> None:
        """Fail a random share of the calls of ``method`` (see BotAPIStandIn.fail_fraction)."""
        key = method.lower()
        if fraction <= 0:
            self._fraction_faults.pop(key, None)
            return
        if status == 429 and retry_after is None:
            retry_after = 1
        self._fraction_faults[key] = _FractionFault(
            fraction=fraction,
            status=status,
            description=description or default_description(status, retry_after),
            retry_after=retry_after if status == 429 else None,
            rng=random.Random(seed),
        )

    def clear(self) -> None:
        """Remove every pending fail_next / fail_fraction rule, and end an outage."""
        self._faults.clear()
        self._fraction_faults.clear()
        self.end_outage()

    def start_outage(
        self, kind: Outage, *, at: str | None = None, chat_id: int | None = None
    ) -> None:
        """Telegram is down until :meth:`end_outage`: every request meets ``kind``; with
        ``at``, Telegram answers until the next call of that method (to ``chat_id``, if
        given), and is down from that call on."""
        if kind not in OUTAGES:
            raise ValueError(f"unknown outage {kind!r}; one of {', '.join(OUTAGES)}")
        if at is None:
            self.outage, self._outage_trigger = kind, None
        else:
            self.outage, self._outage_trigger = None, _OutageTrigger(kind, at.lower(), chat_id)

    def end_outage(self) -> None:
        """Telegram answers again (an outage still waiting for its first call is dropped)."""
        self.outage = None
        self._outage_trigger = None

    def outage_met(self, method: str, params: Params) -> Outage | None:
        """The outage a call of ``method`` meets: the one in progress, or one it begins."""
        trigger = self._outage_trigger
        if (
            self.outage is None
            and trigger is not None
            and trigger.method == method.lower()
            and trigger.chat_id in (None, as_int(params.get("chat_id")))
        ):
            self.outage, self._outage_trigger = trigger.kind, None
        return self.outage

    def limits(self, global_per_second: float | None, per_chat_per_second: float | None) -> None:
        """Telegram-like flood control for sending and editing methods (None: no limit)."""
        self._global_window = _Window.per_second(global_per_second) if global_per_second else None
        self._chat_rate = per_chat_per_second or None
        self._chat_windows.clear()

    def check(self, method: str, params: Params) -> None:
        """Raise the ApiError a call of ``method`` meets: an injected fault, or a 429."""
        self._apply_faults(method, params)
        self._apply_rate_limits(method, params)

    def _apply_faults(self, method: str, params: Params) -> None:
        key = method.lower()
        chat_id = as_int(params.get("chat_id"))
        for fault in self._faults:
            if fault.method == key and fault.chat_id in (None, chat_id):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                raise ApiError(fault.status, fault.description, retry_after=fault.retry_after)
        fraction = self._fraction_faults.get(key)
        if fraction is not None and fraction.rng.random() < fraction.fraction:
            raise ApiError(fraction.status, fraction.description, retry_after=fraction.retry_after)

    def _apply_rate_limits(self, method: str, params: Params) -> None:
        # Telegram's flood control is about messages: sends and edits, not chat actions.
        if not method.startswith(("send", "edit", "copy", "forward")) or method == "sendChatAction":
            return
        now = time.monotonic()
        windows: list[_Window] = []
        if self._global_window is not None:
            windows.append(self._global_window)
        chat_id = as_int(params.get("chat_id"))
        if self._chat_rate is not None and chat_id is not None:
            window = self._chat_windows.get(chat_id)
            if window is None:
                window = self._chat_windows[chat_id] = _Window.per_second(self._chat_rate)
            windows.append(window)
        waits = [wait for window in windows if (wait := window.retry_after(now)) is not None]
        if waits:
            retry_after = max(waits)
            raise ApiError(429, default_description(429, retry_after), retry_after=retry_after)
        for window in windows:
            window.stamps.append(now)
