"""Annex 1 filled in for the household, shown in full (numbered parts on SMS), the consent answer, and
attachment refusals."""

from __future__ import annotations

from cases import annex1, annex1_text
from conversations.commands import Result
from conversations.flows.common import NO_WORDS, YES_WORDS, Turn, matches, number_choice, numbered

SMS_PART_CHARS = 260  # at most 4 UCS-2 segments of 67 characters per numbered part


def sms_parts(text: str, limit: int = SMS_PART_CHARS) -> list[str]:
    """Split a long text at line ends (or, for a long line, at sentence ends) into parts <= limit."""
    pieces: list[str] = []
    for line in text.splitlines():
        while len(line) > limit:
            cut = max(line.rfind(mark, 0, limit) for mark in "。；;，,") + 1
            cut = cut if cut > limit // 3 else limit
            pieces.append(line[:cut])
            line = line[cut:]
        if line.strip():
            pieces.append(line)
    parts: list[str] = []
    for piece in pieces:
        if parts and len(parts[-1]) + 1 + len(piece) <= limit:
            parts[-1] += "\n" + piece
        else:
            parts.append(piece)
    return parts


def shown(turn: Turn, result: Result) -> bool:
    """FillAnnex came back: show the filled text (remembering its hash and report) and ask for consent;
    False when it failed or this identity may not sign (then only the application is shown, to read)."""
    text = result.data.get("text") if result.ok else None
    if not text:
        turn.say(turn._("Sorry, the application could not be shown just now. Please try again later, "
                        "or reply 人工 to talk to a person."), ["0 " + turn._("Back")])
        return False
    masked = result.data.get("variant") == annex1_text.MASKED
    if result.data.get("may_sign") is False:
        turn.say(turn._("This is the application the household signs. This phone or chat is not the "
                        "household's own, so the name and address are partly hidden."))
        _body(turn, text)
        return False
    turn.data["annex"] = {"sha256": annex1.digest(text), "report_id": result.data.get("report_id")}
    show(turn, text, masked=masked)
    return True


def changed(turn: Turn) -> None:
    """The filled text no longer matches (the date turned, the case got a new report): read it again."""
    turn.say(turn._("The application has changed since you read it (for example, today's date). "
                    "Please read it again."))
    history = turn.state.get("history") or []
    if history and history[-1] == "annex":  # going back to it, not forward: 0 then leaves it as before
        history.pop()


def show(turn: Turn, text: str, *, masked: bool = False) -> None:
    """The household's filled-in application, word for word, then the question."""
    turn.say(turn._("Please read the application and authorization. Signing it lets staff check your "
                    "family's information (deposits, vehicles, housing, business, public pay)."))
    if masked:
        turn.say(turn._("The name and address are partly hidden here. To sign, you will type the full name "
                        "as on the ID card."))
    _body(turn, text)
    turn.say(turn._("Do you agree and sign? Reply 1 (同意) to agree, 2 (不同意) if you do not."),
             consent_choices(turn))


def consent_choices(turn: Turn) -> list[str]:
    return numbered([turn._("I agree (同意)"), turn._("I do not agree"), turn._("Show the text again")]) + [
        "0 " + turn._("Back")]


def _body(turn: Turn, text: str) -> None:
    """The text in one message, or in numbered parts on SMS."""
    if turn.facts.sms:
        parts = sms_parts(text)
        for i, part in enumerate(parts, start=1):
            turn.say(f"({i}/{len(parts)}) {part}")
    else:
        turn.say(text)


def consent_answer(turn: Turn) -> str | None:
    """'yes', 'no', 'again' or None (not understood)."""
    choice = number_choice(turn.text)
    if choice == 1 or matches(turn.text, YES_WORDS):
        return "yes"
    if choice == 2 or matches(turn.text, NO_WORDS):
        return "no"
    if choice == 3:
        return "again"
    if turn.parse.intent == "consent":
        return "yes"
    if turn.parse.intent == "decline":
        return "no"
    return None


def attachment_refusal(turn: Turn, result: Result) -> str:
    if result.reason == "bad_type":
        return turn._("Sorry, we can keep photos, voice messages and PDF files, but not this kind of file.")
    if result.reason == "too_large":
        return turn._("Sorry, that file is too large (more than 20 MB). Please send a smaller photo.")
    return turn._("Sorry, we could not keep that file. Please send it again.")
