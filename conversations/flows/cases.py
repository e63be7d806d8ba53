"""Flows about an existing case: status, sign later, supplement, withdraw.

A contact linked to the household goes straight on; anyone else first gives the case number and the
last four characters of the household head's ID (FindCase, rate-limited by the service; a wrong pair
reveals nothing, G4/G7).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from conversations.commands import (
    AddAttachment,
    AddSupplement,
    CaseView,
    DeclineSignature,
    FillAnnex,
    FindCase,
    LinkContact,
    QueryStatus,
    Result,
    SignAuthorization,
    Withdraw,
)
from conversations.flows import annex
from conversations.flows.common import (
    DONE_WORDS,
    MAX_FAILS,
    NO_WORDS,
    UNKNOWN_WORDS,
    WITHDRAW_REPORT_WORDS,
    WITHDRAW_WORDS,
    Turn,
    asked_for,
    end_flow,
    flow,
    goto,
    matches,
    number_choice,
    numbered,
    person_name,
)
from conversations.flows.menu import show_menu
from conversations.i18n import N_

F = flow("case")
_CASE = re.compile(r"(?:SB)?([0-9A-Z]{8})(?![0-9A-Z])")
_CASE_AND_LAST4 = re.compile(r"^(?:SB)?([0-9A-Z]{8})(?=(?:\d{3}[\dX])?$)")
_LAST4 = re.compile(r"(?<![0-9A-Z])(\d{3}[\dX])(?![0-9A-Z])")

STATUS_WORDS: dict[str, str] = {
    "applied": N_("Application received"),
    "verified": N_("Home visit done; waiting for the village review"),
    "public_notice": N_("Public notice in the village"),
    "township_review": N_("Township review"),
    "county_review": N_("County approval"),
    "monitored": N_("Approved: the household is monitored and helped"),
    "refused": N_("Not approved"),
    "withdrawn": N_("Withdrawn"),
    "elim_proposed": N_("Review to end monitoring (risk removed)"),
    "elim_verified": N_("Review to end monitoring (risk removed)"),
    "elim_notice": N_("Review to end monitoring: public notice"),
    "elim_township": N_("Review to end monitoring: township"),
    "elim_county": N_("Review to end monitoring: county"),
    "eliminated": N_("Risk removed; monitoring ended"),
}
NEXT_WORDS: dict[str, str] = {
    "sign_authorization": N_("The household head signs the authorization: reply 签字."),
    "home_verification": N_("Two staff visit the home to check."),
    "village_review": N_("The village reviews the case, then posts a 7-day public notice."),
    "public_notice": N_("When the notice ends, the township reviews."),
    "objection_investigation": N_("Someone raised a question during the notice; staff are looking into it."),
    "township_review": N_("After the township, the county decides."),
    "county_review": N_("The county decides soon."),
    "assistance": N_("Your contact cadre helps and checks in with you every quarter."),
    "may_request_review": N_("If you disagree, you can ask for a review: reply 人工."),
    "none": N_("Nothing more to do. Write to us again if things get hard."),
}
ELIMINATION_NEXT = N_("Staff check whether the risk is gone.")


_NOT_REPORTED = re.compile(r"还没(报|申报|有报)|没(报|申报)过|没有案件")
_CLOSED = ("refused", "withdrawn", "eliminated")  # nothing is added to these
FOUND_FOR = timedelta(minutes=30)  # a case looked up with its number and ID digits, for adding to it


def _found_lately(turn: Turn) -> str | None:
    """The case this chat looked up with its number and the ID digits in the last FOUND_FOR, if any."""
    found = turn.state.get("found") or {}
    try:
        at = datetime.fromisoformat(found.get("at", ""))
    except ValueError:
        return None
    return str(found["case"]) if turn.facts.now - at <= FOUND_FOR else None


def case_to_call_about(turn: Turn) -> tuple[str | None, bool]:
    """The case a call-back this chat asks for is about, and whether it was refused (the call-back is then
    the way to ask for its review, 复核): one it looked up lately with the number and ID digits, else the
    household's own (linked) latest case; (None, False) when it has none."""
    number = _found_lately(turn)
    if number is not None:
        return number, bool((turn.state.get("found") or {}).get("refused"))
    if turn.facts.linked_case:
        return turn.facts.linked_case, turn.facts.linked_case_refused
    return None, False


