"""Masked views of a household, and the audited reveal of an unmasked ID or phone number.

design.md "Privacy by construction": shown masked everywhere; "every view of an unmasked value ... is in
the audit log". Callers check the staff member's area first (the API scopes every query).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from cases import audit
from cases.crypto import Vault, mask_id, mask_name, mask_phone
from cases.models import Household, Staff

FIELDS = ("id_number", "phone")


@dataclass(frozen=True)
class MaskedHousehold:
    id: int
    head_name: str
    head_name_masked: str
    id_number_masked: str
    phone_masked: str
    village_code: str | None
    group_name: str | None
    size: int | None


def masked(household: Household, vault: Vault) -> MaskedHousehold:
    """The household as staff see it by default: ID and phone masked."""
    id_number = vault.decrypt(household.id_number_enc) if household.id_number_enc else ""
    phone = vault.decrypt(household.phone_enc) if household.phone_enc else ""
    return MaskedHousehold(
        id=household.id,
        head_name=household.head_name,
        head_name_masked=mask_name(household.head_name),
        id_number_masked=mask_id(id_number),
        phone_masked=mask_phone(phone),
        village_code=household.village_code,
        group_name=household.group_name,
        size=household.size,
    )


def reveal(
    *, db: Session, vault: Vault, household: Household, field: str, actor: Staff, now: datetime, purpose: str
) -> str | None:
    """Decrypt one field for a staff member who needs it, writing the audit entry first."""
    if field not in FIELDS:
        raise ValueError(f"field is one of {FIELDS}")
    if not purpose.strip():
        raise ValueError("say why the unmasked value is needed")
    token = household.id_number_enc if field == "id_number" else household.phone_enc
    audit.record(
        db=db,
        actor=audit.staff_actor(actor.id),
        action=f"household.reveal_{field}",
        entity="household",
        entity_id=household.id,
        area_code=household.village_code,
        detail={"purpose": purpose.strip()},
        now=now,
        actor_staff_id=actor.id,
    )
    return vault.decrypt(token) if token else None
