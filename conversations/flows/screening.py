"""排查 in a cadre's bound chat: a household the cadre found (干部走访排查, one of the three ways a
household is found: domain README "Discovery channels" 2), asked in short numbered questions (the head's
name, ID number, phone, village (its township first in an area of several) and village group, household
size, what is wrong), read back ("1 对 2 改") and filed as reporter `cadre`.

Pure like every flow: (state, message, Parse, ScreeningFacts) -> (state, replies, commands). The driver,
flows/cadre_screening.py, reads the cadre's villages into ScreeningFacts, runs `advance`, files the
SubmitReport asked for and hands the result to `resume`. Answers are read as the household's report reads
them (flows/report.py): the same parser for what is wrong (risks, 三保障, amounts, urgent), the same ID
check and its kind re-asks, the same size and phone readers. Answers are never dropped by a stop: 取消, 0
before the first question and the dialogue's timeout set them aside (common.pause_flow), and 排查 offers
to go on with them.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, NamedTuple

from cases.crypto import mask_id, mask_phone
from cases.ids import check_id
from conversations.commands import Command, Result, SubmitReport
from conversations.engine import Step
from conversations.flows.common import (
    BACK_WORDS,
    CANCEL_WORDS,
    HELP_WORDS,
    NO_WORDS,
    STATE_VERSION,
    UNKNOWN_WORDS,
    YES_WORDS,
    Facts,
    Turn,
    _answered,
    back,
    clean_name,
    end_flow,
    flow,
    form_of_address,
    goto,
    looks_like_a_name,
    matches,
    normalize,
    number_choice,
    numbered,
    pause_flow,
    person_name,
    reprompt,
    resume_paused,
    small_number,
)
from conversations.flows.report import (
    _GROUP_NUMBER,
    DISASTERS,
    ID_REASONS,
    _amounts,
    _describe_into,
    _phone,
    disaster_again,
    labels,
    read_disaster,
    read_group,
    read_size,
    size_range,
)
from conversations.i18n import N_, translator
from conversations.messages import InboundMessage, Reply
from nlu.gazetteer import spoken_name, stem_of
from nlu.types import Parse, Place

FLOW = "screening"
F = flow(FLOW)

# what a cadre types to report a household: 排查, 代报, 上报, 报一户, 申报 (none of them is a word of 待办,
# 收到, 案件, 完成, 改期, 解绑 or 取消)
STARTS = re.compile(r"^\s*(?:(?:我要|帮农户|替农户|给农户)?(?:走访)?"
                    r"(?:排查上报|排查|代报|上报|代为申报|代申报|申报|新?报一户)(?:一户|农户)?"
                    r"|/screen|/report)\s*[。.!！]?\s*$", re.IGNORECASE)
ORDER = ["name", "id", "phone", "village", "group", "size", "describe", "disaster", "summary"]
# 2 改: what can be changed, in this order
EDITS = [("name", N_("Name")), ("id", N_("ID number")), ("phone", N_("Phone")), ("village", N_("Village")),
         ("size", N_("Household size")), ("describe", N_("Difficulties"))]
PAGE = 8  # villages a list shows at a time; 9 is the next page
_NUMBERS = re.compile(r"[\dXx\s\-+]{7,}")  # an ID or phone number typed with the name
_NO_PHONE = re.compile(r"^(?:(?:没有|没得|冇得|没|无)(?:电话|手机|号码|手机号)?|跳过|不用)$")
# none at hand (没得, 冇得: 没有 in Hunan speech, as the phone question takes them)
_NO_ID = re.compile(r"^(?:跳过|先?不填|不用|(?:没有|没得|冇得)(?:身份证|身份证号|身份证号码|号码)?|无)$")
_ID_UNKNOWN = ("不知道", "不清楚", "不记得", "记不得", "忘了", "不晓得", "晓不得", "没有", "没带")
_CHANGE_WORDS = frozenset({"改", "修改", "要改", "改一下", "有错"})
_NOT_IN_PLACE = re.compile(r"[\s\d,，。.、！!？?的]+")
# what is wrong: the words and what was read in them (said again, they take the place of the first)
_DESCRIPTION = ("text", "risks", "guarantees", "disasters", "other", "parsed", "urgent")
_NOT_AN_ID = N_("That does not look like an ID number. Please type the 18 characters on the card.")


class Village(NamedTuple):
    """A village of the cadre's area, as the village question lists it."""

    code: str
    name: str  # as on record (梅花村, 梅花村委会)
    township: str
    own: bool = False  # the staff member's own village: offered first
    township_code: str = ""  # its township (an area of several is asked the township first)

    @property
    def label(self) -> str:
        return f"{self.township}{spoken_name(self.name)}"