def start(turn: Turn, purpose: str, *, why: bool = False) -> None:
    """purpose: status | sign | supplement | withdraw. `why`: the status asked as 'why not us?'
    (为什么不给我), which a refused case answers with its reason and how to ask for a review."""
    data: dict[str, object] = {"purpose": purpose, "why": True} if why else {"purpose": purpose}
    turn.state.update(flow="case", step=None, data=data, history=[], fails={})
    facts = turn.facts
    if facts.linked_case and (purpose == "status" or facts.linked_case_open):
        if purpose == "sign" and not facts.linked_case_unsigned:
            turn.say(turn._("Your case {number} is already signed. Nothing more to sign.")
                     .format(number=facts.linked_case))
            end_flow(turn)
            show_menu(turn)
            return
        turn.data.update(case=facts.linked_case, linked=True)
        _found(turn)
        return
    found = _found_lately(turn)
    looked_up = turn.state.get("found") or {}
    closed = (bool(looked_up.get("closed") or looked_up.get("refused")) if found is not None
              else facts.linked_case is not None and not facts.linked_case_open)
    if purpose == "supplement" and closed:  # said before any words are asked for, not once they are typed
        _closed(turn, found or facts.linked_case or "")
        return
    if purpose in ("supplement", "sign") and found is not None:  # looked up with the ID digits lately
        turn.data["case"] = found
        goto(turn, "collect" if purpose == "supplement" else "annex")
        return
    if purpose == "withdraw":  # never on a case number and 4 ID digits: others may know those (G4)
        if facts.linked_case:
            turn.say(turn._("Case {number} is already closed, so it cannot be withdrawn.")
                     .format(number=facts.linked_case))
        else:
            turn.say(turn._("Only the phone or chat the household reported or signed from can withdraw its "
                            "report. Please send 撤回 from there, or tell your contact cadre, or call "
                            "{hotline}.").format(hotline=facts.hotline))
        end_flow(turn)
        show_menu(turn)
        return
    goto(turn, "ask_case")


def start_with_number(turn: Turn, purpose: str = "status") -> None:
    """A case number typed alone (its status), or with what to do with it ('签字 SB…'): the case is looked
    up as if asked for (the ID digits are asked next, unless they came with it)."""
    turn.state.update(flow="case", step="ask_case", data={"purpose": purpose}, history=[], fails={})
    _case_number(turn)


@F.prompt("ask_case")
def _ask_case(turn: Turn) -> None:
    turn.say(turn._("Please type the case number (it starts with SB)."), ["0 " + turn._("Back")])


@F.on("ask_case")
def _case_number(turn: Turn) -> None:
    raw = unicodedata.normalize("NFKC", turn.raw).upper().replace("-", "")
    m = _CASE.search(raw)
    if not m:  # typed with spaces inside: SB 46BE J4JN, perhaps with the last 4 after it
        raw = raw.replace(" ", "")
        m = _CASE_AND_LAST4.match(raw) or _CASE.search(raw)
    if not m and (matches(turn.text, UNKNOWN_WORDS) or _NOT_REPORTED.search(turn.text)):  # 没有, 还没报
        end_flow(turn)
        turn.say(turn._("No case number yet? A report gets one when it is filed: choose 1 to report."))
        show_menu(turn)  # with 9 when a report was set aside to look a case up
        return
    if not m and turn.data.get("purpose") == "supplement" and len(turn.text) > 8:  # the words to add, first
        turn.data.setdefault("pending", []).append(_pending(turn))
        turn.say(turn._("Please type the case number first (it starts with SB). What you just wrote is kept "
                        "and will be added."), ["0 " + turn._("Back")])
        return
    if not m:
        count = turn.fail()
        text = turn._("A case number is SB followed by 8 letters and digits, for example SB7K2M9QXA.")
        if count >= MAX_FAILS:
            text += "\n" + turn._("No case number? Reply 人工 and staff will help.")
        turn.say(text, ["0 " + turn._("Back")])
        return
    turn.data["number"] = "SB" + m.group(1)
    rest = raw[m.end():]
    last4 = _LAST4.search(rest)
    if last4:
        turn.do(FindCase(turn.data["number"], last4.group(1), turn.data["purpose"]))
        return
    goto(turn, "ask_last4")


