"""The cadre command flow: where messages of staff-linked contacts (Contact.staff_id set) go.

Registration point for the "follow" engineer: replace `handle` below, or call `register(fn)` at start-up
(api may import conversations). The service calls the registered handler inside the same transaction
as everything else, with the contact's session row locked; the handler may read and write through
`request.db` (never commit), and returns the replies (written to the Outbox by the service) and the
new JSON-serialisable state kept for this contact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from cases.crypto import Vault
from cases.notify import Notifier
from conversations.i18n import translator
from conversations.messages import InboundMessage, Reply
from nlu.types import Parse


@dataclass
class CadreRequest:
    db: Session
    staff_id: int
    contact_id: int
    message: InboundMessage
    parse: Parse
    state: dict[str, Any]
    now: datetime
    vault: Vault
    notifier: Notifier
    locale: str = "zh_CN"


@dataclass
class CadreResponse:
    replies: list[Reply]
    state: dict[str, Any] = field(default_factory=dict)


CadreHandler = Callable[[CadreRequest], CadreResponse]


def handle(request: CadreRequest) -> CadreResponse:
    """Until the cadre commands land: a friendly help for anything (never silence)."""
    t = translator("conversations", request.locale)
    return CadreResponse(
        replies=[Reply(t.gettext("This chat is linked to your staff account. Case reminders will come "
                                 "here; please use the staff console for case work."))],
        state=dict(request.state),
    )


_handler: CadreHandler = handle


def register(handler: CadreHandler) -> None:
    """Install the cadre command handler (follow's cadre commands)."""
    global _handler
    _handler = handler


def current() -> CadreHandler:
    return _handler