@dataclass(frozen=True)
class ScreeningFacts(Facts):
    """The chat's facts and the villages of the cadre's area (own village first), read by the driver."""

    villages: tuple[Village, ...] = ()


def advance(state: dict[str, Any], inbound: InboundMessage, parse: Parse, facts: ScreeningFacts) -> Step:
    """One message: 排查 starts (or offers to go on with answers set aside); under way, the message answers
    the question, except 取消 (stop: answers set aside), 0 (a step back; before the first question, a stop)
    and 帮助. Other keys of the chat's state (a cadre command's question, files waiting) are kept."""
    turn = Turn(state=_copied(state), facts=facts, parse=parse, inbound=inbound)
    text = turn.raw
    if turn.flow != FLOW:
        start(turn)
    elif matches(text, CANCEL_WORDS) or normalize(text) in ("不报了", "不上报了"):
        stop(turn)
    elif matches(text, BACK_WORDS) or number_choice(text) == 0:  # 0, 返回, the keyboard's "0 返回"
        if not back(turn):
            stop(turn)
    elif matches(text, HELP_WORDS):
        turn.say(turn._("Answer the question below. Reply 0 to go back a step, or 取消 to stop: nothing is "
                        "filed until you confirm."))
        reprompt(turn)
    elif not turn.text or STARTS.match(text):  # 排查 again: the report under way goes on
        reprompt(turn)
    else:
        F.steps[turn.step or "name"](turn)
    return Step(turn.state, turn.said(), turn.commands)


def resume(state: dict[str, Any], command: Command, result: Result, facts: ScreeningFacts) -> Step:
    """Go on after the driver filed `command` and got `result`."""
    turn = Turn(state=_copied(state), facts=facts, parse=Parse())
    handler = F.results.get(type(command))
    if handler is not None and turn.flow == FLOW:
        handler(turn, command, result)
    return Step(turn.state, turn.said(), turn.commands)


def ask_again(state: dict[str, Any], facts: ScreeningFacts) -> list[Reply]:
    """The question of the report under way, asked again (after a cadre command answered meanwhile)."""
    turn = Turn(state=_copied(state), facts=facts, parse=Parse())
    if turn.flow == FLOW and turn.step in F.prompts:
        reprompt(turn)
    return turn.said()


def set_aside_note(state: dict[str, Any], locale: str) -> Reply | None:
    """What a cadre is told when the dialogue's timeout set an unfinished report aside (the service's expiry:
    state["paused"]), with the message that found it: kept, and 排查 goes on with it."""
    paused = state.get("paused") or {}
    if paused.get("flow") != FLOW:
        return None
    t = translator("conversations", locale)
    name = (paused.get("data") or {}).get("name")
    note = (t.gettext("Your screening report of {name}'s household is not finished; what you typed is kept. "
                      "Send 排查 to go on with it.").format(name=name) if name else
            t.gettext("Your screening report is not finished; what you typed is kept. Send 排查 to go on "
                      "with it."))
    return Reply(note)


def unfinished(state: dict[str, Any]) -> dict[str, Any] | None:
    """The answers of a report under way or set aside (what unlinking the chat discards); None when no
    answer was given yet."""
    for held in (state, state.get("paused") or {}):
        if held.get("flow") == FLOW and _answered(held):
            data: dict[str, Any] = held.get("data") or {}
            return data
    return None


def report_ref(state: dict[str, Any]) -> str | None:
    """The reference of the report under way, which the files sent meanwhile are kept for (at the question
    whether to go on, the one set aside); None when no report is under way. "" for a report begun before
    reports had one."""
    if state.get("flow") != FLOW:
        return None
    data = state.get("data") or {}
    if state.get("step") == "resume" and "ref" not in data:
        data = (state.get("paused") or {}).get("data") or {}
    return str(data.get("ref", ""))