@F.prompt("ask_last4")
def _ask_last4(turn: Turn) -> None:
    turn.say(turn._("Now the last 4 digits of the household head's ID number."), ["0 " + turn._("Back")])


@F.on("ask_last4")
def _last4(turn: Turn) -> None:
    raw = unicodedata.normalize("NFKC", turn.raw).upper().replace(" ", "")
    m = _LAST4.search(raw)
    if turn.data.get("purpose") == "supplement" and len(turn.text) > 8 and not re.search(r"\d{4}", raw):
        turn.data.setdefault("pending", []).append(_pending(turn))  # the words to add: kept for the case
        m = None
    if not m or len(raw) > 6:
        turn.say(turn._("Please type just the last 4 digits, for example 3457 (or 123X)."),
                 ["0 " + turn._("Back")])
        return
    turn.do(FindCase(turn.data["number"], m.group(1), turn.data["purpose"]))


@F.result(FindCase)
def _find_result(turn: Turn, command: FindCase, result: Result) -> None:
    if result.ok and result.case is not None:
        turn.data["case"] = result.case.number
        turn.state["found"] = {"case": result.case.number, "at": turn.facts.now.isoformat(),
                               "refused": result.case.status == "refused",
                               "closed": result.case.status in _CLOSED}
        _found(turn, result.case)
        return
    if result.reason == "rate_limited":
        turn.say(turn._("Too many tries. For your safety, please wait {minutes} minutes, "
                        "or reply 人工 to talk to a person.").format(
                            minutes=result.retry_after_minutes or 60))
        end_flow(turn)
        return
    turn.say(turn._("We could not find a case with that number and those ID digits. Please check both."))
    turn.state["history"] = []
    goto(turn, "ask_case", remember=False)


def _found(turn: Turn, case: CaseView | None = None) -> None:
    purpose = turn.data["purpose"]
    number = turn.data["case"]
    if purpose == "status":
        if case is not None:
            _tell(turn, case)
            end_flow(turn)
        else:
            turn.do(QueryStatus(number))
    elif purpose == "sign":
        if case is not None and not case.pending_signers_masked:
            turn.say(turn._("Case {number} has all the signatures it needs.").format(number=number))
            end_flow(turn)
            show_menu(turn)
            return
        goto(turn, "annex")
    elif purpose == "supplement":
        if case is not None and case.status in _CLOSED:
            _closed(turn, number)
            return
        goto(turn, "collect")
        for said in turn.data.pop("pending", []):  # typed while the case number was asked for
            if isinstance(said, str):  # kept by an earlier version, before what was read went with it
                said = {"text": said}
            turn.do(AddSupplement(number, said["text"], **_read_in(said)))
    else:
        goto(turn, "confirm_withdraw")


def _closed(turn: Turn, number: str) -> None:
    """Nothing is added to a closed case: said, then the menu."""
    turn.say(turn._("Case {number} is closed; nothing can be added. To report again, choose 1.")
             .format(number=number))
    end_flow(turn)
    show_menu(turn)


@F.result(QueryStatus)
def _status_result(turn: Turn, command: QueryStatus, result: Result) -> None:
    if result.ok and result.case is not None:
        _tell(turn, result.case)
    else:
        turn.say(turn._("We could not find your case just now. Please try again later."))
    end_flow(turn)


def _tell(turn: Turn, case: CaseView) -> None:
    """The case's status; a refused case asked 'why not us?' is told why and how to ask for a review."""
    if turn.data.get("why") and case.status == "refused":
        render_refusal(turn, case)
    else:
        render_status(turn, case)


