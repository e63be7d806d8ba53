"""The main menu: numbered choices, and '9' to go on with a flow that was set aside."""

from __future__ import annotations

from conversations.flows.common import Turn
from conversations.i18n import N_

# (action, label) in menu order; the number shown is the position.
MENU: list[tuple[str, str]] = [
    ("report", N_("Report a difficulty")),
    ("proxy", N_("Report for someone else")),
    ("status", N_("Check my case")),
    ("supplement", N_("Add photos or information")),
    ("sign", N_("Sign the authorization")),
    ("withdraw", N_("Withdraw my report")),
    ("human", N_("Talk to a person")),
    ("withdraw_consent", N_("Withdraw my authorization")),  # 8: added last, so 7 stays "a person"
]
RESUME_CHOICE = 9


def show_menu(turn: Turn, intro: str | None = None) -> None:
    """The main menu, with '9 go on' when an unfinished flow was set aside."""
    t = turn.t
    choices = [f"{i} {t.gettext(label)}" for i, (_a, label) in enumerate(MENU, start=1)]
    if turn.state.get("paused"):
        label = t.gettext("Go on where I stopped")  # not inside an f-string: the extractor would miss it
        choices.append(f"{RESUME_CHOICE} {label}")
    turn.say(intro or t.gettext("What would you like to do? Reply with a number."), choices)
