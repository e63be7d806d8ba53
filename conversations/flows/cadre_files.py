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
# the chat state's key: {"ids": [...], "at": iso} the files waiting for a case number, and {"report": [...],
# "for": ref} those sent during a 排查, kept for that report (screening.report_ref) as long as it is under way
# or set aside
_KEY = "files"
_KINDS = ("photo", "voice", "document")


def take(db: Session, *, staff_id: int, message: InboundMessage, state: dict[str, Any], now: datetime,
         locale: str = "zh_CN", report: str | None = None) -> tuple[list[Reply], dict[str, Any]] | None:
    """The answer to a message with files, or to the case number (or 取消) files wait for; None when the
    message is neither (a command: the files keep waiting). `report`: the reference of the 排查 under way,
    whose filing gives the case these files go with (link_waiting), so no case number is asked for."""
    t = translator("conversations", locale)
    staff = db.get(Staff, staff_id)
    if staff is None or not staff.active:
        return None
    state = dict(state)
    waiting, kept_for, ref = _held(state, now)
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
        if report is not None:  # these go with the report's case (not files that waited before it began)
            if ref != report:  # kept for a report no longer under way: they wait for a number (never here)
                waiting, kept_for = waiting + kept_for, []
            _hold(state, waiting, kept_for + kept, report, now)
            held = t.ngettext("Received {n} file: it is kept with this household's case once the report is "
                              "filed.",
                              "Received {n} files: they are kept with this household's case once the report "
                              "is filed.", len(kept_for + kept))
            return [Reply(" ".join([*dict.fromkeys(refused), held.format(n=len(kept_for + kept))]))], state
        _hold(state, waiting + kept, kept_for, ref, now)
        ask = t.ngettext("Received {n} file. Which case is it for? Reply with the case number, for example "
                         "SB7K2M9QXA. Reply 取消 not to keep it.",
                         "Received {n} files. Which case are they for? Reply with the case number, for "
                         "example SB7K2M9QXA. Reply 取消 not to keep them.", len(waiting + kept))
        return [Reply(" ".join([*dict.fromkeys(refused), ask.format(n=len(waiting + kept))]))], state
    if not waiting or not text:
        return None
    if found is not None:
        return _link(db, t, staff, found.group(1), waiting, text, now, state, [])
    if CANCEL.match(text):  # the files a report set aside keeps stay with it
        drop(db, waiting)
        _hold(state, [], kept_for, ref, now)
        return [Reply(t.gettext("All right, the files were not kept."))], state
    return None


def link_waiting(db: Session, *, staff_id: int, number: str, report: str | None, state: dict[str, Any],
                 now: datetime, locale: str = "zh_CN") -> tuple[list[Reply], dict[str, Any]] | None:
    """The files kept for the 排查 `report` go with case `number` (the case it just filed or joined); files
    still waiting for a case number are named. None when no file waits."""
    state = dict(state)
    waiting, kept_for, ref = _held(state, now)
    t = translator("conversations", locale)
    staff = db.get(Staff, staff_id)
    if staff is None or not (waiting or kept_for):
        return None
    replies: list[Reply] = []
    if kept_for and ref in (report, None):  # None: kept before files knew their report's reference
        _hold(state, waiting, [], None, now)
        replies, state = _link(db, t, staff, number, kept_for, "", now, state, [])
    still, _kept_for, _ref = _held(state, now)
    if still and set(still) <= set(waiting):  # (not when the case was not found: that answer asks already)
        replies.append(_still_waiting(t, len(still)))
    return replies, state


def release(*, reports: dict[str, str], named: dict[str, str], reporting: bool, state: dict[str, Any],
            now: datetime, locale: str = "zh_CN") -> tuple[list[Reply], dict[str, Any]] | None:
    """Files kept for a 排查 that is neither under way nor set aside any more (`reports`: those that are, by
    reference) wait for a case number like any other, from now: said, naming the household they were sent
    for (`named`: the head's name by reference), and how to keep them (after the report now under way, if
    `reporting`). None when none was released."""
    state = dict(state)
    waiting, kept_for, ref = _held(state, now)
    if not kept_for or ref is None or ref in reports:
        return None
    _hold(state, waiting + kept_for, [], None, now)
    t = translator("conversations", locale)
    if not reporting:
        return [_still_waiting(t, len(kept_for))], state
    n, name = len(kept_for), named.get(ref)
    said = (t.ngettext("The {n} file sent for {name}'s household does not go with this household.",
                       "The {n} files sent for {name}'s household do not go with this household.", n)
            if name else
            t.ngettext("The {n} file sent for the report given up does not go with this household.",
                       "The {n} files sent for the report given up do not go with this household.", n))
    after = t.ngettext("Once this report is filed, reply with its case number to keep it.",
                       "Once this report is filed, reply with their case number to keep them.", n)
    return [Reply(" ".join([said.format(n=n, name=name), after]))], state


