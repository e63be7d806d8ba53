"""The cases.notify.Notifier that bot implements: events rendered through the "bot" catalog and written
as Outbox rows (in the caller's transaction) to every active linked contact; SMS to the phone on file
when no chat identity is linked, and as the fallback when a chat message fails for good (W6, G3)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from bot import outbox, smstext
from bot.i18n import tr
from bot.outbox import Claimed
from cases.clock import Clock
from cases.codes import GUARANTEES, RISKS
from cases.models import Channel, Contact, ContactStatus, Household, Outbox, Staff
from cases.reminders import ReminderPolicy, in_quiet_hours
from cases.subjects import subject_of
from conversations.i18n import N_

log = logging.getLogger(__name__)

# event -> msgid; params fill {fields}; anything missing shows as empty, never a KeyError
TEMPLATES: dict[str, str] = {
    "case_opened": N_(
        "Your report is received. Case number {case_number}. A village cadre will contact you "
        "soon. Reply MENU for the menu."
    ),
    "case_opened_by_proxy": N_(
        "Someone reported a difficulty for your household. Case number {case_number}. A village cadre will "
        "contact you. To sign the application and authorization: reply 签字, then the case number and the "
        "last 4 digits of the head's ID number; or sign when the cadre visits."
    ),
    "case_opened_by_proxy_no_id": N_(
        "Someone reported a difficulty for your household. Case number {case_number}. A village cadre will "
        "contact you and visit; the head of the household signs the application and authorization then."
    ),
    "case_opened_by_staff": N_(
        "Your household's difficulty is recorded for follow-up. Case number {case_number}. A village cadre "
        "will contact you and visit; the head of the household signs the application and authorization then. "
        "Reply MENU for the menu."
    ),
    "case_assigned": N_(
        "{urgent}New case {case_number} in {village}: household {head_name_masked}. "
        "Please contact the household by the end of the working day on {due}."
    ),
    "case_unassigned": N_("Case {case_number} in {village} was moved to another cadre."),
    "case_report_joined": N_("{urgent}Case {case_number} in {village} has a new report. {added}Please look "
                             "at the case."),
    "case_supplemented": N_("{urgent}Case {case_number} in {village}: the household sent more (words, a "
                            "photo or a voice message). {added}Please look at the case."),
    "case_status_changed": N_("Your case {case_number}: {status_text}"),
    "case_withdrawn": N_("Case {case_number} was withdrawn by the household."),
    "authorization_withdrawn": N_(
        "The household withdrew its authorization (annex 1) on case {case_number} in {village}. "
        "Do not check its information; the case waits for a new signature."
    ),
    "objection_raised": N_(
        "An objection was raised on case {case_number} during the public notice. Please look into it."
    ),
    "review_requested": N_("Case {case_number} comes back to you for review."),
    "tasks_moved_away": N_("Your open tasks were handed over to a colleague."),
    "tasks_moved_in": N_("Open tasks of a colleague were handed over to you."),
    "task_escalated": N_(
        "Overdue {days_overdue} days: {task_text} for case {case_number} in {village} "
        "(assigned to {assignee})."
    ),
    "daily_digest": N_(
        "Today: {count} open tasks, {overdue} overdue, {soon} due soon. Reply 待办 for the list."
    ),
}
# what words the household added to its case brought that the case lacked (cases.intake.Added)
ADDED = N_("New: {labels}. ")
TASK_TEMPLATE = N_("Reminder: {task_text} for case {case_number} in {village}, due {due}.")
GENERIC = N_("Case {case_number}: there is news. Reply MENU for the menu.")
URGENT = N_("[Urgent] ")
STATUS_TEXT: dict[str, str] = {
    "applied": N_("your application is received."),
    "verified": N_("the home visit is done; the village will review it."),
    "public_notice": N_("the village review passed; the public notice is running."),
    "township_review": N_("the township is reviewing it."),
    "county_review": N_("the county is reviewing it."),
    "monitored": N_("approved. Your household is now supported and followed up."),
    "refused": N_("not approved. Reason: {reason}. You may ask for a review, or call 12317."),
    "withdrawn": N_("withdrawn as you asked."),
    "eliminated": N_("the risk is marked as removed. Thank you."),
}
NOTICE_UNTIL = N_("the village review passed; the public notice runs until {notice_end}.")
TASK_TEXT: dict[str, str] = {
    "acknowledge": N_("acknowledge the new case"),
    "assign": N_("assign a contact cadre"),
    "verify": N_("home visit"),
    "notice_end": N_("close the public notice"),
    "township": N_("township review"),
    "county": N_("county review"),
    "evaluation": N_("quarterly evaluation"),
    "evaluate": N_("quarterly evaluation"),
    "village_review": N_("village review"),
    "elim_verify": N_("elimination home visit"),
    "elim_review": N_("elimination village review"),
    "elim_notice_end": N_("close the elimination notice"),
    "elim_township": N_("elimination township review"),
    "elim_county": N_("elimination county review"),
    "callback": N_("call the household back"),
}
DIGEST_LINE = N_("{mark} #{task_id} {task_text} · case {case_number} · {village} · due {due}")
DIGEST_MORE = N_("… and {more} more.")
DIGEST_MARKS = {"overdue": "🔴", "soon": "🟠"}
DIGEST_MAX_LINES = 10


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def render(event: str, params: Mapping[str, Any], locale: str | None = None) -> str:
    """The text of one event in `locale` (zh_CN by default), dates through Babel."""
    t = tr(locale)
    values = _Blank(params)
    values["urgent"] = t.gettext(URGENT) if params.get("urgent") else ""
    status = str(params.get("status") or "")
    notice_end = params.get("notice_end")
    if status == "public_notice" and isinstance(notice_end, str):
        values["notice_end"] = t.format_date(date.fromisoformat(notice_end))
        values["status_text"] = t.gettext(NOTICE_UNTIL).format_map(values)
    elif status in STATUS_TEXT:
        values["status_text"] = t.gettext(STATUS_TEXT[status]).format_map(values)
    kind = str(params.get("task_kind") or "")
    values["task_text"] = t.gettext(TASK_TEXT[kind]) if kind in TASK_TEXT else kind
    due = params.get("due_at")
    if isinstance(due, str):
        try:
            due = datetime.fromisoformat(due)
        except ValueError:
            due = None
    if isinstance(due, datetime) and due.tzinfo is not None:
        values["due"] = t.format_date(due)
    if "tasks" in params and "count" not in params:
        values["count"] = len(params.get("tasks") or [])
    added = [GUARANTEES.get(str(c), str(c)) for c in params.get("added_guarantees") or []] + [
        RISKS.get(str(c), str(c)) for c in params.get("added_risks") or []]
    values["added"] = t.gettext(ADDED).format(labels="、".join(added)) if added else ""
    if event in TEMPLATES:
        template = TEMPLATES[event]
    elif event.startswith("task_"):
        template = TASK_TEMPLATE
    else:
        template = GENERIC
    text = t.gettext(template).format_map(values)
    if event == "daily_digest":
        text += _digest_lines(params, locale)
    return text


def _digest_lines(params: Mapping[str, Any], locale: str | None) -> str:
    """The digest's tasks, most pressing first, coloured like the console (red overdue, orange soon)."""
    t = tr(locale)
    tasks = [x for x in params.get("tasks") or [] if isinstance(x, Mapping) and x.get("task_id")]
    lines = []
    for task in tasks[:DIGEST_MAX_LINES]:
        values = _Blank(task)
        values["mark"] = DIGEST_MARKS.get(str(task.get("urgency")), "⚪")
        kind = str(task.get("task_kind") or "")
        values["task_text"] = t.gettext(TASK_TEXT[kind]) if kind in TASK_TEXT else kind
        due = task.get("due_at")
        values["due"] = t.format_date(datetime.fromisoformat(due)) if isinstance(due, str) else ""
        lines.append(t.gettext(DIGEST_LINE).format_map(values))
    if len(tasks) > DIGEST_MAX_LINES:
        lines.append(t.gettext(DIGEST_MORE).format(more=len(tasks) - DIGEST_MAX_LINES))
    return "".join("\n" + line for line in lines)


