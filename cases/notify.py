"""The Notifier Protocol: cases records, never sends. bot/notify.py implements it (Outbox rows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session


class Notifier(Protocol):
    """Tells staff or a household's linked contacts about an event (rendered by the implementer)."""

    def notify_staff(self, db: Session, *, staff_id: int, event: str, params: dict[str, Any]) -> None: ...

    def notify_household(
        self, db: Session, *, household_id: int, event: str, params: dict[str, Any]
    ) -> None: ...


class NullNotifier:
    """Tells no one (imports, scripts)."""

    def notify_staff(self, db: Session, *, staff_id: int, event: str, params: dict[str, Any]) -> None:
        return None

    def notify_household(self, db: Session, *, household_id: int, event: str, params: dict[str, Any]) -> None:
        return None


@dataclass
class RecordingNotifier:
    """Keeps every notification in memory, in order, for tests: ("staff"|"household", id, event, params)."""

    sent: list[tuple[str, int, str, dict[str, Any]]] = field(default_factory=list)

    def notify_staff(self, db: Session, *, staff_id: int, event: str, params: dict[str, Any]) -> None:
        self.sent.append(("staff", staff_id, event, dict(params)))

    def notify_household(self, db: Session, *, household_id: int, event: str, params: dict[str, Any]) -> None:
        self.sent.append(("household", household_id, event, dict(params)))

    def events(self) -> list[tuple[str, int, str]]:
        return [(kind, target, event) for kind, target, event, _ in self.sent]
