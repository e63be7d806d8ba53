"""Applying the engine's commands through `cases`, inside the service's transaction (flush, never commit).

Each command runs in a savepoint: a refusal by the case store (IntakeError) rolls back only that
command and comes back to the engine as `Result(ok=False, reason=...)`. A command's audit entries and
case events are inserted together at its end (cases.journal): no command reads them back.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, inspect, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from cases import annex1, annex1_text, audit, intake, journal, rows, status
from cases.clock import BEIJING
from cases.crypto import Vault, mask_name, mask_phone, mask_text
from cases.errors import CaseError
from cases.events import add_event
from cases.ids import normalize_phone
from cases.models import (
    OPEN_STATUSES,
    Attachment,
    Authorization,
    Base,
    BindingCode,
    Case,
    CaseEvent,
    CaseStatus,
    Channel,
    Contact,
    Household,
    LookupAttempt,
    Outbox,
    Report,
    ReporterKind,
    Staff,
    Task,
    TaskStatus,
)
from cases.notify import Notifier
from conversations.commands import (
    AddAttachment,
    AddSupplement,
    BindStaff,
    CaseView,
    CheckConsent,
    Command,
    DeclineSignature,
    FillAnnex,
    FindCase,
    LinkContact,
    QueryStatus,
    RequestCallback,
    Result,
    SenderCase,
    SignAuthorization,
    SubmitReport,
    Withdraw,
    WithdrawConsent,
)
from conversations.messages import Attachment as InboundAttachment
from conversations.messages import InboundMessage

ALLOWED_TYPES = {
    "photo": ("image/jpeg", "image/png", "image/webp", "image/heic", "image/heif", "image/gif"),
    "voice": ("audio/ogg", "audio/amr", "audio/mpeg", "audio/mp4", "audio/aac", "audio/wav", "audio/x-wav",
              "audio/silk", "audio/speex"),
    "document": ("application/pdf", "image/jpeg", "image/png"),
}


MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024


def _content_type(att: InboundAttachment) -> str:
    return att.content_type.split(";")[0].strip().lower()


def _size(att: InboundAttachment) -> int:
    return len(att.data) if att.data is not None else (att.size or 0)


def attachment_problem(att: InboundAttachment, max_bytes: int = MAX_ATTACHMENT_BYTES) -> str | None:
    """Why a file sent is not kept ('bad_type', 'too_large'), or None."""
    if _content_type(att) not in ALLOWED_TYPES.get(att.kind, ()):
        return "bad_type"
    return "too_large" if _size(att) > max_bytes else None


def keep_attachment(db: Session, att: InboundAttachment, *, case_id: int | None, channel: Channel,
                    now: datetime, sent_by_staff_id: int | None = None) -> Attachment:
    """The file's row (whole, as sent, with the channel it came by and the staff member who sent it, if one
    did; a voice message flagged for a person to listen to), flushed."""
    row = Attachment(
        case_id=case_id, kind=att.kind, content_type=_content_type(att), size=_size(att),
        sha256=hashlib.sha256(att.data).hexdigest() if att.data is not None else "",
        data=att.data, channel_file_id=att.file_id, needs_listening=att.kind == "voice", created_at=now,
        channel=channel, sent_by_staff_id=sent_by_staff_id)
    db.add(row)
    db.flush()
    return row


TOLD_IN_DIALOGUE = frozenset({"case_opened"})  # household events the dialogue's own reply already tells
# a household sends several messages in a row: one notice to the cadre for all that come this close together
SUPPLEMENT_NOTICE_EVERY = timedelta(minutes=30)


_CONTACTS = Base.metadata.tables[Contact.__tablename__]
_OTHER_CONTACTS = select(func.count()).select_from(_CONTACTS).where(
    _CONTACTS.c.household_id == bindparam("household_id"), _CONTACTS.c.id != bindparam("sender_id"))


@dataclass
class SenderAwareNotifier:
    """Passes notifications on, except a household event the sender is being told in the dialogue when
    the sender is that household's only contact (no second "your report is received" message)."""

    inner: Notifier
    sender: Contact

    def notify_staff(
        self, db: Session, *, staff_id: int, event: str, params: dict[str, Any]
    ) -> Sequence[Outbox]:
        return self.inner.notify_staff(db, staff_id=staff_id, event=event, params=params)

    def notify_household(self, db: Session, *, household_id: int, event: str, params: dict[str, Any]) -> None:
        if event in TOLD_IN_DIALOGUE and self.sender.household_id == household_id:
            if rows.inserted_here(db, Household, household_id):
                return  # made by this filing, linked to the sender: it has no other contact
            db.flush()  # then a plain query on the table: what the session holds is in it
            others = db.connection().execute(
                _OTHER_CONTACTS, {"household_id": household_id, "sender_id": self.sender.id}).scalar()
            if not others:
                return
        self.inner.notify_household(db, household_id=household_id, event=event, params=params)


