"""The injected clock: everything that needs 'now' takes one of these."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]
BEIJING = ZoneInfo("Asia/Shanghai")


def system_clock() -> datetime:
    """Timezone-aware UTC now."""
    return datetime.now(UTC)


class FrozenClock:
    """A clock for tests and simulations: fixed until moved."""

    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        from datetime import timedelta

        self.now = self.now + timedelta(**kwargs)