def render_refusal(turn: Turn, case: CaseView) -> None:
    """Why the case was not approved (the reason recorded at the refusal) and how to object: a review (复核)
    is asked for through a person (人工, the hotline or the contact cadre), who records it; then the menu."""
    lines = [turn._("Case {number} was not approved.").format(number=case.number)]
    if case.refused_reason:
        lines.append(turn._("Reason: {reason}").format(reason=case.refused_reason))
    if case.review_asked_on is not None:  # asked for already: when, and what comes of it; not again
        lines.append(review_asked(turn, case.review_asked_on))
    else:
        lines.append(turn._("If you disagree, you can ask for a review (复核): reply 人工 and staff will "
                            "call you back, or call {hotline}.").format(hotline=turn.facts.hotline))
    if case.cadre_name:
        cadre = turn._("Contact cadre: {name} {phone}").format(name=case.cadre_name,
                                                                phone=case.cadre_phone_masked or "")
        lines.append(cadre.strip())
    lines.append(turn._("Anything else? Reply with a number."))
    show_menu(turn, intro="\n".join(lines))


def review_asked(turn: Turn, on: date) -> str:
    """A review (复核) the household asked for, waiting for the hotline's call: when, and what comes next."""
    return turn._("You asked for a review on {date}. Staff of the {hotline} hotline will call you back on a "
                  "working day. Then the case is reviewed again from the step that refused it, and we will "
                  "send you a message. No need to ask again.").format(date=turn.t.format_date(on),
                                                                       hotline=turn.facts.hotline)


def render_status(turn: Turn, case: CaseView) -> None:
    """The case in plain words: where it is, since when, who to call, what comes next; then the menu."""
    t = turn.t
    lines = [turn._("Case {number}").format(number=case.number),
             turn._("Now: {status} (updated {date})").format(
                 status=t.gettext(STATUS_WORDS.get(case.status, case.status)),
                 date=t.format_date(case.updated_on)),
             turn._("Reported on {date}").format(date=t.format_date(case.opened_on))]
    if case.notice_end is not None and case.status in ("public_notice", "elim_notice"):
        lines.append(turn._("Public notice until {date}").format(date=t.format_date(case.notice_end)))
    if case.refused_reason and case.status == "refused":
        lines.append(turn._("Reason: {reason}").format(reason=case.refused_reason))
    if case.pending_signers_masked:
        names = turn._(", ").join(case.pending_signers_masked)
        lines.append(turn._("Still to sign: {names}").format(names=names))
    elif case.status not in ("withdrawn", "refused"):
        lines.append(turn._("Authorization: signed"))
    if case.cadre_name:
        cadre = turn._("Contact cadre: {name} {phone}").format(name=case.cadre_name,
                                                                phone=case.cadre_phone_masked or "")
        lines.append(cadre.strip())
    if case.status == "refused" and case.review_asked_on is not None:
        lines.append(review_asked(turn, case.review_asked_on))  # not 'reply 人工 to ask for a review'
    else:
        if case.reviewed_on is not None:  # 为什么不给我 after the review reopened it: say it is the review
            taken = turn._("Your review (复核) was taken up on {date}: the case is being looked at again "
                           "from the step that refused it.")
            lines.append(taken.format(date=t.format_date(case.reviewed_on)))
        following = NEXT_WORDS.get(case.next_step, ELIMINATION_NEXT)
        lines.append(turn._("Next: {next}").format(next=t.gettext(following)))
    lines.append(turn._("Anything else? Reply with a number."))
    show_menu(turn, intro="\n".join(lines))  # one message: a number sent next means what it shows


def still_to_sign(turn: Turn, names: list[str]) -> str:
    return turn._("Still to sign: {names}. Each of them can sign the same way: send 签字 from this phone "
                  "or chat, or sign when staff visit.").format(names=turn._(", ").join(names))


# --- sign later ----------------------------------------------------------------------------------------


@F.prompt("annex")
def _ask_annex(turn: Turn) -> None:
    turn.do(FillAnnex(text_version=turn.facts.annex_version, case_number=turn.data["case"]))


