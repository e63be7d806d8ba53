"""Messages that could not be delivered or handled (the dead-letter state, G3, T4): staff see them to
follow up another way. Also listed: outbound messages that failed once and are being retried, and texts
the SMS provider accepted and then reported undelivered. Addresses are masked; areas come from the
contact's household or staff member."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from api.deps import SessionDep, require_roles
from api.errors import responses
from api.scope import in_scope
from cases import subjects
from cases.crypto import mask_phone
from cases.models import (
    OPEN_OUTBOX,
    Channel,
    Contact,
    Household,
    InboundMessage,
    InboundStatus,
    Outbox,
    OutboxStatus,
    Role,
    Staff,
)

router = APIRouter(prefix="/api/deliveries", tags=["deliveries"])
UNDELIVERED = ("failed", "undelivered")  # provider statuses after the provider had accepted a message
FOLLOW_UP_ROLES = (Role.HOTLINE, Role.TOWNSHIP, Role.COUNTY, Role.ADMIN)
FollowUpStaff = Annotated[Staff, Depends(require_roles(*FOLLOW_UP_ROLES))]


class FailedMessage(BaseModel):
    direction: Literal["outbound", "inbound"]
    id: int
    channel: str
    address_masked: str = Field(description="phone as 139****5678; chat ids and openids shortened")
    status: str = Field(
        description="outbound: dead (retries exhausted), failed (not retryable), pending or sending (failed "
        "before, being retried), sent (the provider took it, then reported it undelivered); inbound: dead"
    )
    attempts: int
    error: str | None
    error_code: str | None = Field(
        default=None, description='the structured cause, "<provider>:<code>" (twilio:30007, wechat:45015 ...)'
    )
    at: datetime
    recipient: Literal["staff", "household", "unknown"]
    staff_id: int | None
    area_code: str | None
    event: str | None = Field(description="what the message was about (case_assigned, task_due ...)")
    fallback_id: int | None = Field(description="the SMS that told the person another way, if any")
    fallback_status: str | None


def mask_address(channel: str, address: str) -> str:
    if channel == Channel.SMS.value:
        return mask_phone(address)
    return address[:3] + "…" + address[-2:] if len(address) > 6 else "…"


def _whose(db: Session, contact_id: int | None) -> tuple[str, int | None, str | None]:
    contact = db.get(Contact, contact_id) if contact_id else None
    if contact is not None and contact.staff_id is not None:
        staff = db.get(Staff, contact.staff_id)
        return "staff", contact.staff_id, staff.area_code if staff else None
    if contact is not None and contact.household_id is not None:
        household = db.get(Household, contact.household_id)
        return "household", None, household.village_code if household else None
    return "unknown", None, None


def _visible(staff: Staff, area_code: str | None) -> bool:
    return in_scope(staff, area_code) if area_code else staff.role in (Role.ADMIN, Role.COUNTY, Role.HOTLINE)


@router.get("/failed", response_model=list[FailedMessage], responses=responses(401, 403))
def failed_messages(
    staff: FollowUpStaff, db: SessionDep, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[FailedMessage]:
    """Outbound messages dead or failed, and inbound messages whose handling failed, newest first."""
    return collect_failed(db, staff, limit)


def collect_failed(db: Session, staff: Staff, limit: int = 100) -> list[FailedMessage]:
    """The failed messages `staff` may see (also the console's page), newest first."""
    out: list[FailedMessage] = []
    rows = db.scalars(
        select(Outbox)
        .where(
            or_(
                Outbox.status.in_([OutboxStatus.DEAD, OutboxStatus.FAILED]),
                and_(
                    Outbox.status.in_(OPEN_OUTBOX),
                    Outbox.last_error.is_not(None),
                ),
                and_(
                    Outbox.status == OutboxStatus.SENT,
                    Outbox.provider_status.in_(UNDELIVERED),
                ),
            )
        )
        .order_by(Outbox.id.desc())
        .limit(limit * 4)
    ).all()
    # a notice whose subject no longer holds (its task done since, its case closed) needs no follow-up
    about = {r.id: r.extra["subject"] for r in rows if (r.extra or {}).get("subject")}
    settled = subjects.why_stale(db, about) if about else {}
    for row in rows:
        if row.id in settled:
            continue
        recipient, staff_id, area = _whose(db, row.contact_id)
        if not _visible(staff, area):
            continue
        fallback = db.scalar(select(Outbox).where(Outbox.dedupe_key == f"fallback:{row.id}"))
        out.append(
            FailedMessage(
                direction="outbound",
                id=row.id,
                channel=str(row.channel),
                address_masked=mask_address(str(row.channel), row.to),
                status=str(row.status),
                attempts=row.attempts,
                error=(row.last_error or "")[:300] or None,
                error_code=row.error_code,
                at=row.created_at,
                recipient=recipient,
                staff_id=staff_id,
                area_code=area,
                event=(row.extra or {}).get("event"),
                fallback_id=fallback.id if fallback else None,
                fallback_status=str(fallback.status) if fallback else None,
            )
        )
    inbound = db.scalars(
        select(InboundMessage)
        .where(InboundMessage.status == InboundStatus.DEAD)
        .order_by(InboundMessage.id.desc())
        .limit(limit * 4)
    )
    for message in inbound:
        contact = db.scalar(
            select(Contact.id).where(
                Contact.channel == message.channel, Contact.external_id == message.user_key
            )
        )
        recipient, staff_id, area = _whose(db, contact)
        if not _visible(staff, area):
            continue
        out.append(
            FailedMessage(
                direction="inbound",
                id=message.id,
                channel=str(message.channel),
                address_masked=mask_address(str(message.channel), message.user_key),
                status=str(message.status),
                attempts=1,
                error=(message.error or "")[:300] or None,
                at=message.received_at,
                recipient=recipient,
                staff_id=staff_id,
                area_code=area,
                event=None,
                fallback_id=None,
                fallback_status=None,
            )
        )
    out.sort(key=lambda m: m.at, reverse=True)
    return out[:limit]