def reports(state: dict[str, Any]) -> dict[str, str]:
    """The reports of the chat, under way or set aside: their reference and the head's name ("" unknown)."""
    held = {}
    for kept in (state, state.get("paused") or {}):
        data = kept.get("data") or {}
        if kept.get("flow") == FLOW and (kept is not state or state.get("step") != "resume"):
            held[str(data.get("ref", ""))] = str(data.get("name") or "")
    return held


def _copied(state: dict[str, Any]) -> dict[str, Any]:
    current = copy.deepcopy(state)
    current["v"] = STATE_VERSION  # the service's expiry (engine.expire) reads the state as a flow's
    return current


def start(turn: Turn) -> None:
    """A new report, or the question whether to go on with one set aside."""
    paused = turn.state.get("paused") or {}
    if paused and paused.get("flow") != FLOW:  # a household's report of this chat before it was bound
        turn.state.pop("paused", None)
        turn.state.pop("paused_at", None)
        paused = {}
    turn.state.update(flow=FLOW, step=None, data={} if paused else {"ref": _new_ref(turn)}, history=[],
                      fails={})
    goto(turn, "resume" if paused else "name")


def _new_ref(turn: Turn) -> str:
    """A new report's reference: the id of the message that began it (one chat never repeats one)."""
    return turn.inbound.external_id if turn.inbound is not None else turn.facts.now.isoformat()


def stop(turn: Turn) -> None:
    """取消: nothing is filed; answers given are set aside for 排查 to go on with."""
    pause_flow(turn)
    if (turn.state.get("paused") or {}).get("flow") == FLOW:
        turn.say(turn._("Stopped: nothing was filed. What you typed is kept: send 排查 to go on with it."))
    else:
        turn.say(turn._("Stopped: nothing was filed."))


def _back_choice(turn: Turn) -> str:
    return "0 " + turn._("Back")


def _again(turn: Turn, message: str, choices: list[str] | None = None) -> None:
    """A kind re-ask of the step's question: what was wrong, and the way back."""
    turn.fail()
    turn.say(message, choices if choices is not None else [_back_choice(turn)])


# --- going on with a report set aside ------------------------------------------------------------------


@F.prompt("resume")
def _ask_resume(turn: Turn) -> None:
    name = ((turn.state.get("paused") or {}).get("data") or {}).get("name")
    text = (turn._("You have a screening report of {name}'s household not finished.").format(name=name)
            if name else turn._("You have a screening report not finished."))
    turn.say(text, _resume_choices(turn))


def _resume_choices(turn: Turn) -> list[str]:
    return numbered([turn._("Go on with it"), turn._("Report another household")]) + [_back_choice(turn)]


@F.on("resume")
def _resume(turn: Turn) -> None:
    choice = number_choice(turn.text)
    if choice == 1 or any(word in turn.text for word in ("接着", "继续")):
        resume_paused(turn)
    elif choice == 2 or any(word in turn.text for word in ("重新", "另一户", "新的")):
        turn.state.pop("paused", None)
        turn.state.pop("paused_at", None)
        turn.state.update(data={"ref": _new_ref(turn)}, history=[], fails={})
        goto(turn, "name", remember=False)
    else:
        _again(turn, turn._("Please reply 1 or 2."), _resume_choices(turn))


# --- the household ------------------------------------------------------------------------------------


@F.prompt("name")
def _ask_name(turn: Turn) -> None:
    text = turn._("Screening report. The household head's full name, as on the ID card?")
    if not turn.data.get("editing"):
        text += "\n" + turn._("(Reply 0 to go back a step, or 取消 to stop: nothing is filed until you "
                               "confirm.)")
    turn.say(text, [_back_choice(turn)])


@F.on("name")
def _name(turn: Turn) -> None:
    name = person_name(turn)
    numbers = turn.parse.id_numbers or turn.parse.invalid_id_numbers or turn.parse.phones
    if name is None and numbers:  # 张三 430421...: the name, and the numbers for their own questions
        name = clean_name(_NUMBERS.sub("", turn.raw))
    if name is None:
        _again(turn, turn._("Please write the name in characters, for example: 张三."))
        return
    if form_of_address(name):
        _again(turn, turn._("Please write the full name as on the ID card, for example: 刘长根."))
        return
    if name.endswith("户") and looks_like_a_name(name[:-1]):  # 张三户, as cadres name a household: 张三
        name = name[:-1]
    turn.data["name"] = name
    _keep_numbers(turn)
    _after(turn, "name")


