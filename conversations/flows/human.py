"""Hand-off to a person: a callback task for the 12317 hotline team."""

from __future__ import annotations

import re
from datetime import date

from cases.ids import normalize_phone
from conversations.commands import RequestCallback, Result, SenderCase
from conversations.flows.cases import case_to_call_about
from conversations.flows.common import (
    HUMAN_WORDS,
    MAX_FAILS,
    NO_WORDS,
    YES_WORDS,
    Turn,
    end_flow,
    flow,
    goto,
    matches,
    number_choice,
    reprompt,
)
from conversations.flows.menu import show_menu

F = flow("human")
_MOBILE = re.compile(r"^(1[3-9]\d{9}|0\d{9,11})$")
_NO_PHONE = re.compile(r"^(没有|没得|冇得|没|无)(电话|手机|号码)?|不方便|不用打|"
                       r"晓不得|不晓得|不知道|不记得|记不得")


def start(turn: Turn) -> None:
    """Ask for a number to call back (already known on SMS), then file the callback, with the household's
    case attached (after a refusal the note says it is a review request, 复核: how a refusal is objected
    to). An SMS from a chat with no case may come from a household's phone on record: its case is looked
    up (SenderCase) for the call-back, and the sender is told no more than anyone."""
    # what the household said, for the hotline; the menu's 7 or 人工 alone says nothing more
    bare = number_choice(turn.raw) is not None or matches(turn.raw, HUMAN_WORDS)
    note = "" if bare else turn.raw.strip()[:500]
    number, refused = case_to_call_about(turn)
    if number is not None and refused:
        note = _review_note(turn, number, note)
    turn.state.update(flow="human", step=None, data={"note": note, "case": number}, history=[], fails={})
    if turn.facts.known_phone and number is None:
        turn.do(SenderCase())
        return
    if turn.facts.known_phone:
        turn.do(_callback(turn, turn.facts.known_phone))
        return
    given = {p for p in map(normalize_phone, turn.parse.phones) if p and _MOBILE.match(p)}
    if len(given) == 1:  # 有事打我崽电话139 0000 2222: the number to call came with the request
        turn.do(_callback(turn, given.pop()))
        return
    goto(turn, "on_record" if turn.facts.phone_on_record else "phone")


def _review_note(turn: Turn, number: str, said: str) -> str:
    """The call-back's note for a refused case: a review request (复核), with what the household wrote."""
    if said:
        return turn._("Review request (复核): case {number} was not approved and the household asked for a "
                      "person. They wrote: {said}").format(number=number, said=said)
    return turn._("Review request (复核): case {number} was not approved and the household asked for a "
                  "person.").format(number=number)


@F.result(SenderCase)
def _sender_case(turn: Turn, command: SenderCase, result: Result) -> None:
    """The SMS sender's household case, if its number is one household's on record: the call-back carries
    it, as a linked chat's does; what is said back is the same either way."""
    if result.ok:
        number = str(result.data["case"])
        turn.data["case"] = number
        if result.data.get("refused"):
            turn.data["note"] = _review_note(turn, number, turn.data.get("note", ""))
    turn.do(_callback(turn, turn.facts.known_phone))


def _callback(turn: Turn, phone: str | None) -> RequestCallback:
    return RequestCallback(phone=phone, note=turn.data.get("note", ""), case_number=turn.data.get("case"),
                           on_record=phone is None)


@F.prompt("on_record")
def _ask_on_record(turn: Turn) -> None:
    turn.say(turn._("Staff of the {hotline} hotline will call you. Call {phone}, the number you gave before?")
             .format(hotline=turn.facts.hotline, phone=turn.facts.phone_on_record),
             [turn._("1 Yes, call that number"), turn._("2 Call another number"), "0 " + turn._("Back")])


@F.on("on_record")
def _on_record(turn: Turn) -> None:
    typed = [p for p in map(normalize_phone, [*turn.parse.phones, turn.raw]) if p and _MOBILE.match(p)]
    choice = number_choice(turn.text)
    if typed:  # the other number, typed at once
        turn.do(_callback(turn, typed[0]))
    elif choice == 1 or matches(turn.text, YES_WORDS):
        turn.do(_callback(turn, None))
    elif choice == 2 or matches(turn.text, NO_WORDS):
        goto(turn, "phone")
    else:
        turn.note(turn._("Please reply 1 or 2."))
        reprompt(turn)


@F.prompt("phone")
def _ask_phone(turn: Turn) -> None:
    turn.say(turn._("Staff of the {hotline} hotline will call you. Which number should they call?")
             .format(hotline=turn.facts.hotline), ["0 " + turn._("Back")])


@F.on("phone")
def _phone(turn: Turn) -> None:
    candidates = [*turn.parse.phones, turn.raw]
    for candidate in candidates:
        phone = normalize_phone(candidate)
        if phone and _MOBILE.match(phone):
            turn.do(_callback(turn, phone))
            return
    fails = turn.state.setdefault("fails", {})
    fails["phone"] = fails.get("phone", 0) + 1
    if _NO_PHONE.search(turn.text) or matches(turn.text, NO_WORDS) or fails["phone"] >= MAX_FAILS:
        end_flow(turn)  # no number to call back: say how else to reach a person, never ask again and again
        turn.say(turn._("Without a phone number staff cannot call you back. You can call {hotline} from any "
                        "phone, or ask at your village committee. You can also go on here: choose below.")
                 .format(hotline=turn.facts.hotline))
        if turn.state.get("paused"):
            turn.say(turn._("Reply 9 to go on where you stopped."))
        show_menu(turn)
        return
    turn.say(turn._("Please type a phone number, for example 13912345678. No phone? Reply 没有."),
             ["0 " + turn._("Back")])


@F.result(RequestCallback)
def _requested(turn: Turn, command: RequestCallback, result: Result) -> None:
    end_flow(turn)
    if result.ok and result.data.get("again"):  # one call for the chat: its earlier request still waits
        turn.say(turn._("You asked for a call on {date} already: staff of the {hotline} hotline will call "
                        "you back on a working day. No need to ask again; what you said now was passed on "
                        "too.")
                 .format(date=turn.t.format_date(date.fromisoformat(str(result.data["asked_on"]))),
                         hotline=turn.facts.hotline))
    elif result.ok:
        turn.say(turn._("Done. Staff of the {hotline} hotline will call you back on a working day. "
                        "You can also call {hotline} yourself.").format(hotline=turn.facts.hotline))
    else:
        turn.say(turn._("Sorry, we could not pass this on just now. Please call {hotline}.")
                 .format(hotline=turn.facts.hotline))
    if turn.state.get("paused"):
        turn.say(turn._("Reply 9 to go on where you stopped."))
    show_menu(turn)
