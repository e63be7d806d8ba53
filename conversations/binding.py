"""One-time codes that link a chat identity to a staff account: the console issues, the chat redeems.

The cadre sends "绑定 <code>" in Telegram, WeChat or SMS; `conversations.apply` redeems it (failed tries
are throttled per chat identity, G7). Only the keyed hash of a code is stored (Vault.lookup_hash).
"解绑" in the bound chat undoes it (`unbind`, after a numbered confirmation in flows/cadre.py), audited alike.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import audit
from cases.crypto import Vault
from cases.models import BindingCode, Channel, Contact, Staff

CODE_DIGITS = 8
DEFAULT_TTL = timedelta(minutes=30)


def issue_code(*, db: Session, vault: Vault, staff_id: int, now: datetime,
               ttl: timedelta = DEFAULT_TTL) -> str:
    """A fresh code for `staff_id`, valid for `ttl`; earlier unused codes of this staff member expire."""
    staff = db.get(Staff, staff_id)
    if staff is None or not staff.active:
        raise LookupError("no active staff member with this id")
    for old in db.scalars(select(BindingCode).where(BindingCode.staff_id == staff_id,
                                                    BindingCode.used_at.is_(None),
                                                    BindingCode.expires_at > now)):
        old.expires_at = now
    while True:
        code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
        digest = vault.lookup_hash(code)
        if db.scalar(select(BindingCode.id).where(BindingCode.code_hash == digest)) is None:
            break
    db.add(BindingCode(staff_id=staff_id, code_hash=digest, expires_at=now + ttl))
    minutes = int(ttl.total_seconds() // 60)
    audit.record(db=db, actor=f"staff:{staff_id}", action="binding_code.issue", entity="staff",
                 entity_id=staff_id, area_code=staff.area_code, detail={"expires_minutes": minutes},
                 now=now, actor_staff_id=staff_id)
    db.flush()
    return code


def unbind(*, db: Session, contact_id: int, staff_id: int, now: datetime) -> bool:
    """Unlink the chat `contact_id` from the staff account `staff_id` (a plain chat again), audited as the
    binding is; False when the chat is not bound to that account."""
    contact = db.get(Contact, contact_id)
    if contact is None or contact.staff_id != staff_id:
        return False
    staff = db.get(Staff, staff_id)
    contact.staff_id = None
    audit.record(db=db, actor=audit.staff_actor(staff_id), action="contact.unbind", entity="contact",
                 entity_id=contact_id, area_code=staff.area_code if staff is not None else None,
                 detail={"channel": Channel(contact.channel).value}, now=now, actor_staff_id=staff_id)
    db.flush()
    return True