@F.result(FillAnnex)
def _annex_filled(turn: Turn, command: FillAnnex, result: Result) -> None:
    if result.ok and result.data.get("may_sign") is False and not result.data.get("to_sign", True):
        turn.say(turn._("Case {number} has all the signatures it needs.").format(number=turn.data["case"]))
        end_flow(turn)  # nothing for this chat to sign: not the application to read again
        show_menu(turn)
        return
    if annex.shown(turn, result) or not result.ok:
        return
    not_the_household(turn, result.data.get("refusal"))  # shown to read; signing is the household's


def not_the_household(turn: Turn, reason: str | None) -> None:
    """How the household signs, to an identity that may not sign for it; then the menu (no dead end)."""
    if reason == "proxy_contact":
        turn.say(turn._("The household has to sign from its own phone, or when staff visit. "
                        "The person who reported for them cannot sign for them."))
    else:
        turn.say(turn._("Only the household itself can sign: from the phone number on its report, or the "
                        "chat it reported from, send 签字; or sign when staff visit the home. This phone or "
                        "chat cannot sign for them. For help, reply 人工."))
    end_flow(turn)
    show_menu(turn)


@F.on("annex")
def _annex(turn: Turn) -> None:
    answer = annex.consent_answer(turn)
    if answer == "yes":
        goto(turn, "sign_name")
    elif answer == "no":
        turn.do(DeclineSignature(turn.data["case"]))
    elif answer == "again":
        _ask_annex(turn)
    else:
        turn.say(turn._("Please reply 1 (同意, I agree) or 2 (不同意, I do not agree)."),
                 annex.consent_choices(turn))


@F.prompt("sign_name")
def _ask_sign_name(turn: Turn) -> None:
    turn.say(turn._("To sign, type the full name of the person signing, as on the ID card."),
             ["0 " + turn._("Back")])


@F.on("sign_name")
def _sign_name(turn: Turn) -> None:
    typed = "".join(unicodedata.normalize("NFKC", turn.raw).split()).strip("。.")
    name = person_name(turn)
    if name is None and 2 <= len(typed) <= 20 and asked_for(typed) is None:  # the command says who may sign
        name = typed  # a name the surname table lacks; a request (签字, 授权) is not one
    if name is None:
        turn.say(turn._("Please type the full name, for example: 张三."), ["0 " + turn._("Back")])
        return
    shown = turn.data.get("annex") or {}
    turn.do(SignAuthorization(turn.data["case"], name, turn.facts.annex_version,
                              shown_sha256=shown.get("sha256"), report_id=shown.get("report_id")))


@F.result(SignAuthorization)
def _signed(turn: Turn, command: SignAuthorization, result: Result) -> None:
    if result.ok:
        turn.say(turn._("Thank you, {name}: the authorization for case {number} is signed. "
                        "The cadre will go on with your case.").format(name=command.signer_name,
                                                                       number=command.case_number))
        if result.case is not None and result.case.pending_signers_masked:
            turn.say(still_to_sign(turn, result.case.pending_signers_masked))
        if not turn.data.get("linked"):
            turn.do(LinkContact(command.case_number))  # the flow ends once linked
        else:
            end_flow(turn, keep={"case": command.case_number})
        return
    if result.reason == "name_mismatch":
        count = turn.fail()
        text = turn._("That name is not one of this household's members. Please type it exactly as on "
                      "the ID card.")
        if count >= MAX_FAILS:
            text += "\n" + turn._("You can also sign when staff visit your home.")
        turn.say(text, ["0 " + turn._("Back")])
        return
    if result.reason == "shown_text_changed":
        annex.changed(turn)
        goto(turn, "annex", remember=False)
        return
    if result.reason in ("proxy_contact", "not_household"):
        not_the_household(turn, result.reason)
        return
    turn.say(turn._("Sorry, the signature could not be recorded. Staff can take it at the home visit."))
    end_flow(turn)
    show_menu(turn)


