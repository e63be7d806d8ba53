"""The Notifier Protocol: cases records, never sends. bot/notify.py implements it (Outbox rows)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

from cases.models import Outbox


class StaffNotifier(Protocol):
    """Tells a staff member about an event (rendered by the implementer); all the reminder sweep needs.
    Gives back the Outbox rows it wrote, in order (none when it writes none): the sweep logs and holds
    exactly those, never another writer's rows that reached the table meanwhile."""

    def notify_staff(
        self, db: Session, *, staff_id: int, event: str, params: dict[str, Any]
    ) -> Sequence[Outbox]: ...


class Notifier(StaffNotifier, Protocol):
    """Tells staff or a household's linked contacts about an event (rendered by the implementer)."""

    def notify_household(
        self, db: Session, *, household_id: int, event: str, params: dict[str, Any]
    ) -> None: ...


class NullNotifier:
    """Tells no one (imports, scripts)."""

    def notify_staff(
        self, db: Session, *, staff_id: int, event: str, params: dict[str, Any]
    ) -> Sequence[Outbox]:
        return ()

    def notify_household(self, db: Session, *, household_id: int, event: str, params: dict[str, Any]) -> None:
        return None


@dataclass
class RecordingNotifier:
    """Keeps every notification in memory, in order, for tests: ("staff"|"household", id, event, params)."""

    sent: list[tuple[str, int, str, dict[str, Any]]] = field(default_factory=list)

    def notify_staff(
        self, db: Session, *, staff_id: int, event: str, params: dict[str, Any]
    ) -> Sequence[Outbox]:
        self.sent.append(("staff", staff_id, event, dict(params)))
        return ()

    def notify_household(self, db: Session, *, household_id: int, event: str, params: dict[str, Any]) -> None:
        self.sent.append(("household", household_id, event, dict(params)))

    def events(self) -> list[tuple[str, int, str]]:
        return [(kind, target, event) for kind, target, event, _ in self.sent]
