"""Photos, voice messages and files a cadre sends from their bound chat (a home visit's photos, a signed
paper): kept with the case a case number names, in the caption or in the next message. Nothing sent is
dropped: files sent without a number are kept at once and wait for it (FILES_WAIT_FOR); 取消 drops them.

Called by flows/cadre.py inside the service's transaction (never commits); every file linked to a case is
a case event and an audit entry, and only a case in the cadre's own area takes them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from cases import audit
from cases.crypto import mask_text
from cases.events import add_event, staff_label
from cases.intake import find_case_by_number
from cases.models import Attachment, Channel, Staff
from conversations.apply import attachment_problem, keep_attachment
from conversations.flows.cadre_commands import ANY_CASE, CANCEL, case_in_scope
from conversations.i18n import Translator, translator
from conversations.messages import InboundMessage, Reply

FILES_WAIT_FOR = timedelta(minutes=30)  # files sent without a case number wait this long for one
_KEY = "files"  # the chat state's key: {"ids": [...], "at": iso}
_KINDS = ("photo", "voice", "document")


def take(db: Session, *, staff_id: int, message: InboundMessage, state: dict[str, Any], now: datetime,
         locale: str = "zh_CN", reporting: bool = False) -> tuple[list[Reply], dict[str, Any]] | None:
    """The answer to a message with files, or to the case number (or 取消) files wait for; None when the
    message is neither (a command: the files keep waiting). `reporting`: a 排查 is under way, whose filing
    gives the case the files go with (link_waiting), so no case number is asked for."""
    t = translator("conversations", locale)
    staff = db.get(Staff, staff_id)
    if staff is None or not staff.active:
        return None
    state = dict(state)
    waiting = _waiting(state, now)
    text = (message.text or "").strip()
    found = ANY_CASE.search(text)
    files = [a for a in message.attachments if a.kind in _KINDS]
    if files:
        kept: list[int] = []
        refused: list[str] = []
        for att in files:
            problem = attachment_problem(att)
            if problem is None:
                kept.append(keep_attachment(db, att, case_id=None, channel=Channel(message.channel), now=now,
                                            sent_by_staff_id=staff.id).id)
            else:
                refused.append(_refusal(t, problem))
        if not kept:
            return [Reply(" ".join(dict.fromkeys(refused)))], state
        if found is not None:
            return _link(db, t, staff, found.group(1), waiting + kept, text, now, state, refused)
        state[_KEY] = {"ids": waiting + kept, "at": now.isoformat()}
        if reporting:  # these (not files that waited before the report began) go with the report's case
            state[_KEY]["report"] = [*_for_report(state), *kept]
            held = t.ngettext("Received {n} file: it is kept with this household's case once the report is "
                              "filed.",
                              "Received {n} files: they are kept with this household's case once the report "
                              "is filed.", len(waiting + kept))
            return [Reply(" ".join([*dict.fromkeys(refused), held.format(n=len(waiting + kept))]))], state
        ask = t.ngettext("Received {n} file. Which case is it for? Reply with the case number, for example "
                         "SB7K2M9QXA. Reply 取消 not to keep it.",
                         "Received {n} files. Which case are they for? Reply with the case number, for "
                         "example SB7K2M9QXA. Reply 取消 not to keep them.", len(waiting + kept))
        return [Reply(" ".join([*dict.fromkeys(refused), ask.format(n=len(waiting + kept))]))], state
    if not waiting or not text:
        return None
    if found is not None:
        return _link(db, t, staff, found.group(1), waiting, text, now, state, [])
    if CANCEL.match(text):
        db.execute(delete(Attachment).where(Attachment.id.in_(waiting), Attachment.case_id.is_(None)))
        state.pop(_KEY, None)
        return [Reply(t.gettext("All right, the files were not kept."))], state
    return None


def link_waiting(db: Session, *, staff_id: int, number: str, state: dict[str, Any], now: datetime,
                 locale: str = "zh_CN") -> tuple[list[Reply], dict[str, Any]] | None:
    """The files waiting for a case number go with case `number` (the case a 排查 just filed or joined);
    None when no file waits."""
    state = dict(state)
    waiting = _waiting(state, now)
    sent = [i for i in waiting if i in _for_report(state)]
    staff = db.get(Staff, staff_id)
    if not sent or staff is None:
        return None
    left = [i for i in waiting if i not in sent]  # sent before the report: still wait for their number
    replies, state = _link(db, translator("conversations", locale), staff, number, sent, "", now, state, [])
    if left:
        held = state.get(_KEY)
        state[_KEY] = {"ids": [*(held.get("ids") or [] if isinstance(held, dict) else []), *left],
                       "at": now.isoformat()}
    return replies, state


def _for_report(state: dict[str, Any]) -> list[int]:
    held = state.get(_KEY)
    return [int(i) for i in held.get("report") or []] if isinstance(held, dict) else []


def _waiting(state: dict[str, Any], now: datetime) -> list[int]:
    """The ids of files kept and waiting for a case number, if they still wait (else dropped from state)."""
    held = state.get(_KEY)
    if not isinstance(held, dict):
        return []
    try:
        fresh = now - datetime.fromisoformat(str(held.get("at"))) <= FILES_WAIT_FOR
    except ValueError:
        fresh = False
    if not fresh:
        state.pop(_KEY, None)  # kept in the database, unlinked; the chat stops waiting
        return []
    return [int(i) for i in held.get("ids") or []]


def _link(db: Session, t: Translator, staff: Staff, number: str, ids: list[int], text: str, now: datetime,
          state: dict[str, Any], refused: list[str]) -> tuple[list[Reply], dict[str, Any]]:
    """The files go with the case, if it is in the cadre's area (else the number is asked again)."""
    case = find_case_by_number(db=db, number=number)
    if case is None or not case_in_scope(staff, case):  # never 'not yours': the same as no such case
        state[_KEY] = {"ids": ids, "at": now.isoformat()}
        return [Reply(" ".join([*dict.fromkeys(refused), t.gettext(
            "No case {number} in your area. Please check the number and send it again, or reply 取消.")
            .format(number=number)]))], state
    db.execute(update(Attachment).where(Attachment.id.in_(ids), Attachment.case_id.is_(None))
               .values(case_id=case.id))
    note = mask_text(ANY_CASE.sub("", text).strip())[:500] or None
    add_event(db, case, action="staff_attachment", now=now, actor_label=staff_label(staff),
              actor_staff_id=staff.id, note=note, data={"attachment_ids": ids, "via": "chat"})
    audit.record(db=db, actor=audit.staff_actor(staff.id), actor_staff_id=staff.id, action="attachment.add",
                 entity="case", entity_id=case.id, area_code=case.area_code,
                 detail={"attachment_ids": ids}, now=now)
    state.pop(_KEY, None)
    done = t.ngettext("Kept with case {number}: {n} file.", "Kept with case {number}: {n} files.",
                      len(ids)).format(number=case.number, n=len(ids))
    return [Reply(" ".join([*dict.fromkeys(refused), done]))], state


def _refusal(t: Translator, problem: str) -> str:
    if problem == "too_large":
        return t.gettext("Sorry, that file is too large (more than 20 MB). Please send a smaller photo.")
    return t.gettext("Sorry, we can keep photos, voice messages and PDF files, but not this kind of file.")
