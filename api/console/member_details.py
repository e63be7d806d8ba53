"""The members card's details (annex 2, A9-A17): what the card shows of each member, the form's fields with
their code tables, and the values a posted form gives `cases.members` (with the name, relation and ID number
an edit form corrects)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from cases.codes import MEMBER_CODED_FIELDS
from cases.crypto import mask_text
from cases.errors import CaseError
from cases.members import DETAILS, Value
from cases.models import Member

TABLES: dict[str, dict[str, str]] = {f.column: f.codes for f in MEMBER_CODED_FIELDS}
# the form's fields in the form's order, with annex 2's number ("a9_ethnicity": A9): a code table for a
# <select>, None for the place and the months
FORM: list[tuple[str, str, dict[str, str] | None]] = [
    (column, column.split("_")[0].upper(), TABLES.get(column)) for column in DETAILS
]


def months(value: Decimal) -> str:
    """A16 as people write it: 3.5, 6 (not 6.0)."""
    return format(value.normalize(), "f") if value == value.to_integral() else str(value)


def shown(member: Member) -> list[tuple[str, str]]:
    """The items recorded for a member, (column, words) in the form's order; a place's long numbers masked."""
    out: list[tuple[str, str]] = []
    for column in DETAILS:
        value = getattr(member, column)
        if value is None:
            continue
        if column in TABLES:
            out.append((column, TABLES[column].get(value, value)))
        elif isinstance(value, Decimal):
            out.append((column, months(value)))
        else:
            out.append((column, mask_text(str(value))))
    return out


def form_values(member: Member) -> dict[str, str]:
    """What the member's edit form starts from: the recorded codes, place and months."""
    values: dict[str, str] = {}
    for column in DETAILS:
        value = getattr(member, column)
        if value is not None:
            values[column] = months(value) if isinstance(value, Decimal) else str(value)
    return values


def from_form(form: dict[str, Any]) -> dict[str, Value]:
    """The items a posted form carries (an empty one: not known); items it does not carry stay as they are."""
    return {column: str(form.get(column) or "").strip() or None for column in DETAILS if column in form}


def birth_date(form: dict[str, Any]) -> date | None:
    """The birth date typed for a member without an ID number (None when left empty)."""
    raw = str(form.get("birth_date") or "").strip()
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError as exc:
        raise CaseError("bad_birth_date", "birth_date is not a date") from exc


def typed(action: str, form: dict[str, Any]) -> dict[str, str]:
    """What a refused add or edit form carried (the action and member too), to show it again as sent: a cadre
    at the door does not type a member's items twice. Empty for any other form."""
    if action not in ("add_member", "edit_member"):
        return {}
    keys = ("action", "member_id", "member_name", "relation_code", "member_id_number", "birth_date", "note",
            *DETAILS)
    return {key: str(form.get(key) or "") for key in keys}


def corrections(form: dict[str, Any]) -> dict[str, Value]:
    """The A5 name, A8 relation and A7 ID number an edit form corrects; a field left empty keeps the one on
    record (the card shows the name and number masked, so the form starts empty)."""
    fields = {"name": "member_name", "relation_code": "relation_code", "id_number": "member_id_number"}
    typed = {key: str(form.get(name) or "").strip() for key, name in fields.items()}
    return {key: value for key, value in typed.items() if value}