def e164(phone: str) -> str:
    """Mainland mobile numbers to E.164 (+86...); anything already international is kept."""
    digits = "".join(ch for ch in phone if ch.isdigit() or ch == "+")
    if digits.startswith("+"):
        return digits
    if len(digits) == 11 and digits.startswith("1"):
        return "+86" + digits
    return digits


_STAFF_CONTACTS = select(Contact).where(Contact.staff_id == bindparam("staff_id"))  # built once
_HOUSEHOLD_CONTACTS = select(Contact).where(Contact.household_id == bindparam("household_id"))


@dataclass
class OutboxNotifier:
    """Notifier: one Outbox row per active linked contact; SMS to the phone on file otherwise."""

    decrypt: Callable[[str], str] | None = None  # cases.crypto.Vault.decrypt, for phones on file
    clock: Clock | None = None
    sms_enabled: bool = True
    locale: str | None = None
    staff_sms_quiet: tuple[time, time] | None = None  # no texts to staff then (Beijing); held till it ends

    def _quiet_until(self, now: datetime) -> datetime | None:
        if self.staff_sms_quiet is None:
            return None
        start, end = self.staff_sms_quiet
        return in_quiet_hours(now, ReminderPolicy(quiet_start=start, quiet_end=end))

    def _now(self, db: Session) -> datetime:
        if self.clock is None:
            from cases.clock import system_clock

            return system_clock()
        return self.clock()

    def notify_staff(self, db: Session, *, staff_id: int, event: str, params: dict[str, Any]) -> list[Outbox]:
        staff = db.get(Staff, staff_id)
        if staff is None or not staff.active:
            return []
        contacts = list(db.scalars(_STAFF_CONTACTS, {"staff_id": staff_id}))
        # what the notice is about, so that the dispatcher drops it once that no longer holds (cases.subjects)
        subject = subject_of(event, staff_id, params)
        return self._write(db, contacts, staff.phone_enc, event, params, kind=_kind(event), staff=True,
                           subject=subject)

    def notify_household(self, db: Session, *, household_id: int, event: str, params: dict[str, Any]) -> None:
        household = db.get(Household, household_id)
        if household is None:
            return
        contacts = list(db.scalars(_HOUSEHOLD_CONTACTS, {"household_id": household_id}))
        self._write(db, contacts, household.phone_enc, event, params, kind="notification")

    def _write(
        self,
        db: Session,
        contacts: list[Contact],
        phone_enc: str | None,
        event: str,
        params: dict[str, Any],
        *,
        kind: str,
        staff: bool = False,
        subject: dict[str, Any] | None = None,
    ) -> list[Outbox]:
        """The rows written, in order: one per active contact, or an SMS to the phone on file."""
        now = self._now(db)
        hold_sms_until = self._quiet_until(now) if staff else None
        body = render(event, params, self.locale)
        active = [c for c in contacts if c.status == ContactStatus.ACTIVE]
        extra: dict[str, Any] = {"event": event}
        if subject is not None:
            extra["subject"] = subject
        written: list[Outbox] = []
        for contact in active:
            row = outbox.add(
                db,
                channel=str(contact.channel),
                to=contact.external_id,
                body=body,
                now=now,
                contact_id=contact.id,
                kind=kind,
                extra=extra,
                segments=_segments(str(contact.channel), body),
                not_before=hold_sms_until if contact.channel == Channel.SMS else None,
            )
            written.append(row)
        reachable = [c for c in active if c.channel != Channel.WEB and c.channel != Channel.CONSOLE]
        if reachable or not self.sms_enabled:
            return written
        opted_out = any(c.channel == Channel.SMS and c.status == ContactStatus.OPTED_OUT for c in contacts)
        phone = self._phone(phone_enc)
        if phone and not opted_out:
            row = outbox.add(
                db,
                channel="sms",
                to=phone,
                body=body,
                now=now,
                kind=kind,
                extra=extra,
                segments=_segments("sms", body),
                not_before=hold_sms_until,
            )
            written.append(row)
        return written

    def _phone(self, phone_enc: str | None) -> str | None:
        if not phone_enc or self.decrypt is None:
            return None
        try:
            return e164(self.decrypt(phone_enc))
        except Exception:  # noqa: BLE001 - a bad ciphertext must not block the state change
            log.warning("phone on file could not be decrypted")
            return None

    def fallback(self, db: Session, row: Claimed, reason: str, now: datetime) -> None:
        """Dispatcher hook: a chat message failed for good (or died) -> SMS to the phone on file, once."""
        if not self.sms_enabled or row.channel == Channel.SMS.value:
            return
        contact = (
            db.get(Contact, row.contact_id)
            if row.contact_id
            else db.scalar(
                select(Contact).where(Contact.channel == row.channel, Contact.external_id == row.to)
            )
        )
        if contact is None:
            return
        owner: Staff | Household | None = (
            db.get(Staff, contact.staff_id)
            if contact.staff_id
            else db.get(Household, contact.household_id)
            if contact.household_id
            else None
        )
        phone = self._phone(owner.phone_enc if owner else None)
        key = f"fallback:{row.id}"
        if phone is None or db.scalar(select(Outbox.id).where(Outbox.dedupe_key == key)) is not None:
            return
        sms = outbox.add(
            db,
            channel="sms",
            to=phone,
            body=row.body,
            now=now,
            kind=row.kind,
            # the same notice by other means: out of date as soon as the original would be
            extra={"fallback_of": row.id, "reason": reason[:100]}
            | ({"subject": row.extra["subject"]} if "subject" in row.extra else {}),
            dedupe_key=key,
            segments=_segments("sms", row.body),
        )
        hold_until = self._quiet_until(now) if isinstance(owner, Staff) else None
        if hold_until is not None:
            sms.next_attempt_at = hold_until


def _segments(channel: str, body: str) -> int | None:
    if channel != Channel.SMS.value:
        return None
    return sum(smstext.segments(p) for p in smstext.split(body))


def _kind(event: str) -> str:
    return "reminder" if event.startswith("task_") or event == "daily_digest" else "notification"
