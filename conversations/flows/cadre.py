"""The cadre command flow: where messages of staff-linked contacts (Contact.staff_id set) go.

`handle` answers with follow's cadre commands (cadre_commands.respond); another handler can be
installed with `register(fn)` at start-up (api may import conversations). The service calls the
handler inside its transaction, with the contact's session row locked; the handler may read and write
through `request.db` (never commit) and returns the replies (written to the Outbox by the service)
and the new JSON-serialisable state kept for this contact.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from cases.crypto import Vault
from cases.models import Staff
from cases.notify import Notifier
from conversations import binding
from conversations.flows import screening
from conversations.i18n import translator
from conversations.messages import InboundMessage, Reply
from nlu.types import Parse

UNBIND = re.compile(r"^\s*(?:解绑|解除绑定|取消绑定|解开绑定|unbind|/unbind)\s*[。.!！]?\s*$", re.IGNORECASE)
_YES = re.compile(r"^\s*(?:1|１|确认|确定|确认解绑|确定解绑|解绑|是|是的|好|好的|对)\s*[。.!！]?\s*$")
_NO = re.compile(r"^\s*(?:2|２|不|不要|不解绑|不用了|否|取消|算了)\s*[。.!！]?\s*$")
UNBIND_WAITS = timedelta(minutes=30)  # how long the confirmation question waits for its answer
_KEY = "unbind"  # the chat state's key while the question waits: {"at": iso}


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
    """解绑 (unlink this chat, confirmed by number), 排查 (report a household found by screening, and the
    answers to its questions), files sent (kept with their case), else follow's cadre commands (待办, 收到,
    案件, 完成, 改期; help otherwise)."""
    from conversations.flows import cadre_screening
    from conversations.flows.cadre_commands import answer
    from conversations.flows.cadre_files import take

    state = dict(request.state)
    asked = state.pop(_KEY, None)  # the question 解绑 asked is answered by this message, or dropped
    unbinding = unbind(request, state, asked=_waiting(asked, request.now))
    if unbinding is not None:
        return unbinding
    # the dialogue's timeout set an unfinished 排查 aside (the service's expiry): said with this answer
    kept = screening.set_aside_note(state, request.locale) if state.pop("expired", False) else None
    response = cadre_screening.take(request, state)
    if response is None:
        report = screening.report_ref(state)
        files = take(request.db, staff_id=request.staff_id, message=request.message, state=state,
                     now=request.now, locale=request.locale, report=report)  # kept with their case
        if files is not None:  # during a 排查, its question again: the filing gives the files their case
            again = cadre_screening.ask_again(request, files[1]) if report is not None else []
            response = CadreResponse(replies=[*files[0], *again], state=files[1])
    if response is None:
        replies, state = answer(request.db, staff_id=request.staff_id, text=request.message.text or "",
                                now=request.now, locale=request.locale, state=state)
        response = CadreResponse(replies=replies, state=state)
    if kept is not None and not screening.STARTS.match(request.message.text or ""):
        response.replies.insert(0, kept)
    return response


def unbind(request: CadreRequest, state: dict[str, Any], *, asked: bool) -> CadreResponse | None:
    """解绑 asks to confirm (1 unlink, 2 keep), saying that an unfinished 排查 (under way or set aside) is
    discarded, and the files no case has taken yet deleted; 1 then unlinks the chat from the staff account,
    audited, and the chat is a plain chat from its next message. None when the message is neither (a
    command)."""
    from conversations.flows.cadre_files import drop, held

    t = translator("conversations", request.locale)
    text = request.message.text or ""
    files = held(state, request.now)  # no case has them: nobody could reach them once the chat is plain
    if asked and _YES.match(text):
        binding.unbind(db=request.db, contact_id=request.contact_id, staff_id=request.staff_id,
                       now=request.now)
        done = t.gettext("Done: this chat is no longer linked to your staff account; reminders will not come "
                         "here. To link it again, get a new code in the console and send 绑定 and the code.")
        if screening.unfinished(state) is not None:  # the question said so
            done += "\n" + t.gettext("The unfinished screening report was discarded.")
        if files:  # deleted, as 取消 deletes them
            drop(request.db, files)
            done += "\n" + t.ngettext("The {n} file not kept with a case yet was deleted.",
                                      "The {n} files not kept with a case yet were deleted.",
                                      len(files)).format(n=len(files))
        return CadreResponse(replies=[Reply(done)], state={})
    if asked and _NO.match(text):  # a 排查 under way goes on: its question again
        from conversations.flows import cadre_screening

        return CadreResponse(replies=[Reply(t.gettext("All right, the chat stays linked.")),
                                      *cadre_screening.ask_again(request, state)], state=state)
    if not UNBIND.match(text):
        return None
    staff = request.db.get(Staff, request.staff_id)
    question = t.gettext("Unlink this chat from your staff account ({name})? Reminders and tasks will no "
                         "longer come here, and it becomes an ordinary chat.").format(
                             name=staff.name if staff is not None else "")
    report = screening.unfinished(state)
    if report is not None:  # an ordinary chat keeps nothing of the account's: said before, never after
        name = report.get("name")
        question += "\n" + (
            t.gettext("Your screening report of {name}'s household is not finished: unlinking discards what "
                      "you typed.").format(name=name) if name else
            t.gettext("Your screening report is not finished: unlinking discards what you typed."))
    if files:
        question += "\n" + t.ngettext("The {n} file you sent that is not kept with a case yet is not kept "
                                      "either.",
                                      "The {n} files you sent that are not kept with a case yet are not kept "
                                      "either.", len(files)).format(n=len(files))
    return CadreResponse(replies=[Reply(question,
                                        choices=("1 " + t.gettext("Yes, unlink"),
                                                 "2 " + t.gettext("No, keep it linked")))],
                         state={**state, _KEY: {"at": request.now.isoformat()}})


def _waiting(asked: object, now: datetime) -> bool:
    """Whether the question 解绑 asked still waits (for UNBIND_WAITS)."""
    if not isinstance(asked, dict):
        return False
    try:
        return now - datetime.fromisoformat(str(asked.get("at"))) <= UNBIND_WAITS
    except ValueError:
        return False


_handler: CadreHandler = handle


def register(handler: CadreHandler) -> None:
    """Install the cadre command handler (follow's cadre commands)."""
    global _handler
    _handler = handler


def current() -> CadreHandler:
    return _handler
