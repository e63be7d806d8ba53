"""Annex 1 as a household reads it: filled in from the facts stored with its report, and rebuilt later.

A signature given in a chat records, besides the template's version and hash, the SHA-256 of the filled
text as shown and the report whose facts filled it. `rebuild` writes the same text again from the
database (the report's facts and the signing date), so the recorded hash can be checked at any time.
"""

from __future__ import annotations

import unicodedata
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import annex1
from cases.clock import BEIJING
from cases.crypto import Vault
from cases.errors import IntakeError
from cases.models import Authorization, Case, Household, Report
from cases.regions import ancestors


def written_address(db: Session, village_code: str | None) -> str | None:
    """The village written from the province down (湖南省衡阳市衡阳县黄土铺镇长冲村), from the areas table."""
    if not village_code:
        return None
    chain = ancestors(db, village_code)
    return "".join(a.name for a in reversed(chain)) or None


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
    name = "".join(unicodedata.normalize("NFKC", name).split()) if name else None  # as intake._clean_name
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
              version: str = annex1.CURRENT_VERSION) -> tuple[str, int | None]:
    """The case's annex 1 filled in (ID masked) and the id of the report that filled it (None: household)."""
    report = report_of_case(db, case)
    if report is not None:
        return annex1.filled(report_filling(report, vault, signed_on), version), report.id
    household = db.get(Household, case.household_id)
    assert household is not None
    return annex1.filled(household_filling(db, household, vault, case, signed_on), version), None


def signing_day(auth: Authorization) -> date:
    return auth.signed_at.astimezone(BEIJING).date()


def rebuild(db: Session, vault: Vault, auth: Authorization) -> str | None:
    """The filled text shown for a stored signature, written again from the database (None: none was
    recorded, e.g. a paper signature at a home visit)."""
    if auth.shown_sha256 is None:
        return None
    if auth.report_id is not None:
        report = db.get(Report, auth.report_id)
        assert report is not None
        return annex1.filled(report_filling(report, vault, signing_day(auth)), auth.text_version)
    case = db.get(Case, auth.case_id)
    household = db.get(Household, auth.household_id)
    assert case is not None and household is not None
    return annex1.filled(household_filling(db, household, vault, case, signing_day(auth)), auth.text_version)


def verify(db: Session, vault: Vault, auth: Authorization) -> bool | None:
    """Whether the rebuilt text has the recorded hash (None: no filled text was recorded)."""
    text = rebuild(db, vault, auth)
    return None if text is None else annex1.digest(text) == auth.shown_sha256


def check_shown(db: Session, vault: Vault, case: Case, *, version: str, shown_sha256: str,
                report_id: int | None, signed_on: date) -> int | None:
    """Refuse a signature on a filled text the database would not write again (say, the date changed
    since it was shown); returns the report id that filled it."""
    if report_id is not None:
        report = db.get(Report, report_id)
        if report is None or report.case_id != case.id:
            raise IntakeError("unknown_report", "the report is not one of this case's")
        text = annex1.filled(report_filling(report, vault, signed_on), version)
    else:
        text, report_id = case_text(db, vault, case, signed_on=signed_on, version=version)
    if annex1.digest(text) != shown_sha256:
        raise IntakeError("shown_text_changed", "the filled annex 1 text changed since it was shown")
    return report_id
