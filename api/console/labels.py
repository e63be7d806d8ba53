"""What the console calls statuses, task kinds, workflow actions and roles (msgids of the `api` domain)."""

from __future__ import annotations

from conversations.i18n import N_, Translator

STATUS_LABELS: dict[str, str] = {
    "applied": N_("Applied"),
    "verified": N_("Verified"),
    "public_notice": N_("Public notice"),
    "township_review": N_("Township review"),
    "county_review": N_("County approval"),
    "monitored": N_("Monitored"),
    "refused": N_("Refused"),
    "withdrawn": N_("Withdrawn"),
    "elim_proposed": N_("Elimination proposed"),
    "elim_verified": N_("Elimination verified"),
    "elim_notice": N_("Elimination notice"),
    "elim_township": N_("Elimination: township"),
    "elim_county": N_("Elimination: county"),
    "eliminated": N_("Risk eliminated"),
}
TASK_LABELS: dict[str, str] = {
    "acknowledge": N_("Acknowledge the new case"),
    "verify": N_("Home verification"),
    "village_review": N_("Village review"),
    "notice_end": N_("Conclude the public notice"),
    "township": N_("Township review"),
    "county": N_("County approval"),
    "evaluate": N_("Quarterly evaluation"),
    "elim_verify": N_("Elimination: home verification"),
    "elim_review": N_("Elimination: village review"),
    "elim_notice_end": N_("Elimination: conclude the notice"),
    "elim_township": N_("Elimination: township review"),
    "elim_county": N_("Elimination: county approval"),
    "callback": N_("Call back"),
}
ACTION_LABELS: dict[str, str] = {
    "sign_at_visit": N_("The household signs annex 1 at the visit"),
    "record_home_visit": N_("Record the home visit"),
    "village_review": N_("Village review passed: start the public notice"),
    "raise_objection": N_("Record an objection"),
    "resolve_objection": N_("Resolve an objection"),
    "conclude_notice": N_("Notice over: send to the township"),
    "township_review": N_("Township review passed"),
    "county_approve": N_("County approval"),
    "refuse": N_("Refuse"),
    "withdraw": N_("Withdraw"),
    "request_review": N_("Review requested (复核)"),
    "propose_elimination": N_("Propose risk elimination"),
    "assign": N_("Assign a contact cadre"),
    "add_measure": N_("Add an assistance measure"),
    "record_evaluation": N_("Record an evaluation"),
}
ROLE_LABELS: dict[str, str] = {
    "hotline": N_("12317 hotline"),
    "cadre": N_("Contact cadre"),
    "village": N_("Village"),
    "township": N_("Township"),
    "county": N_("County"),
    "admin": N_("Administrator"),
}


def label(t: Translator, table: dict[str, str], key: str) -> str:
    return t.gettext(table[key]) if key in table else key