def _keep_numbers(turn: Turn) -> None:
    """A valid ID number or a mobile number typed with an answer, taken for its question (not asked)."""
    d = turn.data
    if turn.parse.id_numbers and not d.get("id"):
        d["id"], d["id_said"] = turn.parse.id_numbers[0], True
    phone = _phone(turn) if turn.parse.phones else None
    if phone and "phone" not in d:
        d["phone"], d["phone_said"] = phone, True


@F.prompt("id")
def _ask_id(turn: Turn) -> None:
    turn.say(turn._("{name}'s ID card number (18 characters)? Reply 1 if the household has none at hand.")
             .format(name=turn.data.get("name", "")), _id_choices(turn))


def _id_choices(turn: Turn) -> list[str]:
    return ["1 " + turn._("No ID number for now"), _back_choice(turn)]


@F.on("id")
def _id(turn: Turn) -> None:
    raw = turn.parse.id_numbers[0] if turn.parse.id_numbers else turn.raw
    check = check_id(raw, today=turn.facts.now.date())
    if check.valid and check.normalized:
        turn.data["id"] = check.normalized
        _keep_numbers(turn)
        _after(turn, "id")
        return
    if number_choice(turn.text) == 1 or _NO_ID.match(turn.text):  # filed without one, as REST files it
        turn.data["id"] = None
        turn.note(turn._("Without the ID number the report can be filed, but it cannot find a case the "
                         "household already has: a new case is opened."))
        _after(turn, "id")
        return
    digits = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", turn.raw))
    if not re.search(r"\d", digits):  # words, not a number
        if any(word in turn.text for word in _ID_UNKNOWN):
            _again(turn, turn._("The ID number is needed to find the household's case if it already has one. "
                                "Please copy it from the ID card or the household register (户口本). None at "
                                "hand? Reply 1 to file without it."), _id_choices(turn))
        else:
            _again(turn, turn.t.gettext(_NOT_AN_ID), _id_choices(turn))
        return
    reason = ID_REASONS.get(check.reason or "", _NOT_AN_ID)
    _again(turn, turn.t.gettext(reason).format(n=len(digits)), _id_choices(turn))


@F.prompt("phone")
def _ask_phone(turn: Turn) -> None:
    turn.say(turn._("The household's mobile number? Reply 1 if it has none."),
             ["1 " + turn._("No mobile number"), _back_choice(turn)])


@F.on("phone")
def _phone_step(turn: Turn) -> None:
    phone = _phone(turn)
    if phone is not None:
        turn.data["phone"] = phone
    elif number_choice(turn.text) == 1 or matches(turn.text, UNKNOWN_WORDS) or _NO_PHONE.match(turn.text):
        turn.data["phone"] = None
    else:
        _again(turn, turn._("That does not look like a mobile number. It has 11 digits and starts with 1."),
               ["1 " + turn._("No mobile number"), _back_choice(turn)])
        return
    _after(turn, "phone")


# --- the village: one of the cadre's area ----------------------------------------------------------------


def _villages(turn: Turn) -> tuple[Village, ...]:
    facts = turn.facts
    return facts.villages if isinstance(facts, ScreeningFacts) else ()


def _townships(turn: Turn) -> list[tuple[str, str]]:
    """The townships of the area (code, name), in the order of their villages (the staff member's own
    first)."""
    return list(dict.fromkeys((v.township_code, v.township) for v in _villages(turn)))


def _township(turn: Turn) -> str | None:
    """The township chosen, if it is one of the area's (the area may have changed since)."""
    chosen = turn.data.get("township")
    return chosen if chosen and any(code == chosen for code, _name in _townships(turn)) else None


def _choosing_township(turn: Turn) -> bool:
    """Whether the village question lists the townships first: an area of more than one (a county's), until
    one is chosen (or a written name matched villages)."""
    return not turn.data.get("offered") and _township(turn) is None and len(_townships(turn)) > 1


def _listed(turn: Turn) -> list[Village]:
    """The villages the question lists: those a written name matched, else those of the township chosen,
    else every one of the area."""
    offered = turn.data.get("offered")
    villages = _villages(turn)
    if offered:
        return [v for v in villages if v.code in offered]
    township = _township(turn)
    return [v for v in villages if v.township_code == township] if township else list(villages)