@F.result(LinkContact)
def _linked(turn: Turn, command: LinkContact, result: Result) -> None:
    if result.ok:
        turn.say(turn._("From now on we will send news about the case to this chat."))
    end_flow(turn, keep={"case": command.case_number})


@F.result(DeclineSignature)
def _declined(turn: Turn, command: DeclineSignature, result: Result) -> None:
    turn.say(turn._("All right, nothing was signed. Without the signature the case cannot go on. "
                    "You can sign later: reply 签字, or sign when staff visit."))
    end_flow(turn)


# --- supplement ----------------------------------------------------------------------------------------


@F.prompt("collect")
def _ask_collect(turn: Turn) -> None:
    turn.say(turn._("Send words, photos (ID card, hospital bills) or voice messages for case {number}. "
                    "Send as many as you like; reply 好了 when you are done.").format(
                        number=turn.data["case"]),
             numbered([turn._("Done")]) + ["0 " + turn._("Back")])


@F.on("collect")
def _collect(turn: Turn) -> None:
    if matches(turn.text, DONE_WORDS) or number_choice(turn.text) == 1 and len(turn.text) <= 3:
        count = int(turn.data.get("added", 0))
        if not count:
            turn.say(turn._("Nothing was added to case {number}.").format(number=turn.data["case"]))
            end_flow(turn, keep={"case": turn.data["case"]})
            return
        turn.say(turn.t.ngettext("Thank you. {n} item was added to case {number}; the cadre will see it.",
                                 "Thank you. {n} items were added to case {number}; the cadre will see them.",
                                 count).format(n=count, number=turn.data["case"]))
        end_flow(turn, keep={"case": turn.data["case"]})
        return
    turn.do(AddSupplement(turn.data["case"], turn.raw.strip(), **_read(turn)))


def _read_in(said: Mapping[str, Any]) -> dict[str, Any]:
    """AddSupplement's risks, guarantees and urgent from what the parser read (its contract's keys)."""
    return {"risks": sorted(set(said.get("risks") or [])),
            "guarantees": sorted(set(said.get("guarantees") or [])), "urgent": bool(said.get("urgent"))}


def _read(turn: Turn) -> dict[str, Any]:
    """What the parser read in this message that a case keeps: its codes and whether it is urgent (a
    negated word, 没有生病, raises nothing)."""
    p = turn.parse
    return _read_in({"risks": p.risks, "guarantees": p.guarantees, "urgent": p.urgent})


def _pending(turn: Turn) -> dict[str, Any]:
    """Words to add typed before the case is known: kept with what was read in them."""
    return {"text": turn.raw.strip(), **_read(turn)}


def add_words(turn: Turn, number: str, text: str) -> None:
    """Words the household said about its open case (a new difficulty): added to it as 补充 adds them, with
    what the parser read in them (the report's `parsed`: never the '09' a report puts when nothing was
    read), then more may follow."""
    read = _read_in(turn.data.get("parsed") or {})
    turn.state.update(flow=F.name, step="collect", data={"purpose": "supplement", "case": number,
                                                         "linked": True, "said_first": True},
                      history=[], fails={})
    turn.do(AddSupplement(number, text, **read))


def add_files(turn: Turn, number: str) -> None:
    """Photos or voice messages the household sent its open case with no flow under way (right after
    filing, say): added to it as 补充 adds them, with any words sent along, then more may follow."""
    turn.state.update(flow=F.name, step="collect", data={"purpose": "supplement", "case": number,
                                                         "linked": True, "files_first": True},
                      history=[], fails={})
    _collect_attachments(turn)


def _collect_attachments(turn: Turn) -> bool:
    if turn.step != "collect":
        turn.say(turn._("To add photos, first finish this step, or choose 4 in the menu."))
        return not turn.text
    issued = 0
    for index in turn.attachments():
        turn.do(AddAttachment(case_number=turn.data["case"], index=index))
        issued += 1
    if turn.text and not matches(turn.text, DONE_WORDS):
        turn.do(AddSupplement(turn.data["case"], turn.raw.strip(), **_read(turn)))
        issued += 1
    turn.data["acks_due"] = issued  # one answer for the message, after its last item (a caption too)
    return True