def held(state: dict[str, Any], now: datetime) -> list[int]:
    """The files the chat keeps with no case yet: for a 排查, or waiting for a case number (what unlinking
    the chat discards)."""
    waiting, kept_for, _ref = _held(dict(state), now)
    return [*waiting, *kept_for]


def drop(db: Session, ids: list[int]) -> None:
    """Delete the files of `ids` no case has taken (as 取消 deletes those waiting for a number)."""
    db.execute(delete(Attachment).where(Attachment.id.in_(ids), Attachment.case_id.is_(None)))


def _still_waiting(t: Translator, n: int) -> Reply:
    return Reply(t.ngettext("{n} file sent earlier is waiting for its case number: reply with the number "
                            "to keep it, or 取消 not to keep it.",
                            "{n} files sent earlier are waiting for their case number: reply with the number "
                            "to keep them, or 取消 not to keep them.", n).format(n=n))


def _held(state: dict[str, Any], now: datetime) -> tuple[list[int], list[int], str | None]:
    """The files waiting for a case number, if they still wait (FILES_WAIT_FOR; else the chat stops waiting:
    they stay in the database, unlinked), and those kept for a report with its reference."""
    held = state.get(_KEY)
    if not isinstance(held, dict):
        return [], [], None
    kept_for = [int(i) for i in held.get("report") or []]
    try:
        fresh = now - datetime.fromisoformat(str(held.get("at"))) <= FILES_WAIT_FOR
    except ValueError:
        fresh = False
    waiting = [int(i) for i in held.get("ids") or [] if int(i) not in kept_for] if fresh else []
    ref = held.get("for")
    if not (waiting or kept_for):
        state.pop(_KEY, None)
    return waiting, kept_for, (str(ref) if ref is not None else None)


def _hold(state: dict[str, Any], waiting: list[int], kept_for: list[int], ref: str | None,
          now: datetime) -> None:
    """Write what the chat keeps waiting (see _KEY); nothing left: the key goes."""
    if not (waiting or kept_for):
        state.pop(_KEY, None)
        return
    held: dict[str, Any] = {"ids": waiting, "at": now.isoformat()}
    if kept_for:
        held.update(report=kept_for, **({"for": ref} if ref is not None else {}))
    state[_KEY] = held


def _link(db: Session, t: Translator, staff: Staff, number: str, ids: list[int], text: str, now: datetime,
          state: dict[str, Any], refused: list[str]) -> tuple[list[Reply], dict[str, Any]]:
    """The files go with the case, if it is in the cadre's area (else they wait and the number is asked
    again); other files the chat keeps waiting stay as they are."""
    waiting, kept_for, ref = _held(state, now)
    waiting, kept_for = [i for i in waiting if i not in ids], [i for i in kept_for if i not in ids]
    case = find_case_by_number(db=db, number=number)
    if case is None or not case_in_scope(staff, case):  # never 'not yours': the same as no such case
        _hold(state, [*waiting, *ids], kept_for, ref, now)
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
    _hold(state, waiting, kept_for, ref, now)
    done = t.ngettext("Kept with case {number}: {n} file.", "Kept with case {number}: {n} files.",
                      len(ids)).format(number=case.number, n=len(ids))
    return [Reply(" ".join([*dict.fromkeys(refused), done]))], state


def _refusal(t: Translator, problem: str) -> str:
    if problem == "too_large":
        return t.gettext("Sorry, that file is too large (more than 20 MB). Please send a smaller photo.")
    return t.gettext("Sorry, we can keep photos, voice messages and PDF files, but not this kind of file.")