def _paged(turn: Turn, items: list[Any]) -> tuple[list[Any], int, int]:
    pages = max(1, (len(items) + PAGE - 1) // PAGE)
    page = int(turn.data.get("page") or 0) % pages
    return items[page * PAGE:(page + 1) * PAGE], page, pages


def _page(turn: Turn) -> tuple[list[Any], int, int]:
    """The townships or the villages the question shows now, its page and the number of pages."""
    return _paged(turn, _townships(turn) if _choosing_township(turn) else _listed(turn))


@F.prompt("village")
def _ask_village(turn: Turn) -> None:
    shown, page, pages = _page(turn)
    if not shown:  # an area without villages on record: nothing can be filed from it
        turn.say(turn._("No village of your area is on record, so no household can be filed here. Please ask "
                        "the county to check your account's area."), [_back_choice(turn)])
        return
    if _choosing_township(turn):
        question = turn._("Which township is the household in? Reply with the number, or write the village.")
        labels_ = [name for _code, name in shown]
    else:
        question = (turn._("Several villages of your area have that name. Which one?")
                    if turn.data.get("offered") else
                    turn._("Which village is the household in? Reply with the number, or write the village."))
        labels_ = [turn._("{village} (your village)").format(village=v.label) if v.own else v.label
                   for v in shown]
    if pages > 1:
        question = turn._("{question} (page {page} of {pages})").format(question=question, page=page + 1,
                                                                         pages=pages)
    more = ["9 " + turn._("More")] if pages > 1 else []
    turn.say(question, [*numbered(labels_), *more, _back_choice(turn)])


@F.on("village")
def _village(turn: Turn) -> None:
    shown, page, pages = _page(turn)
    if not _villages(turn):  # nothing to choose from: the question says why
        reprompt(turn)
        return
    choice = number_choice(turn.text)  # 2, or a keyboard's "2 西渡镇石狮村"
    if choice == 9 and pages > 1:
        turn.data["page"] = page + 1
        reprompt(turn)
        return
    if choice is not None:
        if 1 <= choice <= len(shown) and _choosing_township(turn):
            turn.data.update(township=shown[choice - 1][0], page=0)
            reprompt(turn)
        elif 1 <= choice <= len(shown):
            _take_village(turn, shown[choice - 1])
        else:
            turn.fail()
            turn.note(turn._("Please reply with a number from 1 to {n}.").format(n=len(shown)))
            reprompt(turn)
        return
    mine = {v.code: v for v in _villages(turn)}
    named = _named(turn.parse)
    inside = [mine[code] for code in (_code(p) for p in named) if code in mine]
    if named and not inside:  # a village the parser knows, outside the cadre's area: refused
        turn.fail()
        turn.note(turn._("{village} is not in your area: you can file households of your own area only.")
                  .format(village=_place_label(named[0])))
        turn.data.pop("offered", None)
        reprompt(turn)
        return
    if not named:  # a name the parser does not know (梅花): looked for among the area's villages
        inside = [v for v in mine.values() if _said(turn.text, v)]
    township = _township_named(turn) if not inside else None
    if len(inside) == 1:
        _take_village(turn, inside[0])
    elif inside:
        turn.data.update(offered=[v.code for v in inside], page=0, typed=turn.text)
        reprompt(turn)
    elif township is not None:  # 西渡镇, 西渡: its villages
        turn.data.update(township=township, page=0)
        turn.data.pop("offered", None)
        reprompt(turn)
    else:
        turn.fail()
        turn.note(turn._("No village of that name in your area. Reply with a number from the list."))
        turn.data.pop("offered", None)
        reprompt(turn)


def _township_named(turn: Turn) -> str | None:
    """The township of the area an answer names (西渡镇, 西渡), when the area has several."""
    townships = _townships(turn)
    said = _NOT_IN_PLACE.sub("", unicodedata.normalize("NFKC", turn.text))
    if len(townships) < 2 or len(said) < 2:
        return None
    found = [code for code, name in townships if said in (name, stem_of(name, "township")[0])]
    return found[0] if len(found) == 1 else None


@F.back("village")
def _village_back(turn: Turn) -> bool:
    """0 at a list narrowed to the villages a name matched: the list before it; at a township's villages:
    the townships; else a step back."""
    if turn.data.get("offered"):
        turn.data.pop("offered", None)
    elif _township(turn) is not None and len(_townships(turn)) > 1:
        turn.data.pop("township", None)
    else:
        return False
    turn.data["page"] = 0
    reprompt(turn)
    return True


def _named(parse: Parse) -> list[Place]:
    place = parse.place
    found = place if isinstance(place, list) else [place] if place is not None else []
    return [p for p in found if p.level == "village" and p.village_code]


def _code(p: Place) -> str:
    return (p.village_code or p.code).ljust(12, "0")


def _place_label(p: Place) -> str:
    return "".join(x for x in (p.township, spoken_name(p.village or p.name)) if x)


def _said(text: str, village: Village) -> bool:
    """Whether the answer names this village (梅花, 梅花村, 西渡镇梅花村, 西渡梅花)."""
    said = _NOT_IN_PLACE.sub("", unicodedata.normalize("NFKC", text))
    for township in (village.township, stem_of(village.township, "township")[0]):
        if township and said.startswith(township) and len(said) > len(township):
            said = said[len(township):]
            break
    said = said.removesuffix("村")
    return len(said) >= 2 and said == stem_of(village.name, "village")[0]


def _take_village(turn: Turn, village: Village) -> None:
    turn.data["village"] = {"code": village.code, "label": village.label}
    # 梅花村3组: the group typed with the village is kept (also when a list of namesakes came in between)
    group = _GROUP_NUMBER.search(turn.text) or _GROUP_NUMBER.search(turn.data.pop("typed", ""))
    number = small_number(group.group(1)) if group else None
    turn.data["group"] = f"{number}{group.group(2)}" if group and number is not None else None
    turn.data["group_said"] = turn.data["group"] is not None  # else asked next
    if len(_townships(turn)) > 1:  # 0 at its question, or a change of village, lists its township's
        turn.data["township"] = village.township_code
    turn.data.pop("offered", None)
    turn.data.pop("page", None)
    _after(turn, "village")


# --- the village group (村民小组), as the household's report asks it -----------------------------------


@F.prompt("group")
def _ask_group(turn: Turn) -> None:
    turn.say(turn._("Which village group (村民小组) is it? For example: 3组. "
                    "If you are not sure, reply 不清楚."), [_back_choice(turn)])


@F.on("group")
def _group(turn: Turn) -> None:
    read = read_group(turn, turn.text)
    if read.again is not None:
        _again(turn, read.again)
        return
    turn.data["group"] = read.group
    _after(turn, "group")


# --- size and what is wrong ---------------------------------------------------------------------------------


@F.prompt("size")
def _ask_size(turn: Turn) -> None:
    turn.say(turn._("How many people live in this household? Reply with a number, for example: 4"),
             [_back_choice(turn)])


@F.on("size")
def _size(turn: Turn) -> None:
    if size_range(turn.text):
        _again(turn, turn._("Please reply with one number, the people who live in the household now, "
                            "for example: 4"))
        return
    size = read_size(turn)
    if size is None:
        _again(turn, turn._("Please reply with the number of people, for example: 4"))
        return
    turn.data["size"] = size
    _after(turn, "size")


@F.prompt("describe")
def _ask_describe(turn: Turn) -> None:
    turn.say(turn._("What is wrong in this household? A sentence or two, for example: "
                    "户主中风卧床，看病花了三万多，儿子务工收入不稳"), [_back_choice(turn)])


@F.on("describe")
def _describe(turn: Turn) -> None:
    if len(turn.text) < 2:
        _again(turn, turn._("Please tell us a little more in words."))
        return
    for key in _DESCRIPTION:  # said again (after 0, or 2 改): from the start, not added to
        turn.data.pop(key, None)
    _describe_into(turn.data, turn.raw, turn.parse)  # what the household's report reads in its words
    _after(turn, "describe")


@F.prompt("disaster")
def _ask_disaster(turn: Turn) -> None:
    turn.say(turn._("What kind of disaster was it?"),
             numbered([turn.t.gettext(label) for _c, label in DISASTERS]) + [_back_choice(turn)])


@F.on("disaster")
def _disaster(turn: Turn) -> None:
    if not read_disaster(turn):
        turn.fail()
        disaster_again(turn)
        return
    _after(turn, "disaster")


# --- read back, change, file ----------------------------------------------------------------------------


@F.prompt("summary")
def _ask_summary(turn: Turn) -> None:
    d = turn.data
    lines = [turn._("Please check the screening report:"),
             turn._("Household head: {name}").format(name=d.get("name", "")),
             turn._("ID number: {id}").format(id=mask_id(d.get("id")) or turn._("not given")),
             turn._("Phone: {phone}").format(phone=mask_phone(d.get("phone")) or turn._("none")),
             turn._("Address: {village} {group}").format(village=(d.get("village") or {}).get("label", ""),
                                                          group=d.get("group") or "").rstrip(),
             turn._("People in the household: {n}").format(n=d.get("size", "")),
             turn._("Difficulties: {labels}").format(labels=labels(turn, d))]
    money = _amounts(turn)
    if money:
        lines.append(money)
    if d.get("urgent"):
        lines.append(turn._("Marked urgent."))
    turn.say("\n".join(lines), _summary_choices(turn))


def _summary_choices(turn: Turn) -> list[str]:
    return numbered([turn._("Correct, file it"), turn._("Change something")]) + [_back_choice(turn)]


@F.on("summary")
def _summary(turn: Turn) -> None:
    choice = number_choice(turn.text)
    if choice == 1 or matches(turn.text, YES_WORDS):
        turn.do(_draft(turn))
    elif choice == 2 or matches(turn.text, NO_WORDS) or matches(turn.text, _CHANGE_WORDS):
        goto(turn, "edit")
    else:
        _again(turn, turn._("Please reply 1 or 2."), _summary_choices(turn))


@F.prompt("edit")
def _ask_edit(turn: Turn) -> None:
    turn.say(turn._("What should be changed?"),
             numbered([turn.t.gettext(label) for _step, label in EDITS]) + [_back_choice(turn)])


@F.on("edit")
def _edit(turn: Turn) -> None:
    choice = number_choice(turn.text)
    if choice is None or not 1 <= choice <= len(EDITS):
        turn.fail()
        turn.note(turn._("Please reply with a number from 1 to {n}.").format(n=len(EDITS)))
        reprompt(turn)
        return
    step = EDITS[choice - 1][0]
    turn.data["editing"] = True
    goto(turn, step)


@F.prompt("name_check")
def _ask_name_check(turn: Turn) -> None:
    d = turn.data
    record = d.get("record") or {}
    masked = mask_id(d.get("id")) or ""
    said = (turn._("ID number {id} is on record with the household head {head}, not {name}.")
            if record.get("heads_number") else
            turn._("ID number {id} is on record in the household of {head}: it is not the head's own."))
    turn.say("\n".join([said.format(id=masked, head=record.get("head", ""), name=d.get("name", "")),
                        turn._("Please check the ID card.")]), _name_check_choices(turn))


def _name_check_choices(turn: Turn) -> list[str]:
    return numbered([turn._("It is right, file it all the same"), turn._("Change the head's name"),
                     turn._("Change the ID number")]) + [_back_choice(turn)]


@F.on("name_check")
def _name_check(turn: Turn) -> None:
    choice = number_choice(turn.text)
    d = turn.data
    if choice == 1:  # filed as typed, for this name and this number only, from the read-back's step (a
        d["name_ok"] = [d.get("name"), d.get("id")]  # filing that fails offers 1 to try again there)
        d.pop("record", None)
        history: list[str] = turn.state.setdefault("history", [])
        if history and history[-1] == "summary":
            history.pop()
        turn.state["step"] = "summary"
        turn.do(_draft(turn))
    elif choice in (2, 3):
        d.pop("record", None)
        d["editing"] = True
        goto(turn, "name" if choice == 2 else "id", remember=False)
    else:
        _again(turn, turn._("Please reply 1, 2 or 3."), _name_check_choices(turn))


def _draft(turn: Turn) -> SubmitReport:
    d = turn.data
    return SubmitReport(
        reporter_kind="cadre",
        raw_text=d.get("text", ""),
        parsed=d.get("parsed", {}),
        risks=list(d.get("risks", [])),
        disasters=list(d.get("disasters", [])),
        guarantees=list(d.get("guarantees", [])),
        other_risk_text=d.get("other"),
        urgent=bool(d.get("urgent")),
        head_name=d["name"],
        id_number=d.get("id"),  # None: none at hand (the REST route files it so too)
        household_size=int(d["size"]),
        village_code=d["village"]["code"],
        group_name=d.get("group"),
        phone=d.get("phone"),
        name_confirmed=d.get("name_ok") == [d.get("name"), d.get("id")],
    )


@F.result(SubmitReport)
def _filed(turn: Turn, command: SubmitReport, result: Result) -> None:
    """Filed: the case number (or the open case the report joined) and who visits; refused: said, and the
    answer at fault asked again; failed: the answers stay, 1 tries again."""
    if result.ok and result.data.get("elsewhere"):
        turn.say(turn._("This household is on record in a village outside your area, with a case under way "
                        "there: your report was added to it, and its contact cadre there follows it up."))
        end_flow(turn)
        return
    if result.ok:
        number = result.data.get("case", "")
        lines = [turn._("This household already has an open case, {number}: your report was added to it.")
                 .format(number=number) if result.joined_existing else
                 turn._("Filed: case {number} (走访排查).").format(number=number)]
        if not result.joined_existing:
            lines.append(turn._("{name} still has to sign the application and authorization (附件1): take "
                                "the signature at the home visit.").format(name=command.head_name))
        elif "unsigned" in result.data:  # the case joined waits for annex 1 still
            names = turn._(", ").join(result.data["unsigned"])
            lines.append(turn._("This household has not signed the application and authorization (附件1) "
                                "yet: have {names} sign it at the home visit.").format(names=names)
                         if names else
                         turn._("This household has not signed the application and authorization (附件1) "
                                "yet: take the signature at the home visit."))
        cadre = result.data.get("cadre")
        if result.data.get("yours"):
            lines.append(turn._("The case is assigned to you: see 待办."))
        elif cadre:
            lines.append(turn._("Contact cadre: {name}.").format(name=cadre))
        else:
            lines.append(turn._("The village has no contact cadre yet: the township assigns one."))
        turn.say("\n".join(lines))
        end_flow(turn)
        return
    if result.reason == "unknown_village":  # the area changed since the question: asked again, then read back
        turn.data.pop("village", None)
        turn.data["editing"] = True
        turn.note(turn._("That village is not in your area: you can file households of your own area only."))
        goto(turn, "village")
        return
    if result.reason == "name_not_on_record":  # the cadre is asked: file all the same, or change one
        turn.data["record"] = {"head": result.data.get("head", ""),
                               "heads_number": bool(result.data.get("heads_number"))}
        goto(turn, "name_check")
        return
    if result.reason == "invalid_id_number":
        turn.data.pop("id", None)
        turn.data["editing"] = True
        turn.note(turn.t.gettext(_NOT_AN_ID))
        goto(turn, "id")
        return
    if result.reason in ("inactive_staff", "role_not_allowed"):
        pause_flow(turn)
        turn.say(turn._("This account cannot file screening reports. Nothing was filed."))
        return
    turn.say(turn._("Sorry, the report could not be filed just now. Your answers are kept: reply 1 to try "
                    "again."), _summary_choices(turn))


# --- the order of the questions --------------------------------------------------------------------------


def _after(turn: Turn, done: str) -> None:
    """The next question not answered yet; after a change from the read-back, the read-back again."""
    if turn.data.get("editing"):
        for then in {"describe": "disaster", "village": "group"}.get(done, "").split():
            if not _skip(turn, then):  # what a changed answer asks in turn (a village's group)
                goto(turn, then)
                return
        turn.data.pop("editing", None)
        goto(turn, "summary")
        return
    for step in ORDER[ORDER.index(done) + 1:]:
        if not _skip(turn, step):
            goto(turn, step)
            return


def _skip(turn: Turn, step: str) -> bool:
    """A question answered already by an earlier message (an ID or a phone number typed with the name), or
    one that does not apply (which disaster, unless a disaster was named without its kind)."""
    d = turn.data
    if step == "id":
        return bool(d.get("id")) and bool(d.pop("id_said", False))
    if step == "phone":
        return "phone" in d and bool(d.pop("phone_said", False))
    if step == "disaster":
        return "04" not in d.get("risks", []) or bool(d.get("disasters"))
    if step == "group":
        return bool(d.pop("group_said", False))
    return False
