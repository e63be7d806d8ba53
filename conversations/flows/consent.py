"""Withdrawing the signed authorization (撤回授权): what it means, a numbered confirm, then a new record.

Only the household's own linked identity may do it (the case store checks again): a stranger, a proxy
or someone who only knows the case number is told where to turn instead. The signature itself stays as
evidence; the withdrawal is a new record, and the case waits for a new signature.
"""

from __future__ import annotations

from conversations.commands import CheckConsent, Result, WithdrawConsent
from conversations.flows.common import (
    NO_WORDS,
    WITHDRAW_WORDS,
    Turn,
    end_flow,
    flow,
    goto,
    matches,
    number_choice,
)
from conversations.flows.menu import show_menu

WITHDRAW_CONSENT_WORDS = WITHDRAW_WORDS | {"撤回授权"}  # withdrawing the signature stops the checks

F = flow("consent")


def start(turn: Turn) -> None:
    """The linked household's case: check there is a signature it may withdraw, then explain."""
    turn.state.update(flow="consent", step=None, data={}, history=[], fails={})
    facts = turn.facts
    if not facts.linked_case:
        _not_linked(turn)
        return
    turn.data["case"] = facts.linked_case
    if not facts.linked_case_open:
        _refused(turn, "case_closed")
        return
    turn.do(CheckConsent(facts.linked_case))


def _not_linked(turn: Turn) -> None:
    turn.say(turn._("Only the phone or chat the household reported or signed from can withdraw its "
                    "authorization. Please send 撤回授权 from there, or tell your contact cadre, or call "
                    "{hotline}.").format(hotline=turn.facts.hotline))
    end_flow(turn)
    show_menu(turn)


def _refused(turn: Turn, reason: str | None) -> None:
    number = turn.data.get("case", "")
    if reason == "not_linked":
        _not_linked(turn)
        return
    if reason == "case_closed":
        turn.say(turn._("Case {number} is closed: your authorization is no longer used to check your "
                        "family's information, so there is nothing to withdraw.").format(number=number))
    elif reason == "nothing_signed":
        turn.say(turn._("Case {number} has no signature from you, so there is nothing to withdraw.")
                 .format(number=number))
    else:
        turn.say(turn._("Sorry, the authorization could not be withdrawn just now. Please try again later, "
                        "or reply 人工 to talk to a person."))
    end_flow(turn)
    show_menu(turn)


@F.result(CheckConsent)
def _checked(turn: Turn, command: CheckConsent, result: Result) -> None:
    if not result.ok:
        _refused(turn, result.reason)
        return
    turn.data["signers"] = list(result.data.get("signers", []))
    goto(turn, "confirm")


@F.prompt("confirm")
def _ask_confirm(turn: Turn) -> None:
    signers = turn._(", ").join(turn.data.get("signers", []))
    turn.say(turn._("Withdrawing the authorization {signers} signed for case {number} means:\n"
                    "- staff may no longer check your family's deposits, vehicles, housing, business "
                    "or public pay;\n"
                    "- without it the case cannot go on (no home visit, review or approval) until you "
                    "sign again;\n"
                    "- what you reported and sent is kept, and the case stays open. To drop the report "
                    "itself, choose 6 in the menu.\n"
                    "You can sign again at any time: reply 签字.").format(signers=signers,
                                                                         number=turn.data["case"]))
    turn.say(turn._("Withdraw the authorization?"),
             ["1 " + turn._("Yes, withdraw the authorization"), "2 " + turn._("No, keep it"),
              "0 " + turn._("Back")])


@F.on("confirm")
def _confirm(turn: Turn) -> None:
    choice = number_choice(turn.text)
    if choice == 1 or matches(turn.text, WITHDRAW_CONSENT_WORDS):
        turn.do(WithdrawConsent(turn.data["case"]))
    elif choice == 2 or matches(turn.text, NO_WORDS):
        turn.say(turn._("Good: the authorization stays and the case goes on."))
        end_flow(turn, keep={"case": turn.data["case"]})
        show_menu(turn)
    else:
        turn.say(turn._("Please reply 1 to withdraw the authorization, or 2 to keep it."),
                 ["1 " + turn._("Yes, withdraw the authorization"), "2 " + turn._("No, keep it"),
                  "0 " + turn._("Back")])


@F.result(WithdrawConsent)
def _withdrawn(turn: Turn, command: WithdrawConsent, result: Result) -> None:
    if not result.ok:
        _refused(turn, result.reason)
        return
    turn.say(turn._("The authorization for case {number} is withdrawn ({time}). Staff will not check your "
                    "family's information, and your contact cadre is told. The case waits for a new "
                    "signature: to sign again, reply 签字.").format(
                        number=command.case_number,  # 2026年12月7日 14:35, as every date said here
                        time=f"{turn.t.format_date(turn.facts.now)} {turn.t.format_time(turn.facts.now)}"))
    end_flow(turn, keep={"case": command.case_number})
