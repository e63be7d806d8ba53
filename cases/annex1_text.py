"""Annex 1 as a household reads it: filled in from the facts stored with its report, and rebuilt later.

A signature given in a chat records, besides the template's version and hash, the SHA-256 of the filled
text as shown, the report whose facts filled it and the variant shown. `rebuild` writes the same text
again from the database (the report's facts, the signing date, the variant), so the recorded hash can be
checked at any time.

Two variants: FULL for the household's own linked identity; MASKED for any other (design.md "Privacy by
construction": name `张*` where a name is not needed): the name masked, the address down to the township,
the free-text cause left out, so a stranger who found the case is shown nothing a signature could copy.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import annex1
from cases.clock import BEIJING
from cases.crypto import Vault, mask_name
from cases.errors import IntakeError
from cases.ids import written_name
from cases.models import Area, AreaLevel, Authorization, Case, Household, Report
from cases.regions import ancestors


def written_address(db: Session, village_code: str | None) -> str | None:
    """The village written from the province down (湖南省衡阳市衡阳县黄土铺镇长冲村), from the areas table."""
    if not village_code:
        return None
    return address_of(ancestors(db, village_code))


def address_of(chain: list[Area]) -> str | None:
    """The address an area's chain (itself first, then its ancestors, as `ancestors` gives it) writes."""
    return "".join(a.name for a in reversed(chain)) or None


FULL = "full"
MASKED = "masked"
VARIANTS = (FULL, MASKED)
HIDDEN = "***"  # a fixed width: the hidden village's or group's length is not told either


def township_address(db: Session, area_code: str | None) -> str | None:
    """The area written from the province down to its township, without the village (湖南省…西渡镇)."""
    if not area_code:
        return None
    chain = [a for a in ancestors(db, area_code) if a.level != AreaLevel.VILLAGE]
    return "".join(a.name for a in reversed(chain)) or None


def masked(db: Session, filling: annex1.Filling, area_code: str | None) -> annex1.Filling:
    """The filling as an identity not linked to the household reads it: 张*, the township then ***村***组."""
    township = township_address(db, area_code) if filling.address else None
    return replace(filling, name=mask_name(filling.name) or None,
                   address=township + HIDDEN + "村" if township else None,
                   group=HIDDEN + "组" if township else None, other_text=None)


def _variant(db: Session, filling: annex1.Filling, area_code: str | None, variant: str) -> annex1.Filling:
    if variant not in VARIANTS:
        raise IntakeError("unknown_variant", f"no annex 1 variant {variant!r}")
    return filling if variant == FULL else masked(db, filling, area_code)


def report_filling(report: Report, vault: Vault, signed_on: date | None) -> annex1.Filling:
    """What the report's stored facts write into annex 1."""
    return annex1.Filling(
        name=report.head_name,
        id_number=vault.decrypt(report.id_number_enc) if report.id_number_enc else None,
        address=report.written_address,
        group=report.group_name,
        size=report.household_size,
        risks=tuple(report.risks or ()),
        guarantees=tuple(report.guarantees or ()),
        other_text=report.other_risk_text,
        signed_on=signed_on,
    )


def draft_filling(db: Session, *, name: str | None, id_number: str | None, size: int | None,
                  village_code: str | None, group: str | None, risks: list[str], guarantees: list[str],
                  other_text: str | None, signed_on: date | None) -> annex1.Filling:
    """What a report still being written (in a dialogue) writes into annex 1: as `submit_report` stores it."""
    name = written_name(name) if name else None  # as a record keeps it
    return annex1.Filling(name=name, id_number=id_number, address=written_address(db, village_code),
                          group=group, size=size, risks=tuple(risks), guarantees=tuple(guarantees),
                          other_text=other_text, signed_on=signed_on)


def report_of_case(db: Session, case: Case) -> Report | None:
    """The case's latest report that carries the household's facts (the one annex 1 is filled from)."""
    return db.scalar(select(Report).where(Report.case_id == case.id, Report.head_name.is_not(None))
                     .order_by(Report.created_at.desc(), Report.id.desc()).limit(1))


def household_filling(db: Session, household: Household, vault: Vault, case: Case,
                      signed_on: date | None) -> annex1.Filling:
    """A case without a report carrying facts (imported, or filed before reports kept them)."""
    return annex1.Filling(
        name=household.head_name,
        id_number=vault.decrypt(household.id_number_enc) if household.id_number_enc else None,
        address=written_address(db, household.village_code), group=household.group_name,
        size=household.size, risks=tuple(case.risks or ()), guarantees=tuple(case.guarantees or ()),
        other_text=None, signed_on=signed_on)


def case_text(db: Session, vault: Vault, case: Case, *, signed_on: date | None,
              version: str = annex1.CURRENT_VERSION, variant: str = FULL) -> tuple[str, int | None]:
    """The case's annex 1 filled in (ID masked; all but the township too in the MASKED variant) and the id
    of the report that filled it (None: the household record)."""
    report = report_of_case(db, case)
    if report is not None:
        return report_text(db, vault, case, report, signed_on=signed_on, version=version,
                           variant=variant), report.id
    household = db.get(Household, case.household_id)
    assert household is not None
    filling = household_filling(db, household, vault, case, signed_on)
    return annex1.filled(_variant(db, filling, household.village_code, variant), version), None


def report_text(db: Session, vault: Vault, case: Case, report: Report, *, signed_on: date | None,
                version: str, variant: str) -> str:
    """The annex 1 one report of the case fills in, in a variant (the masked address from the case's area)."""
    return annex1.filled(_variant(db, report_filling(report, vault, signed_on), case.area_code, variant),
                         version)


def signing_day(auth: Authorization) -> date:
    return auth.signed_at.astimezone(BEIJING).date()


def rebuild(db: Session, vault: Vault, auth: Authorization) -> str | None:
    """The filled text shown for a stored signature, written again from the database (None: none was
    recorded, e.g. a paper signature at a home visit)."""
    if auth.shown_sha256 is None:
        return None
    variant = auth.shown_variant or FULL
    case = db.get(Case, auth.case_id)
    assert case is not None
    if auth.report_id is not None:
        report = db.get(Report, auth.report_id)
        assert report is not None
        return report_text(db, vault, case, report, signed_on=signing_day(auth), version=auth.text_version,
                           variant=variant)
    household = db.get(Household, auth.household_id)
    assert household is not None
    filling = household_filling(db, household, vault, case, signing_day(auth))
    return annex1.filled(_variant(db, filling, household.village_code, variant), auth.text_version)


def verify(db: Session, vault: Vault, auth: Authorization) -> bool | None:
    """Whether the rebuilt text has the recorded hash (None: no filled text was recorded)."""
    text = rebuild(db, vault, auth)
    return None if text is None else annex1.digest(text) == auth.shown_sha256


def check_shown(db: Session, vault: Vault, case: Case, *, version: str, shown_sha256: str,
                report_id: int | None, signed_on: date, variant: str = FULL) -> int | None:
    """Refuse a signature on a filled text the database would not write again in this variant (say, the
    date changed since it was shown); returns the report id that filled it."""
    if report_id is not None:
        report = db.get(Report, report_id)
        if report is None or report.case_id != case.id:
            raise IntakeError("unknown_report", "the report is not one of this case's")
        text = report_text(db, vault, case, report, signed_on=signed_on, version=version, variant=variant)
    else:
        text, report_id = case_text(db, vault, case, signed_on=signed_on, version=version, variant=variant)
    if annex1.digest(text) != shown_sha256:
        raise IntakeError("shown_text_changed", "the filled annex 1 text changed since it was shown")
    return report_id
