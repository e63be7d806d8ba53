"""What the console calls statuses, task kinds, workflow actions and roles (msgids of the `api` domain)."""

from __future__ import annotations

import re
from typing import Any

from cases.codes import GUARANTEES, RISKS
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
    "add_member": N_("Add a household member"),
    "remove_member": N_("Take off"),
    "edit_member": N_("Edit the details"),
}
ROLE_LABELS: dict[str, str] = {
    "hotline": N_("12317 hotline"),
    "cadre": N_("Contact cadre"),
    "village": N_("Village"),
    "township": N_("Township"),
    "county": N_("County"),
    "admin": N_("Administrator"),
}

EVENT_LABELS: dict[str, str] = {
    "case_opened": N_("Case opened"),
    "report_joined": N_("Further report joined"),
    "report_added": N_("Hotline call added"),
    "assigned": N_("Contact cadre assigned"),
    "assignment_pending": N_("No contact cadre free"),
    "reassigned": N_("Contact cadre changed"),
    "authorization_signed": N_("Annex 1 signed"),
    "authorization_withdrawn": N_("Authorization withdrawn"),
    "signature_declined": N_("Signature declined"),
    "supplement": N_("Supplement received"),
    "home_verified": N_("Home visit recorded"),
    "village_reviewed": N_("Village review passed"),
    "objection_raised": N_("Objection raised"),
    "objection_resolved": N_("Objection resolved"),
    "notice_concluded": N_("Public notice concluded"),
    "township_reviewed": N_("Township review passed"),
    "county_approved": N_("County approved"),
    "refused": N_("Refused"),
    "withdrawn": N_("Withdrawn"),
    "review_requested": N_("Review requested (复核)"),
    "elimination_proposed": N_("Risk elimination proposed"),
    "elimination_refused": N_("Risk elimination refused"),
    "measure_added": N_("Assistance measure added"),
    "evaluation_recorded": N_("Evaluation recorded"),
    "voice_listened": N_("Voice message listened to"),
    "staff_attachment": N_("Photos or files from staff"),
    "callback_done": N_("Called back"),
    "member_added": N_("Household member added"),
    "member_removed": N_("Household member taken off"),
    "member_updated": N_("Household member's details updated"),
}
ATTACHMENT_LABELS: dict[str, str] = {  # cases.models.Attachment.kind
    "photo": N_("Photo"),
    "voice": N_("Voice"),
    "document": N_("File"),
}
CHANNEL_LABELS: dict[str, str] = {
    "telegram": N_("Telegram"),
    "wechat": N_("WeChat"),
    "sms": N_("SMS"),
    "web": N_("web"),
    "hotline": N_("telephone"),
    "console": N_("console"),
    "unknown": N_("unknown channel"),
}
REPORTER_LABELS: dict[str, str] = {
    "self": N_("the household"),
    "household": N_("the household"),
    "proxy": N_("a relative or neighbour"),
    "hotline": N_("12317 hotline"),
    "cadre": N_("a cadre"),
    "department": N_("a department"),
}
OTHER_LABELS: dict[str, str] = {
    "sign": N_("signed"),
    "withdraw": N_("withdrawn"),
    "identification": N_("identification"),
    "elimination": N_("risk elimination"),
    "open": N_("open"),
    "upheld": N_("upheld"),
    "dismissed": N_("dismissed"),
    "system": N_("system"),
}
REASON_LABELS: dict[str, str] = {
    "action_not_allowed": N_("this step is not open to you at this stage"),
    "unknown_action": N_("unknown step"),
    "bad_date": N_("a date is not valid"),
    "bad_number": N_("a number is missing or not valid"),
    "visit_in_future": N_("the visit date is in the future"),
    "too_few_verifiers": N_("home verification needs at least two different staff"),
    "unknown_verifier": N_("a verifier is not an active staff member"),
    "verifier_out_of_area": N_("a verifier works outside the case's area"),
    "signature_pending": N_("annex 1 is not signed by everyone who must sign"),
    "signer_id_required": N_("give the signer's ID number"),
    "signer_id_mismatch": N_("the ID number does not match this household member's"),
    "invalid_id_number": N_("the ID number is not valid"),
    "id_number_belongs_to_another_household": N_("this ID number is on record in another household"),
    "head_name_required": N_("give the name of the head of household"),
    "village_required": N_("choose the household's village"),
    "unknown_village": N_("the village is not known"),
    "case_closed": N_("the case is closed"),
    "bad_income_figures": N_("the income figures do not add up"),
    "notice_running": N_("the public notice is still running"),
    "objection_open": N_("an objection must be investigated and resolved first"),
    "objection_content_required": N_("write down the objection"),
    "objection_closed": N_("this objection is already resolved"),
    "unknown_objection": N_("no such objection on this case"),
    "no_open_objection": N_("there is no open objection"),
    "resolution_required": N_("say what the investigation found"),
    "reason_required": N_("give the reason the household is told"),
    "category_required": N_("choose the category"),
    "illegal_step": N_("this step is not possible at the case's current stage"),
    "role_not_allowed": N_("this step is taken by another role"),
    "out_of_area": N_("the case is outside your area"),
    "inactive_staff": N_("this staff account is inactive"),
    "household_has_open_case": N_("the household already has an open case"),
    "no_labour_capacity": N_("a household without labour capacity stays monitored"),
    "below_elimination_floor": N_("per-capita net income is below the elimination floor"),
    "elimination_visit_missing": N_("no elimination home visit on record"),
    "household_signature_missing": N_("the household must sign annexes 4 and 5"),
    "no_region_setting": N_("the region's rules for this year are missing"),
    "evaluation_result_required": N_("an evaluation needs its result"),
    "unknown_measure": N_("not an A39–A52 assistance measure"),
    "unknown_measure_sub_code": N_("this measure has no such sub-code"),
    "already_assigned": N_("this staff member is already the case's contact"),
    "assignee_out_of_area": N_("the new contact works outside the case's area"),
    "not_assignable": N_("only an active cadre, village or township staff member can be the contact"),
    "no_cadre_available": N_("no other active cadre in this village"),
    "member_exists": N_("this person is already a member of this household"),
    "member_in_other_household": N_(
        "this ID number is on record in another household: correct that household first (分户)"
    ),
    "head_exists": N_("the head of household is on record already: add the other members"),
    "unknown_relation": N_("choose the member's relation to the head"),
    "name_required": N_("give the member's name"),
    "name_too_long": N_("the name is too long"),
    "head_cannot_be_removed": N_("the head of household cannot be taken off"),
    "member_signed": N_("this member signed annex 1: the signature stays on record"),
    "member_signed_annex1": N_("annex 1 was signed with this name and ID number: they cannot be changed"),
    "head_relation_fixed": N_("the head of household stays the head: the relation cannot be changed"),
    "id_number_required": N_("an ID number on record is corrected, not removed"),
    "member_not_found": N_("no such member in this household"),
    "unknown_ethnicity": N_("choose the ethnicity from the list (A9)"),
    "unknown_political_status": N_("choose the political status from the list (A10)"),
    "unknown_education": N_("choose the education from the list (A11)"),
    "unknown_schooling": N_("choose the schooling from the list (A12)"),
    "unknown_health": N_("choose the health from the list (A13)"),
    "unknown_labour_skill": N_("choose the labour skill from the list (A14)"),
    "unknown_work_area": N_("choose where the member works from the list (A15)"),
    "unknown_medical_insurance": N_("answer yes or no for basic medical insurance (A17)"),
    "work_place_too_long": N_("the place of work is too long"),
    "bad_work_months": N_("months worked: a number from 0 to 12, such as 3.5 (A16)"),
    "id_or_birth_date_required": N_("give the ID number, or the birth date when there is none"),
    "birth_date_mismatch": N_("the birth date is not the one in the ID number"),
    "birth_date_from_id": N_("the birth date is the one in the ID number"),
    "birth_date_in_future": N_("the birth date is in the future"),
    "bad_birth_date": N_("the birth date is not valid"),
    "callback_closed": N_("this call-back is closed already"),
    "call_note_required": N_("write what the call settled"),
    "value_not_recorded": N_("no number is recorded"),
}
NOTICE_LABELS: dict[str, str] = {  # what a notification in the outbox was about (bot.notify events)
    "case_opened": N_("report received"),
    "case_opened_by_proxy": N_("report received from someone else: the household is asked to sign"),
    "case_opened_by_proxy_no_id": N_("report received from someone else: signed at the home visit"),
    "case_opened_by_staff": N_("recorded by staff: the household is told and signs at the home visit"),
    "case_assigned": N_("new case assigned"),
    "case_unassigned": N_("case moved to another cadre"),
    "case_report_joined": N_("new report on a case"),
    "case_supplemented": N_("household sent more"),
    "case_status_changed": N_("case progress"),
    "case_withdrawn": N_("case withdrawn"),
    "authorization_withdrawn": N_("authorization withdrawn"),
    "objection_raised": N_("objection raised"),
    "review_requested": N_("review requested"),
    "tasks_moved_away": N_("tasks handed over"),
    "tasks_moved_in": N_("tasks taken over"),
    "task_escalated": N_("overdue task escalated"),
    "daily_digest": N_("daily digest"),
}
DELIVERY_LABELS: dict[str, str] = {  # outbox statuses
    "pending": N_("waiting to be sent"),
    "sending": N_("sending"),
    "sent": N_("sent"),
    "failed": N_("failed"),
    "dead": N_("failed after retries"),
    "dropped": N_("not sent: out of date"),  # its task done, cancelled or moved, its case closed meanwhile
}
MEMBER_DETAIL_LABELS: dict[str, str] = {  # annex 2's A9-A17, by Member column
    "a9_ethnicity": N_("Ethnicity"),
    "a10_political_status": N_("Political status"),
    "a11_education": N_("Education"),
    "a12_schooling": N_("Schooling"),
    "a13_health": N_("Health"),
    "a14_labour_skill": N_("Labour skill"),
    "a15_work_area": N_("Where they work"),
    "a15_work_place": N_("Place of work (province, city, county, township)"),
    "a16_work_months": N_("Months worked this year"),
    "a17_medical_insurance": N_("Basic medical insurance (urban and rural residents' or employees')"),
}
MEMBER_ITEM_LABELS: dict[str, str] = {  # the items a member_updated event names (cases.members.FIELDS)
    "name": N_("Name"),
    "relation": N_("Relation to the head"),
    "id_number": N_("ID number"),
    "birth_date": N_("Birth date"),
    **MEMBER_DETAIL_LABELS,
}
_VIA = re.compile(r"^(?P<who>[a-z]+) via (?P<channel>[a-z]+)$")
_STAFF = re.compile(r"^(?P<name>.+) \((?P<role>[a-z]+)\)$")


