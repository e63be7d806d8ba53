"""Domain commands the engine asks for, and the results the service feeds back after applying them.

The engine never touches the database: it returns commands; `conversations.service` applies each one
through `cases` in the same transaction and hands the result back to `engine.resume`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True)
class SignatureDraft:
    """A signature given in the dialogue: typed full name after 同意, on the text version shown."""

    signer_name: str
    text_version: str
    shown_sha256: str | None = None  # the filled annex 1 text as shown (FillAnnex)


@dataclass(frozen=True)
class FillAnnex:
    """Annex 1 filled in for the household: an existing case's (from its stored report), or the report
    still being written (from these answers). Result data: text, report_id."""

    text_version: str
    case_number: str | None = None
    name: str | None = None
    id_number: str | None = None
    size: int | None = None
    village_code: str | None = None
    group: str | None = None
    risks: list[str] = field(default_factory=list)
    guarantees: list[str] = field(default_factory=list)
    other_text: str | None = None


@dataclass(frozen=True)
class SubmitReport:
    """Create the report (and the case, or join the household's open case); sign at once if `signature`."""

    reporter_kind: str  # self | proxy
    raw_text: str
    parsed: dict[str, Any]
    risks: list[str]
    disasters: list[str]
    guarantees: list[str]
    other_risk_text: str | None
    urgent: bool
    head_name: str
    id_number: str | None  # None: a proxy who does not know it (taken at the home visit)
    household_size: int
    village_code: str
    group_name: str | None
    phone: str | None
    proxy_relation: str | None = None
    proxy_name: str | None = None
    proxy_phone: str | None = None
    attachment_ids: list[int] = field(default_factory=list)
    signature: SignatureDraft | None = None
    declined: bool = False  # annex 1 was shown and the household said no
    name_confirmed: bool = False  # 排查: the cadre confirmed a head's name other than the record's for the ID


@dataclass(frozen=True)
class SignAuthorization:
    """The household signs annex 1 later (from its own phone) for an existing case."""

    case_number: str
    signer_name: str
    text_version: str
    shown_sha256: str | None = None  # the filled text as shown, and the report that filled it
    report_id: int | None = None


@dataclass(frozen=True)
class DeclineSignature:
    """The household read annex 1 and did not sign (the case stays unsigned; it can sign later)."""

    case_number: str


@dataclass(frozen=True)
class FindCase:
    """Look up a case by number + the last four characters of the household's ID (rate-limited)."""

    case_number: str
    id_last4: str
    purpose: str  # status | sign | supplement | withdraw


@dataclass(frozen=True)
class QueryStatus:
    """The status of a case this contact may see (linked, or verified by FindCase)."""

    case_number: str


@dataclass(frozen=True)
class Withdraw:
    case_number: str
    reason: str | None = None


@dataclass(frozen=True)
class CheckConsent:
    """Which signatures on the case this identity may withdraw (nothing is changed)."""

    case_number: str


@dataclass(frozen=True)
class WithdrawConsent:
    """Withdraw the household's signed annex 1 on the case (a new record; the signature stays)."""

    case_number: str


@dataclass(frozen=True)
class AddSupplement:
    """A text added to an open case, with what the parser read in it (merged into the case as a report that
    joins it is: codes added, urgent raised, never the other way)."""

    case_number: str
    text: str
    risks: list[str] = field(default_factory=list)
    guarantees: list[str] = field(default_factory=list)
    urgent: bool = False


@dataclass(frozen=True)
class AddAttachment:
    """The inbound message's attachment at `index`, kept whole (case_number None before a case exists)."""

    case_number: str | None
    index: int


@dataclass(frozen=True)
class RequestCallback:
    """A callback task for the 12317 hotline team."""

    phone: str | None
    note: str
    case_number: str | None = None
    on_record: bool = False  # no phone given: call the number on record for the chat's household


@dataclass(frozen=True)
class SenderCase:
    """The case a call-back asked by SMS from a chat with no case is about: the latest case, open or
    refused, of the one household whose phone on record sent it. Result data: case, refused (for the
    hotline only: the sender is told nothing of it); not ok when no household, or several, have the number."""


@dataclass(frozen=True)
class LinkContact:
    """Link this chat identity to the case's household (after it proved it is the household)."""

    case_number: str


@dataclass(frozen=True)
class BindStaff:
    """Link this chat identity to a staff account with a one-time BindingCode."""

    code: str


Command = (SubmitReport | FillAnnex | SignAuthorization | DeclineSignature | FindCase | QueryStatus | Withdraw
           | AddSupplement | AddAttachment | RequestCallback | SenderCase | LinkContact | BindStaff
           | CheckConsent | WithdrawConsent)


# --- results --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseView:
    """What a household may be told about its case (mirrors cases.status.StatusSummary; masked)."""

    number: str
    status: str
    steps_done: int
    next_step: str  # sign_authorization, home_verification, village_review, public_notice, ...
    opened_on: date
    updated_on: date
    notice_start: date | None = None
    notice_end: date | None = None
    open_objections: int = 0
    cadre_name: str | None = None
    cadre_phone_masked: str | None = None
    pending_signers_masked: list[str] = field(default_factory=list)
    refused_reason: str | None = None
    head_name_masked: str = ""
    review_asked_on: date | None = None  # refused: the day the household asked for a review still waiting
    reviewed_on: date | None = None  # reopened by a review that day, not decided again yet


@dataclass(frozen=True)
class Result:
    """What applying a command gave. `ok` False carries a reason code (not_found, rate_limited,
    name_mismatch, not_open, bad_type, too_large, already_signed, ...)."""

    ok: bool
    reason: str | None = None
    case: CaseView | None = None
    joined_existing: bool = False
    vouched: bool = True  # SubmitReport: the chat stands for the household (cases.intake.IntakeResult)
    attachment_id: int | None = None
    retry_after_minutes: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