@dataclass
class Applier:
    """Everything a command needs: the transaction, the contact and the message it came with."""

    db: Session
    vault: Vault
    notifier: Notifier
    contact_id: int
    message: InboundMessage
    now: datetime
    lookup_limit: int = 5
    lookup_window: timedelta = timedelta(hours=1)
    # failed look-ups of one case from every identity together (a new web session each try): a day's worth
    case_lookup_limit: int = 10
    case_lookup_window: timedelta = timedelta(hours=24)
    max_attachment_bytes: int = MAX_ATTACHMENT_BYTES
    callback_due: timedelta = timedelta(days=1)

    # the sender's Contact as the message's own statement read it (every column): it stands in the session
    # for the row, so a command reading the contact (intake's db.get too) sends no SELECT for it
    sender: Contact | None = None

    @property
    def contact(self) -> Contact:
        """The sender's Contact (the session's, else `sender`, else loaded when a command first needs it)."""
        if self.sender is not None and inspect(self.sender).transient \
                and identity_key(Contact, self.contact_id) not in self.db.identity_map:
            rows.loaded(self.db, self.sender)  # stands for the row: Session.get below sends no SELECT
        found = self.db.get(Contact, self.contact_id)
        assert found is not None
        return found

    @property
    def channel(self) -> Channel:
        return Channel(self.message.channel)

    @property
    def actor(self) -> str:
        return f"household via {self.message.channel}"

    def __call__(self, command: Command) -> Result:
        handler = getattr(self, "_" + type(command).__name__)
        if self.sender is not None:
            self.contact  # noqa: B018 - in the session from here on: the command's reads of it send no SQL
        try:
            with self.db.begin_nested(), journal.batched(self.db):
                result: Result = handler(command)
                return result
        except CaseError as exc:
            return Result(ok=False, reason=exc.reason)

    # --- helpers ---------------------------------------------------------------------------------

    def view(self, case: Case, new: status.NewCase | None = None) -> CaseView:
        s = status.status_summary(self.db, case, vault=self.vault, new=new)
        household = self.db.get(Household, case.household_id)
        return CaseView(
            number=s.case_number, status=s.status, steps_done=s.steps_done, next_step=s.next_step,
            opened_on=s.opened_on, updated_on=s.updated_on, notice_start=s.notice_start,
            notice_end=s.notice_end, open_objections=s.open_objections, cadre_name=s.cadre_name,
            cadre_phone_masked=s.cadre_phone_masked,
            pending_signers_masked=list(s.pending_signers_masked), refused_reason=s.refused_reason,
            head_name_masked=mask_name(household.head_name if household else None),
            review_asked_on=s.review_asked_on, reviewed_on=s.reviewed_on,
        )

    def case(self, number: str) -> Case:
        case = intake.find_case_by_number(db=self.db, number=number)
        if case is None:
            raise CaseError("not_found")
        return case

    def throttled(self, kind: str, target: str | None = None) -> int | None:
        """Minutes to wait when this contact failed too often lately, or (with `target`, a case number)
        when look-ups of that case failed too often from anyone; else None."""
        waits = [self._wait(LookupAttempt.contact_id == self.contact_id, kind, self.lookup_limit,
                            self.lookup_window)]
        if target is not None:
            waits.append(self._wait(LookupAttempt.target == target, kind, self.case_lookup_limit,
                                    self.case_lookup_window))
        return max((w for w in waits if w is not None), default=None)

    def _wait(self, who: Any, kind: str, limit: int, window: timedelta) -> int | None:
        failures = self.db.execute(
            select(func.count(), func.min(LookupAttempt.at)).where(
                who, LookupAttempt.kind == kind, LookupAttempt.succeeded.is_(False),
                LookupAttempt.at > self.now - window)
        ).one()
        if int(failures[0]) < limit:
            return None
        oldest: datetime = failures[1]
        return max(1, math.ceil((oldest + window - self.now).total_seconds() / 60))

    def attempt(self, kind: str, succeeded: bool, target: str | None = None) -> None:
        self.db.add(LookupAttempt(contact_id=self.contact_id, kind=kind, at=self.now, succeeded=succeeded,
                                  target=target))
        self.db.flush()

    # --- commands --------------------------------------------------------------------------------

    def _SubmitReport(self, cmd: SubmitReport) -> Result:  # noqa: N802 - named after the command
        draft = intake.ReportDraft(
            channel=self.channel, reporter_kind=ReporterKind(cmd.reporter_kind), raw_text=cmd.raw_text,
            risks=cmd.risks, disasters=cmd.disasters, guarantees=cmd.guarantees,
            other_risk_text=cmd.other_risk_text, urgent=cmd.urgent, parsed=cmd.parsed,
            head_name=cmd.head_name,
            id_number=cmd.id_number, phone=cmd.phone, household_size=cmd.household_size,
            village_code=cmd.village_code, group_name=cmd.group_name, proxy_relation=cmd.proxy_relation,
            proxy_name=cmd.proxy_name, proxy_phone=cmd.proxy_phone, contact_id=self.contact_id,
        )
        done = intake.submit_report(db=self.db, vault=self.vault, draft=draft, now=self.now,
                                    notifier=SenderAwareNotifier(self.notifier, self.contact))
        case = done.case
        opened = not done.joined_existing  # a case this filing opened: nothing of it is read again
        if cmd.attachment_ids:
            self.db.execute(update(Attachment).where(Attachment.id.in_(cmd.attachment_ids),
                                                     Attachment.case_id.is_(None))
                            .values(case_id=case.id, report_id=done.report.id))
        signatures: tuple[Authorization, ...] = ()
        if cmd.signature is not None and done.vouched:  # otherwise it waits for the home visit
            signatures = (intake.sign_authorization(
                db=self.db, vault=self.vault, case=case, signer_name=cmd.signature.signer_name,
                signer_id_number=cmd.id_number, channel=self.channel, message_ref=self.message.external_id,
                contact_id=self.contact_id, now=self.now, text_version=cmd.signature.text_version,
                shown_sha256=cmd.signature.shown_sha256, report_id=done.report.id,
                signatures=[] if opened else None),)
        elif cmd.declined and done.vouched:  # a chat not the household's declines nothing for it
            self._decline(case)
        self.db.flush()
        new = status.NewCase(cadre=done.cadre, signatures=signatures) if opened else None
        return Result(ok=True, case=self.view(case, new), joined_existing=done.joined_existing,
                      vouched=done.vouched or cmd.reporter_kind != ReporterKind.SELF)

    def _decline(self, case: Case) -> None:
        add_event(self.db, case, action="signature_declined", now=self.now, actor_label=self.actor)
        audit.record(db=self.db, actor=f"household:{self.message.channel}", action="authorization.decline",
                     entity="case", entity_id=case.id, area_code=case.area_code,
                     detail={"contact_id": self.contact_id}, now=self.now)

    def linked(self, case: Case) -> bool:
        """Whether this identity is linked to the case's household (it reads annex 1 in full)."""
        return self.contact.household_id is not None and self.contact.household_id == case.household_id

    def signing_refusal(self, case: Case) -> str | None:
        """Why this identity may not sign for the case's household, or None. Issue 4: a proxy report's
        "signature stays pending until they sign from their own phone or at the home visit". A proxy knows
        the case number, the ID and the name, so knowing them proves nothing: only the household's own
        identity signs in a chat, i.e. one linked to it, or an SMS from the phone number on its record
        (not one a proxy of this case gave as its own)."""
        if self.linked(case):
            return None
        proxy_report = self.db.scalar(select(Report.id).where(
            Report.case_id == case.id, Report.contact_id == self.contact_id,
            Report.reporter_kind == ReporterKind.PROXY).limit(1))
        if proxy_report is not None:
            return "proxy_contact"
        phone = normalize_phone(self.message.user_key) if self.channel == Channel.SMS else None
        household = self.db.get(Household, case.household_id)
        if phone is None or household is None or household.phone_hash != self.vault.lookup_hash(phone):
            return "not_household"
        proxy_phones = self.db.scalars(select(Report.proxy_phone_enc).where(
            Report.case_id == case.id, Report.reporter_kind == ReporterKind.PROXY,
            Report.proxy_phone_enc.is_not(None))).all()
        if any(self.vault.decrypt(enc) == phone for enc in proxy_phones if enc):
            return "proxy_contact"
        return None

    def _SignAuthorization(self, cmd: SignAuthorization) -> Result:  # noqa: N802
        case = self.case(cmd.case_number)
        refusal = self.signing_refusal(case)
        if refusal is not None:
            return Result(ok=False, reason=refusal)
        household = self.db.get(Household, case.household_id)
        assert household is not None
        named = intake.members_named(household, cmd.signer_name)  # 张伟 typed signs for 張偉 on record
        if not named:
            return Result(ok=False, reason="name_mismatch")
        # of two of the same name (a father and son both 张伟), the one who has not signed yet
        signed = ({a.member_id for a in intake.active_signatures(db=self.db, case=case)} if len(named) > 1
                  else set())
        member = next((m for m in named if m.id not in signed), named[0])
        id_enc = member.id_number_enc or (household.id_number_enc if member.is_head else None)
        intake.sign_authorization(
            db=self.db, vault=self.vault, case=case, signer_name=member.name,
            signer_id_number=self.vault.decrypt(id_enc) if id_enc else None, channel=self.channel,
            message_ref=self.message.external_id, contact_id=self.contact_id, now=self.now,
            text_version=cmd.text_version, shown_sha256=cmd.shown_sha256, report_id=cmd.report_id,
            shown_variant=annex1_text.FULL if self.linked(case) else annex1_text.MASKED)
        return Result(ok=True, case=self.view(case))

    def _FillAnnex(self, cmd: FillAnnex) -> Result:  # noqa: N802
        today = self.now.astimezone(BEIJING).date()
        if cmd.case_number is not None:  # an existing case: in full only for the household's own identity
            case = self.case(cmd.case_number)
            variant = annex1_text.FULL if self.linked(case) else annex1_text.MASKED
            refusal = self.signing_refusal(case)
            text, report_id = annex1_text.case_text(self.db, self.vault, case, signed_on=today,
                                                    version=cmd.text_version, variant=variant)
            # a chat that may not sign is shown the text only while someone still has to sign it
            to_sign = refusal is None or bool(intake.pending_signatures(db=self.db, vault=self.vault,
                                                                        case=case))
            return Result(ok=True, data={"text": text, "report_id": report_id, "variant": variant,
                                         "may_sign": refusal is None, "refusal": refusal,
                                         "to_sign": to_sign})
        filling = annex1_text.draft_filling(
            self.db, name=cmd.name, id_number=cmd.id_number, size=cmd.size, village_code=cmd.village_code,
            group=cmd.group, risks=cmd.risks, guarantees=cmd.guarantees, other_text=cmd.other_text,
            signed_on=today)
        return Result(ok=True, data={"text": annex1.filled(filling, cmd.text_version), "report_id": None,
                                     "variant": annex1_text.FULL, "may_sign": True, "refusal": None})

    def _DeclineSignature(self, cmd: DeclineSignature) -> Result:  # noqa: N802
        self._decline(self.case(cmd.case_number))
        return Result(ok=True)

    def _FindCase(self, cmd: FindCase) -> Result:  # noqa: N802
        number = cmd.case_number.upper()[:16]
        wait = self.throttled("case", number)
        if wait is not None:
            return Result(ok=False, reason="rate_limited", retry_after_minutes=wait)
        case = intake.find_case_by_number(db=self.db, number=cmd.case_number)
        household = self.db.get(Household, case.household_id) if case is not None else None
        id_enc = household.id_number_enc if household is not None else None
        id_number = self.vault.decrypt(id_enc) if id_enc else ""
        matched = case is not None and len(id_number) >= 4 and id_number[-4:].upper() == cmd.id_last4.upper()
        self.attempt("case", matched, number)
        if not matched or case is None:
            return Result(ok=False, reason="not_found")
        audit.record(db=self.db, actor=f"household:{self.message.channel}", action="case.lookup",
                     entity="case", entity_id=case.id, area_code=case.area_code,
                     detail={"contact_id": self.contact_id, "purpose": cmd.purpose}, now=self.now)
        return Result(ok=True, case=self.view(case))

    def _QueryStatus(self, cmd: QueryStatus) -> Result:  # noqa: N802
        case = self.case(cmd.case_number)
        if self.contact.household_id != case.household_id:
            return Result(ok=False, reason="not_linked")
        return Result(ok=True, case=self.view(case))

    def _Withdraw(self, cmd: Withdraw) -> Result:  # noqa: N802
        case = self.case(cmd.case_number)
        if self.contact.household_id != case.household_id:  # only the household's own linked identity
            return Result(ok=False, reason="not_linked")
        if case.status not in OPEN_STATUSES:
            return Result(ok=False, reason="not_open")
        before = str(case.status)
        case.status = CaseStatus.WITHDRAWN
        case.closed_at = case.updated_at = self.now
        add_event(self.db, case, action="withdrawn", now=self.now, actor_label=self.actor,
                  from_status=before, to_status=CaseStatus.WITHDRAWN.value, note=cmd.reason)
        audit.record(db=self.db, actor=f"household:{self.message.channel}", action="case.withdraw",
                     entity="case", entity_id=case.id, area_code=case.area_code,
                     detail={"from": before, "contact_id": self.contact_id}, now=self.now)
        intake.notify_cadre(self.db, case, self.notifier, "case_withdrawn", {"case_number": case.number})
        self.db.flush()
        return Result(ok=True)

    def _CheckConsent(self, cmd: CheckConsent) -> Result:  # noqa: N802
        signatures = intake.consent_to_withdraw(db=self.db, case=self.case(cmd.case_number),
                                                contact_id=self.contact_id)
        return Result(ok=True, data={"signers": [mask_name(a.signer_name) for a in signatures]})

    def _WithdrawConsent(self, cmd: WithdrawConsent) -> Result:  # noqa: N802
        case = self.case(cmd.case_number)
        intake.withdraw_household_consent(db=self.db, case=case, contact_id=self.contact_id,
                                          channel=self.channel, message_ref=self.message.external_id,
                                          now=self.now, notifier=self.notifier)
        return Result(ok=True, case=self.view(case))

    def _AddSupplement(self, cmd: AddSupplement) -> Result:  # noqa: N802
        case = self.case(cmd.case_number)
        if case.status not in OPEN_STATUSES:
            return Result(ok=False, reason="not_open")
        # what the words name that the case lacked joins it, as a further report's does (submit_report)
        added = intake.merge_into_case(case, risks=cmd.risks, guarantees=cmd.guarantees, urgent=cmd.urgent,
                                       now=self.now)
        self._tell_cadre_more_came(case, added)
        add_event(self.db, case, action="supplement", now=self.now, actor_label=self.actor,
                  note=mask_text(cmd.text)[:4000],
                  data={"message_ref": self.message.external_id, **added.data()})
        if added:
            audit.record(db=self.db, actor=f"household:{self.message.channel}", action="case.supplement",
                         entity="case", entity_id=case.id, area_code=case.area_code,
                         detail={"contact_id": self.contact_id, **added.data()}, now=self.now)
        case.updated_at = self.now
        return Result(ok=True)

    def _AddAttachment(self, cmd: AddAttachment) -> Result:  # noqa: N802
        att = self.message.attachments[cmd.index]
        problem = attachment_problem(att, self.max_attachment_bytes)
        if problem is not None:
            return Result(ok=False, reason=problem)
        case_id = None
        if cmd.case_number is not None:
            case = self.case(cmd.case_number)
            if case.status not in OPEN_STATUSES:
                return Result(ok=False, reason="not_open")
            self._tell_cadre_more_came(case)
            case_id = case.id
            case.updated_at = self.now
        row = keep_attachment(self.db, att, case_id=case_id, channel=self.channel, now=self.now)
        return Result(ok=True, attachment_id=row.id, data={"needs_listening": row.needs_listening})

    def _tell_cadre_more_came(self, case: Case, added: intake.Added | None = None) -> None:
        """Tell the case's cadre the household sent more (words, a photo, a voice message): once for what
        comes within SUPPLEMENT_NOTICE_EVERY of the last, as a household sends several messages in a row;
        words that added a difficulty or made the case urgent are told at once, with what they added.
        Call before this command's own supplement is written."""
        if not added:
            since = self.now - SUPPLEMENT_NOTICE_EVERY
            earlier = (select(CaseEvent.id).where(CaseEvent.case_id == case.id,
                                                  CaseEvent.action == "supplement", CaseEvent.at > since)
                       .union_all(select(Attachment.id).where(Attachment.case_id == case.id,
                                                              Attachment.created_at > since)))
            if self.db.scalar(earlier.limit(1)) is not None:
                return
        params = intake.case_params(self.db, case) | (added.data() if added else {})
        intake.notify_cadre(self.db, case, self.notifier, "case_supplemented", params)

    def _RequestCallback(self, cmd: RequestCallback) -> Result:  # noqa: N802
        case_id = area = None
        # the case it is about, so the call-back shows with the case (and counts in its area); a number not
        # found (never expected) still gets the call-back, without a case: a person asked for is never lost
        case = intake.find_case_by_number(db=self.db, number=cmd.case_number) if cmd.case_number else None
        if case is not None:
            case_id, area = case.id, case.area_code
        phone, sender = cmd.phone, self.sender
        if phone is None and cmd.on_record and sender is not None and sender.household_id is not None:
            household = self.db.get(Household, sender.household_id)  # the number the household gave
            phone = self.vault.decrypt(household.phone_enc) if household and household.phone_enc else None
        # this chat's call-back still waiting, about the same thing: not another case, and for a refused case
        # not one asked before the refusal (asked now, it is the review request: a call of its own)
        same = select(Task).where(Task.kind == "callback", Task.status == TaskStatus.OPEN,
                                  Task.contact_id == self.contact_id)
        if case is not None:
            same = same.where(or_(Task.case_id.is_(None), Task.case_id == case.id))
            if case.closed_at is not None:
                same = same.where(Task.created_at >= case.closed_at)
        waiting = self.db.scalar(same.order_by(Task.id).limit(1).with_for_update())
        if waiting is not None:
            return self._callback_again(waiting, cmd, phone, case_id, area)
        task = Task(
            case_id=case_id, kind="callback", cycle=self._callback_cycle(),
            area_code=area, due_at=self.now + self.callback_due, status=TaskStatus.OPEN, created_at=self.now,
            contact_id=self.contact_id,
            detail={"phone_enc": self.vault.encrypt_optional(phone),
                    "phone_masked": mask_phone(phone), "note": mask_text(cmd.note)[:500],
                    "channel": self.message.channel},
        )
        self.db.add(task)
        self.db.flush()
        audit.record(db=self.db, actor=f"household:{self.message.channel}", action="callback.request",
                     entity="task", entity_id=task.id, area_code=area,
                     detail={"contact_id": self.contact_id}, now=self.now)
        return Result(ok=True, data={"task_id": task.id})

    def _callback_again(self, task: Task, cmd: RequestCallback, phone: str | None, case_id: int | None,
                        area: str | None) -> Result:
        """A call-back asked for again while this chat's earlier one still waits: one call, not two. What was
        said now is added to its note, a number given now is the one to call, a case now known is attached;
        the household is told it was asked for already (`again`, and the day)."""
        detail = dict(task.detail or {})
        said = mask_text(cmd.note)
        if said and said not in detail.get("note", ""):
            detail["note"] = "；".join(x for x in (detail.get("note", ""), said) if x)[:500]
        if phone is not None:
            detail.update(phone_enc=self.vault.encrypt(phone), phone_masked=mask_phone(phone))
        task.detail = detail
        if task.case_id is None and case_id is not None:
            task.case_id, task.area_code = case_id, area
        audit.record(db=self.db, actor=f"household:{self.message.channel}", action="callback.request_again",
                     entity="task", entity_id=task.id, area_code=task.area_code,
                     detail={"contact_id": self.contact_id}, now=self.now)
        asked = task.created_at.astimezone(BEIJING).date().isoformat()
        return Result(ok=True, data={"task_id": task.id, "again": True, "asked_on": asked})

    def _SenderCase(self, cmd: SenderCase) -> Result:  # noqa: N802
        phone = normalize_phone(self.message.user_key) if self.channel == Channel.SMS else None
        if phone is None:
            return Result(ok=False, reason="not_found")
        households = self.db.scalars(select(Household.id).where(
            Household.phone_hash == self.vault.lookup_hash(phone)).limit(2)).all()
        if len(households) != 1:  # a number two households gave (a relative's, a cadre's): whose is unknown
            return Result(ok=False, reason="not_found")
        case = self.db.scalar(select(Case).where(Case.household_id == households[0])
                              .order_by(Case.opened_at.desc(), Case.id.desc()).limit(1))
        if case is None or (case.status not in OPEN_STATUSES and case.status != CaseStatus.REFUSED):
            return Result(ok=False, reason="not_found")
        return Result(ok=True, data={"case": case.number, "refused": case.status == CaseStatus.REFUSED})

    def _callback_cycle(self) -> str:
        """Unique for the case's call-backs: the contact, the second and the message (an SMS 人工 sent twice
        in one second files twice; the second collided with the first on the case's unique cycle)."""
        said = hashlib.blake2b(self.message.external_id.encode(), digest_size=4).hexdigest()
        return f"cb{self.contact_id}-{int(self.now.timestamp())}-{said}"

    def _LinkContact(self, cmd: LinkContact) -> Result:  # noqa: N802
        case = self.case(cmd.case_number)
        intake.link_contact_to_household(db=self.db, contact_id=self.contact_id,
                                         household_id=case.household_id, now=self.now)
        return Result(ok=True)

    def _BindStaff(self, cmd: BindStaff) -> Result:  # noqa: N802
        wait = self.throttled("binding")
        if wait is not None:
            return Result(ok=False, reason="rate_limited", retry_after_minutes=wait)
        code = self.db.scalar(select(BindingCode).where(
            BindingCode.code_hash == self.vault.lookup_hash(cmd.code), BindingCode.used_at.is_(None),
            BindingCode.expires_at > self.now).with_for_update())
        self.attempt("binding", code is not None)
        if code is None:
            return Result(ok=False, reason="not_found")
        staff = self.db.get(Staff, code.staff_id)
        if staff is None or not staff.active:
            return Result(ok=False, reason="not_found")
        code.used_at = self.now
        self.contact.staff_id = staff.id
        self.contact.household_id = None
        audit.record(db=self.db, actor=f"staff:{staff.id}", action="contact.bind", entity="contact",
                     entity_id=self.contact_id, area_code=staff.area_code,
                     detail={"channel": self.message.channel}, now=self.now, actor_staff_id=staff.id)
        return Result(ok=True, data={"name": staff.name})