F.attachments = _collect_attachments


@F.result(AddSupplement)
@F.result(AddAttachment)
def _added(turn: Turn, command: AddSupplement | AddAttachment, result: Result) -> None:
    due = int(turn.data.pop("acks_due", 1)) - 1
    if result.ok and due > 0:  # more items of the same message to come: answered once, after the last
        turn.data["added"] = int(turn.data.get("added", 0)) + 1
        turn.data["acks_due"] = due
        voice = bool(result.data.get("needs_listening"))
        turn.data["voice_kept"] = bool(turn.data.get("voice_kept")) or voice
        return
    if due > 0:
        turn.data["acks_due"] = due
    if result.ok:
        turn.data["added"] = int(turn.data.get("added", 0)) + 1
        if turn.data.pop("voice_kept", False) or result.data.get("needs_listening"):
            turn.data.pop("files_first", None)
            turn.say(turn._("Voice message kept; a person will listen to it. More? Reply 好了 when done."))
        elif turn.data.pop("said_first", False):  # add_words: said, then what else may be sent
            turn.note(turn._("What you said is added to case {number}; the cadre will see it.")
                      .format(number=turn.data["case"]))
            _ask_collect(turn)
        elif turn.data.pop("files_first", False):  # add_files: sent, then what else may be sent
            turn.note(turn._("Received, and added to case {number}; the cadre will see it.")
                      .format(number=turn.data["case"]))
            _ask_collect(turn)
        else:
            turn.say(turn._("Received. More? Reply 好了 when you are done."))
    elif result.reason == "not_open":  # closed meanwhile: not "could not keep that file"
        turn.say(turn._("Case {number} is closed; nothing can be added. To report again, choose 1.")
                 .format(number=command.case_number))
        end_flow(turn)
        show_menu(turn)
    else:
        turn.say(annex.attachment_refusal(turn, result))


# --- withdraw ----------------------------------------------------------------------------------------------


@F.prompt("confirm_withdraw")
def _ask_withdraw(turn: Turn) -> None:
    turn.say(turn._("Withdraw case {number}? If you still have difficulties later, you can report again.")
             .format(number=turn.data["case"]), _withdraw_choices(turn))


def _withdraw_choices(turn: Turn) -> list[str]:
    return numbered([turn._("Yes, withdraw it"), turn._("No, keep it")]) + ["0 " + turn._("Back")]


WITHDRAW_CASE_WORDS = WITHDRAW_WORDS | WITHDRAW_REPORT_WORDS | {"是的，撤回"}  # 撤回申报: as it was asked


@F.on("confirm_withdraw")
def _withdraw(turn: Turn) -> None:
    choice = number_choice(turn.text)
    if choice == 1 or matches(turn.text, WITHDRAW_CASE_WORDS):
        turn.do(Withdraw(turn.data["case"], reason=None))
    elif choice == 2 or matches(turn.text, NO_WORDS):
        turn.say(turn._("Good, the case stays open."))
        end_flow(turn)
        show_menu(turn)
    else:
        turn.say(turn._("Please reply 1 to withdraw, or 2 to keep the case."), _withdraw_choices(turn))


@F.result(Withdraw)
def _withdrawn(turn: Turn, command: Withdraw, result: Result) -> None:
    if result.ok:
        turn.say(turn._("Case {number} is withdrawn. Write to us any time if you need help.")
                 .format(number=command.case_number))
    elif result.reason == "not_open":
        turn.say(turn._("Case {number} is already closed, so it cannot be withdrawn.")
                 .format(number=command.case_number))
    elif result.reason == "not_linked":
        turn.say(turn._("Only the phone or chat the household reported or signed from can withdraw its "
                        "report. Please send 撤回 from there, or tell your contact cadre, or call "
                        "{hotline}.").format(hotline=turn.facts.hotline))
    else:
        turn.say(turn._("Sorry, the case could not be withdrawn just now. Please try again later."))
    end_flow(turn)
