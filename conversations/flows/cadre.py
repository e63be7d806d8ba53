"""The cadre command flow: where messages of staff-linked contacts (Contact.staff_id set) go.

`handle` answers with follow's cadre commands (cadre_commands.respond); another handler can be
installed with `register(fn)` at start-up (api may import conversations). The service calls the
handler inside its transaction, with the contact's session row locked; the handler may read and write
through `request.db` (never commit) and returns the replies (written to the Outbox by the service)
and the new JSON-serialisable state kept for this contact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from cases.crypto import Vault
from cases.notify import Notifier
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
    """Files sent (kept with their case), else follow's cadre commands (待办, 收到, 案件, 完成, 改期; help
    otherwise)."""
    from conversations.flows.cadre_commands import answer
    from conversations.flows.cadre_files import take

    files = take(request.db, staff_id=request.staff_id, message=request.message, state=request.state,
                 now=request.now, locale=request.locale)  # photos of a visit: kept with their case
    if files is not None:
        return CadreResponse(replies=files[0], state=files[1])
    replies, state = answer(request.db, staff_id=request.staff_id, text=request.message.text or "",
                            now=request.now, locale=request.locale, state=dict(request.state))
    return CadreResponse(replies=replies, state=state)


_handler: CadreHandler = handle


def register(handler: CadreHandler) -> None:
    """Install the cadre command handler (follow's cadre commands)."""
    global _handler
    _handler = handler


def current() -> CadreHandler:
    return _handler