def size(value: int) -> str:
    """A file size as people read it: 812 B, 45 KB, 1.2 MB."""
    if value < 1024:
        return f"{value} B"
    if value < 1024 * 1024:
        return f"{round(value / 1024)} KB"
    return f"{value / (1024 * 1024):.1f} MB"


def label(t: Translator, table: dict[str, str], key: str) -> str:
    return t.gettext(table[key]) if key in table else key


def actor(t: Translator, text: str) -> str:
    """A timeline's stored actor label ("王五 (cadre)", "self via sms", "system") in the reader's words."""
    if m := _VIA.match(text):
        who, channel = label(t, REPORTER_LABELS, m["who"]), label(t, CHANNEL_LABELS, m["channel"])
        return t.gettext("{who} by {channel}").format(who=who, channel=channel)
    if m := _STAFF.match(text):
        return t.gettext("{name} ({role})").format(name=m["name"], role=label(t, ROLE_LABELS, m["role"]))
    return label(t, OTHER_LABELS, text)


def added(t: Translator, data: dict[str, Any] | None) -> str:
    """What a timeline event brought that the case lacked (words the household added: cases.intake.Added),
    e.g. 新增：因意外事故; empty when nothing."""
    data = data or {}
    names = [GUARANTEES.get(str(c), str(c)) for c in data.get("added_guarantees") or []] + [
        RISKS.get(str(c), str(c)) for c in data.get("added_risks") or []]
    parts = [t.gettext("New: {labels}").format(labels="、".join(names))] if names else []
    if data.get("became_urgent"):
        parts.append(t.gettext("now urgent"))
    return t.gettext("; ").join(parts)


def items(t: Translator, data: dict[str, Any] | None) -> str:
    """Which of a member's items an update changed (never their values): 姓名、身份证号; empty when none."""
    names = [label(t, MEMBER_ITEM_LABELS, str(f)) for f in (data or {}).get("fields") or []]
    return t.gettext("Changed: {items}").format(items="、".join(names)) if names else ""


def reason(t: Translator, code: str, message: str) -> str:
    """A refused step's reason in the reader's words (the domain's English message when not catalogued)."""
    return t.gettext(REASON_LABELS[code]) if code in REASON_LABELS else message


def notice(t: Translator, event: str | None) -> str:
    """What an outbox message was about: a notification's event, a task reminder, or a dialogue reply."""
    if not event:
        return t.gettext("reply in a dialogue")
    if event.startswith("task_") and event[5:] in TASK_LABELS:
        return t.gettext("reminder: {task}").format(task=t.gettext(TASK_LABELS[event[5:]]))
    return label(t, NOTICE_LABELS, event)
