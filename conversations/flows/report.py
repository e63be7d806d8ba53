"""Self-report and proxy report: what happened -> confirm -> details -> annex 1 -> sign or decline."""

from __future__ import annotations

import re
import unicodedata
import weakref
from dataclasses import asdict, dataclass
from typing import Any

from cases.crypto import mask_id, mask_phone, mask_text
from cases.ids import check_id, normalize_phone
from conversations.commands import AddAttachment, FillAnnex, Result, SignatureDraft, SubmitReport
from conversations.flows import annex, human
from conversations.flows.cases import add_words, still_to_sign
from conversations.flows.common import (
    GO_ON_WORDS,
    MAX_FAILS,
    NO_WORDS,
    UNKNOWN_WORDS,
    YES_WORDS,
    PlaceDirectory,
    Turn,
    as_typed,
    asked_for,
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
from conversations.i18n import N_
from nlu.gazetteer import spoken_name, stem_of
from nlu.types import Parse, Place

F = flow("report")

# Annex 1 items ②-⑭ in order: (kind, code, label); the user picks them by position 1-13.
ITEMS: list[tuple[str, str, str]] = [
    ("g", "A23", N_("Housing safety")),
    ("g", "A24", N_("A child out of school")),
    ("g", "A25", N_("Drinking water safety")),
    ("g", "A26", N_("No basic medical insurance")),
    ("r", "01", N_("Illness")),
    ("r", "02", N_("School costs")),
    ("r", "03", N_("Disability")),
    ("r", "04", N_("Natural disaster")),
    ("r", "05", N_("Accident")),
    ("r", "06", N_("Failed farming or business")),
    ("r", "07", N_("Unstable work")),
    ("r", "08", N_("Lack of labour")),
    ("r", "09", N_("Other")),
]
RELATIONS: list[tuple[str, str]] = [
    ("child", N_("Son or daughter")),
    ("relative", N_("Other relative")),
    ("neighbour", N_("Neighbour")),
    ("cadre", N_("Village cadre")),
    ("other", N_("Other")),
]
EDITABLE = ["name", "id", "size", "village", "group", "phone", "confirm"]
EDIT_LABELS = [N_("Name"), N_("ID number"), N_("Household size"), N_("Village"), N_("Village group"),
               N_("Phone"), N_("Difficulties")]
ANEW_WORDS = ("重新", "新的", "再报")  # at "a report is not finished": start a new one (or GO_ON_WORDS)
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def start(turn: Turn, *, proxy: bool, description: str | None = None) -> None:
    """Begin a report; free text that already describes the difficulty skips the first question. A report
    set aside with answers in it is not dropped for a new one: the household chooses (what they just said
    is kept either way)."""
    paused = turn.state.get("paused") or {}
    if paused.get("flow") == F.name and paused.get("history"):
        fresh: dict[str, Any] = {"proxy": proxy}
        if description:
            _describe_into(fresh, description, turn.parse)
        turn.state.update(flow=F.name, step=None, data={"new": fresh}, history=[], fails={})
        goto(turn, "resume_or_new")
        return
    turn.state.pop("paused", None)
    turn.state.update(flow=F.name, step=None, data={"proxy": proxy}, history=[], fails={})
    facts = turn.facts
    if description and not proxy and facts.linked_case and facts.linked_case_open:
        _describe_into(turn.data, description, turn.parse)  # kept, whichever way they choose
        turn.data["open_case"] = facts.linked_case  # intake would join it: not a new report from scratch
        goto(turn, "open_case")
        return
    if description:
        turn.state["step"] = "describe"
        _take_description(turn, description)
    else:
        goto(turn, "describe")


@F.prompt("resume_or_new")
def _ask_resume_or_new(turn: Turn) -> None:
    paused = turn.state.get("paused") or {}
    said = labels(turn, paused.get("data") or {})
    text = (turn._("You have a report that is not finished yet ({labels}).").format(labels=said) if said
            else turn._("You have a report that is not finished yet."))
    turn.say(text, _resume_choices(turn))


def _resume_choices(turn: Turn) -> list[str]:
    fresh = turn.data["new"]
    go_on = (turn._("Go on with it, and add what you just said") if fresh.get("text")
             else turn._("Go on with it"))
    anew = (turn._("Start a new report for someone else") if fresh.get("proxy")
            else turn._("Start a new report"))
    return numbered([go_on, anew]) + ["0 " + turn._("Back")]


def _added(turn: Turn, before: dict[str, Any], fresh: dict[str, Any]) -> str:
    """What a later description added to the report taken up again: its new difficulties and amounts."""
    new = {key: [code for code in turn.data.get(key, []) if code not in before.get(key, [])]
           for key in ("risks", "guarantees")}
    said = labels(turn, new) if new["risks"] or new["guarantees"] else ""
    lines = [turn._("Added to your report: {labels}.").format(labels=said) if said
             else turn._("What you said is added to your report.")]
    money = _amounts(turn, fresh)
    if money:
        lines.append(money)
    return "\n".join(lines)


@F.on("resume_or_new")
def _resume_or_new(turn: Turn) -> None:
    short = len(turn.text) <= 6
    choice = number_choice(turn.text) if short else None
    if choice is None and short:
        choice = 1 if any(w in turn.text for w in GO_ON_WORDS) else 2 if any(
            w in turn.text for w in ANEW_WORDS) else None
    fresh: dict[str, Any] = turn.data["new"]
    if choice is None and not short:  # more words about the difficulty: kept with what was said, asked again
        _describe_into(fresh, turn.raw, turn.parse)
        turn.say(turn._("Noted. Please choose first:"), _resume_choices(turn))
        return
    if choice == 1:
        resume_paused(turn, ask_again=False)
        if not fresh.get("text"):
            reprompt(turn)
            return
        before = dict(turn.data)
        _merge_description(turn.data, fresh)
        if turn.step in ("describe", "confirm", "pick"):
            goto(turn, "confirm")
            return
        turn.note(_added(turn, before, fresh))
        reprompt(turn)
    elif choice == 2:
        turn.state.pop("paused", None)
        turn.state.update(data=fresh, history=[], fails={})
        if fresh.get("text"):
            turn.state["step"] = "describe"
            goto(turn, "confirm")
        else:
            goto(turn, "describe", remember=False)
    else:
        _bad(turn, turn._("Please reply 1 or 2."), _resume_choices(turn))


@F.prompt("open_case")
def _ask_open_case(turn: Turn) -> None:
    turn.say(turn._("Your case {number} is still being handled. Shall we add what you just said to it?")
             .format(number=turn.data["open_case"]), _open_case_choices(turn))


def _open_case_choices(turn: Turn) -> list[str]:
    return numbered([turn._("Yes, add it to this case"), turn._("Report for someone else")]) + [
        "0 " + turn._("Back")]


@F.on("open_case")
def _open_case(turn: Turn) -> None:
    """A household whose own case is open said a new difficulty: 1 adds the words to that case (as 补充
    does), 2 is a report for another household, with the words said as its description (代报 too). 申报 is
    the household's own report, which is that case: it is told so and asked again."""
    short = len(turn.text) <= 6
    choice = number_choice(turn.text) if short else None
    asked = asked_for(turn.text) if short and choice is None else None
    if choice == 1 or matches(turn.text, YES_WORDS):
        add_words(turn, turn.data["open_case"], turn.data["text"])
    elif choice == 2 or asked == "proxy":
        for key in ("open_case", "name_guess"):  # the household's own name is not the other family's
            turn.data.pop(key, None)
        turn.data["proxy"] = True
        turn.state["step"] = "describe"
        goto(turn, "confirm")
    elif choice is None and (not short or turn.parse.risks or turn.parse.guarantees or turn.parse.disasters):
        _describe_into(turn.data, turn.raw, turn.parse)  # more words (又漏雨了 too): kept, asked again
        turn.say(turn._("Noted. Please choose first:"), _open_case_choices(turn))
    elif asked == "report" or turn.parse.intent == "report":  # 申报, 我要报: their own report is that case
        _bad(turn, turn._("Your family has reported already: case {number} is still being handled, and a new "
                          "difficulty goes with it. Reply 1 to add what you just said to it; if it is "
                          "another family's difficulty, reply 2.").format(number=turn.data["open_case"]),
             _open_case_choices(turn))
    else:
        _bad(turn, turn._("Please reply 1 or 2."), _open_case_choices(turn))


def relation_code(word: str) -> str | None:
    """The parser's relation word as a RELATIONS code; None when it says too little ('他人')."""
    if word in ("邻居",):
        return "neighbour"
    if word in ("村干部",):
        return "cadre"
    if word in ("子女", "儿子", "女儿"):
        return "child"
    if word in ("朋友",):
        return "other"
    if word in ("他人",):
        return None
    return "relative"


def labels(turn: Turn, data: dict[str, Any]) -> str:
    codes = {("g", g) for g in data.get("guarantees", [])} | {("r", r) for r in data.get("risks", [])}
    ordered = [i for i in ITEMS if i[0] == "r"] + [i for i in ITEMS if i[0] == "g"]  # risks first
    names = [turn.t.gettext(label) for kind, code, label in ordered if (kind, code) in codes]
    return turn._(", ").join(names)


# --- what happened ---------------------------------------------------------------------------------


@F.prompt("describe")
def _ask_describe(turn: Turn) -> None:
    if turn.data.get("proxy"):
        turn.say(turn._("What difficulty does that family have? Tell us in a sentence or two."),
                 ["0 " + turn._("Back")])
    else:
        turn.say(turn._("What difficulty does your family have? Tell us in a sentence or two, "
                        "for example: my husband is in hospital and it cost a lot."), ["0 " + turn._("Back")])


@F.on("describe")
def _describe(turn: Turn) -> None:
    if turn.text in UNKNOWN_WORDS or turn.text in ("说不清", "说不清楚", "不会说"):
        turn.note(turn._("That is all right. You can choose from this list."))
        goto(turn, "pick")
        return
    if len(turn.text) < 2:
        turn.say(turn._("Please tell us a little more in words."))
        return
    _take_description(turn, turn.raw)


def _take_description(turn: Turn, text: str) -> None:
    _describe_into(turn.data, text, turn.parse)
    goto(turn, "confirm")


def _describe_into(data: dict[str, Any], text: str, p: Parse) -> None:
    """Add a description and what the parser read in it to a report's data."""
    previous = data.get("text", "")
    data["text"] = f"{previous}\n{text}".strip() if previous else text.strip()
    data["risks"] = sorted(set(data.get("risks", [])) | set(p.risks))
    data["guarantees"] = sorted(set(data.get("guarantees", [])) | set(p.guarantees))
    data["disasters"] = sorted(set(data.get("disasters", [])) | set(p.disasters))
    data["urgent"] = bool(data.get("urgent")) or p.urgent
    data["parsed"] = _merged_parse(data.get("parsed"), _contract(p))  # more words: what was read stays
    if p.relation and not data.get("relation") and data.get("proxy"):
        data["relation"] = relation_code(p.relation)
    if p.person_name and not data.get("proxy") and not data.get("name_guess"):
        data["name_guess"] = p.person_name  # 我叫张三...: offered as the answer to the name question
    if p.household_size and not data.get("size") and not size_range(text):  # 一家五六口: asked for
        data["size"] = p.household_size
        data["size_said"] = True  # told in the description: its question is not asked
    _keep_numbers(data, p)
    _keep_place(data, text, p)
    _settle_risks(data)


def _keep_numbers(data: dict[str, Any], p: Parse) -> None:
    """An ID or mobile number in a message, kept to be offered at its own question (whose ID number it is,
    only they know); the first one said stays. A number whose question is answered already is never
    offered (_given)."""
    if p.id_numbers and not data.get("id_guess"):
        data["id_guess"] = p.id_numbers[0]
    if p.phones and not data.get("phone_guess"):
        data["phone_guess"] = p.phones[0]


def _keep_place(data: dict[str, Any], text: str, p: Parse) -> None:
    """The village (石狮村, or the villages of that name) and the village group (三组) a description names,
    kept to be offered at their questions; the first said stays."""
    place = p.place
    candidates = place if isinstance(place, list) else ([place] if place is not None else [])
    villages = [_place_dict(x) for x in candidates if x.level == "village" and x.village_code]
    if villages and "village" not in data and not data.get("village_guess"):
        data["village_guess"] = villages[:8]
    group = _GROUP_NUMBER.search(normalize(text))
    number = small_number(group.group(1)) if group else None
    if group and number and "group" not in data and not data.get("group_guess"):
        data["group_guess"] = f"{number}{group.group(2)}"


def _settle_risks(data: dict[str, Any]) -> None:
    """No difficulty read: 'other'; with 'other', its text (the description) goes along."""
    if not data["risks"] and not data["guarantees"]:
        data["risks"] = ["09"]
    if "09" in data["risks"]:  # it goes into annex 1 as typed, numbers masked (as the stored report keeps it)
        data["other"] = mask_text(data["text"])[:500]


def _merge_description(data: dict[str, Any], fresh: dict[str, Any]) -> None:
    """A report taken up again gets a later description (`fresh`, built by _describe_into) added to it."""
    previous = data.get("text", "")
    data["text"] = f"{previous}\n{fresh['text']}".strip()
    for key in ("risks", "guarantees", "disasters"):
        added = set(fresh.get(key, [])) - ({"09"} if key == "risks" else set())  # '09': nothing read
        data[key] = sorted(set(data.get(key, [])) | added)
    data["urgent"] = bool(data.get("urgent")) or bool(fresh.get("urgent"))
    if fresh.get("parsed"):
        data["parsed"] = _merged_parse(data.get("parsed"), fresh["parsed"])
    for key in ("name_guess", "relation", "id_guess", "phone_guess", "village_guess", "group_guess"):
        if fresh.get(key) and not data.get(key):
            data[key] = fresh[key]
    if fresh.get("size") and not data.get("size"):
        data["size"], data["size_said"] = fresh["size"], fresh.get("size_said", False)
    _settle_risks(data)


def _merged_parse(earlier: dict[str, Any] | None, later: dict[str, Any]) -> dict[str, Any]:
    """What the parser read in two descriptions of one report (its contract's keys)."""
    if not earlier:
        return later
    merged = {**earlier, **{k: v for k, v in later.items() if v not in (None, [], False)}}
    for key in ("risks", "disasters", "guarantees"):
        merged[key] = sorted(set(earlier.get(key) or []) | set(later.get(key) or []))
    for key in ("amounts", "id_numbers", "phones"):
        merged[key] = [*(earlier.get(key) or []), *(later.get(key) or [])]
    flags = [*_approximate(earlier), *_approximate(later)]
    merged.pop(_APPROXIMATE, None)
    if any(flags):
        merged[_APPROXIMATE] = flags
    merged["urgent"] = bool(earlier.get("urgent")) or bool(later.get("urgent"))
    return merged


def _contract(p: Any) -> dict[str, Any]:
    """The parser's contract keys, and which amounts were said roughly (五六万, 三万多) when any was."""
    try:
        found = dict(p.contract())
    except Exception:  # noqa: BLE001 - a parse from an older parser still has the fields
        return {k: v for k, v in asdict(p).items() if k in ("intent", "risks", "disasters", "guarantees")}
    flags = [bool(f) for f in getattr(p, _APPROXIMATE, None) or []]
    if any(flags):
        found[_APPROXIMATE] = flags
    return found


_APPROXIMATE = "amounts_approximate"  # one flag per amount, kept only when one is set


def _approximate(parsed: dict[str, Any]) -> list[bool]:
    """Each amount's flag, False for those a parse without flags read."""
    amounts = parsed.get("amounts") or []
    flags = list(parsed.get(_APPROXIMATE) or [])[:len(amounts)]
    return flags + [False] * (len(amounts) - len(flags))


@F.prompt("confirm")
def _ask_confirm(turn: Turn) -> None:
    text = turn._("You said: {labels}. Is that right?").format(labels=labels(turn, turn.data))
    money = _amounts(turn)
    if money:  # read back as understood, so a misheard 三万多 or 两千五 can be said again
        text += "\n" + money
    if turn.data.get("urgent"):
        text += "\n" + turn._("This sounds urgent: we will ask the cadre to contact you first.")
    turn.say(text, _confirm_choices(turn))


def _confirm_choices(turn: Turn) -> list[str]:
    return numbered([turn._("Yes, that is right"), turn._("No, let me say it again"),
                     turn._("Choose from a list")]) + ["0 " + turn._("Back")]


def _amounts(turn: Turn, data: dict[str, Any] | None = None) -> str:
    """'Amounts you mentioned: about 60,000 yuan, 2,500 yuan' (the first three; 'about' for one said roughly,
    五六万 or 三万多), or '' when none was read."""
    parsed = (turn.data if data is None else data).get("parsed") or {}
    amounts = [(a, rough) for a, rough in zip(parsed.get("amounts") or [], _approximate(parsed), strict=True)
               if isinstance(a, int | float)]
    if not amounts:
        return ""
    money = [(turn._("about {amount} yuan") if rough else turn._("{amount} yuan"))
             .format(amount=turn.t.format_number(a)) for a, rough in amounts[:3]]
    return turn._("Amounts you mentioned: {amounts}").format(amounts=turn._(", ").join(money))


@F.on("confirm")
def _confirm(turn: Turn) -> None:
    choice = number_choice(turn.text)
    if choice == 1 or matches(turn.text, YES_WORDS):
        _after(turn, "confirm")
    elif choice == 2 or matches(turn.text, NO_WORDS):
        for key in ("text", "risks", "guarantees", "disasters", "other", "parsed"):
            turn.data.pop(key, None)
        goto(turn, "describe")
    elif choice == 3:
        goto(turn, "pick")
    elif len(turn.text) > 3 and choice is None:
        _take_description(turn, turn.raw)  # more words: read them and confirm again
    else:
        turn.say(turn._("Please reply 1, 2 or 3."), _confirm_choices(turn))


@F.prompt("pick")
def _ask_pick(turn: Turn) -> None:
    options = numbered([turn.t.gettext(label) for _k, _c, label in ITEMS])
    turn.say(turn._("Which of these apply? Reply with the numbers, for example: 5 1"), options
             + ["0 " + turn._("Back")])


@F.on("pick")
def _pick(turn: Turn) -> None:
    picked = sorted({int(n) for n in re.findall(r"\d+", turn.text) if 1 <= int(n) <= len(ITEMS)})
    if not picked:
        turn.note(turn._("Please reply with numbers from the list, for example: 5 1"))
        reprompt(turn)  # the list again: never an answer without the choices it asks for
        return
    chosen = [ITEMS[n - 1] for n in picked]
    turn.data["guarantees"] = [c for k, c, _l in chosen if k == "g"]
    turn.data["risks"] = [c for k, c, _l in chosen if k == "r"]
    if "09" in turn.data["risks"]:
        turn.data["other"] = turn.data.get("text", "")[:500] or None
    else:
        turn.data.pop("other", None)
    goto(turn, "confirm")


DISASTERS: list[tuple[str, str]] = [
    ("01", N_("Flood")),
    ("02", N_("Landslide or other geological disaster")),
    ("03", N_("Drought")),
    ("04", N_("Pests")),
    ("05", N_("Storm, hail, frost or other weather")),
    ("06", N_("Earthquake")),
    ("07", N_("Other (forest fire ...)")),
]


@F.prompt("disaster")
def _ask_disaster(turn: Turn) -> None:
    turn.say(turn._("What kind of disaster was it?"),
             numbered([turn.t.gettext(label) for _c, label in DISASTERS]) + ["0 " + turn._("Back")])


def read_disaster(turn: Turn) -> bool:
    """The disaster kind (A27a) named in the words or chosen from the list into `data`; False when neither
    (the caller says so and asks again). The household's report and a cadre's 排查 both read it here."""
    choice = number_choice(turn.text)
    if turn.parse.disasters:
        turn.data["disasters"] = sorted(set(turn.parse.disasters))
    elif choice is not None and 1 <= choice <= len(DISASTERS):
        turn.data["disasters"] = [DISASTERS[choice - 1][0]]
    else:
        return False
    return True


def disaster_again(turn: Turn) -> None:
    turn.note(turn._("Please reply with a number from 1 to {n}.").format(n=len(DISASTERS)))
    reprompt(turn)


@F.on("disaster")
def _disaster(turn: Turn) -> None:
    if not read_disaster(turn):
        disaster_again(turn)
        return
    _after(turn, "disaster")


# --- the reporter (proxy only) --------------------------------------------------------------------------


@F.prompt("relation")
def _ask_relation(turn: Turn) -> None:
    turn.say(turn._("How are you related to that family?"),
             numbered([turn.t.gettext(label) for _c, label in RELATIONS]) + ["0 " + turn._("Back")])


@F.on("relation")
def _relation(turn: Turn) -> None:
    choice = number_choice(turn.text)
    if choice is not None and 1 <= choice <= len(RELATIONS):
        turn.data["relation"] = RELATIONS[choice - 1][0]
    elif (code := _typed_relation(turn)) is not None:  # 侄子, 我是她邻居, 隔壁的, 我是村里的会计
        turn.data["relation"] = code
    else:
        _keep_numbers(turn.data, turn.parse)  # an ID or a phone typed here: offered at its question
        _bad(turn, turn._("Please reply with a number from 1 to {n}.").format(n=len(RELATIONS)),
             numbered([turn.t.gettext(label) for _c, label in RELATIONS]) + ["0 " + turn._("Back")])
        return
    _after(turn, "relation")


# who the reporter is to the family, in words: read as the numbered choice they mean
_RELATION_WORDS = [
    ("relative", re.compile(r"侄|孙|外甥|兄|弟|姐|妹|哥|嫂|媳妇|女婿|叔|伯|舅|姑|姨|亲戚|老表|表亲|堂亲")),
    ("child", re.compile(r"子女|儿子|女儿|崽|闺女|孩子|伢子")),
    ("neighbour", re.compile(r"邻居|邻里|隔壁|对门|邻舍")),
    ("cadre", re.compile(r"干部|村长|支书|书记|主任|会计|组长|网格员|村委|驻村")),
    ("other", re.compile(r"朋友|老乡|同事|熟人")),
]


def _typed_relation(turn: Turn) -> str | None:
    """The relation an answer says in words (the parser's relation word first); None if it names none."""
    if turn.parse.relation:
        code = relation_code(turn.parse.relation)
        if code is not None:
            return code
    text = normalize(turn.text)
    if len(text) > 12:
        return None
    return next((code for code, words in _RELATION_WORDS if words.search(text)), None)


@F.prompt("proxy_name")
def _ask_proxy_name(turn: Turn) -> None:
    turn.say(turn._("What is your own name?"), ["0 " + turn._("Back")])


@F.on("proxy_name")
def _proxy_name(turn: Turn) -> None:
    name = person_name(turn)
    if name is None:
        _bad(turn, turn._("Please write your name in characters, for example: 李四."))
        return
    turn.data["proxy_name"] = name
    _after(turn, "proxy_name")


@F.prompt("proxy_phone")
def _ask_proxy_phone(turn: Turn) -> None:
    turn.say(turn._("Your mobile number, so staff can reach you?"), ["0 " + turn._("Back")])


@F.on("proxy_phone")
def _proxy_phone(turn: Turn) -> None:
    phone = _phone(turn)
    if phone is None:
        _bad(turn, turn._("That does not look like a mobile number. It has 11 digits and starts with 1."))
        return
    turn.data["proxy_phone"] = phone
    _after(turn, "proxy_phone")


# --- the household ------------------------------------------------------------------------------------


@F.prompt("name")
def _ask_name(turn: Turn) -> None:
    guess = _name_guess(turn)
    if guess:
        turn.say(turn._("Are you {name}?").format(name=guess), numbered([turn._("Yes"), turn._("No")]))
        return
    if turn.data.get("proxy"):
        text = turn._("What is the full name of that family's head, as on the ID card?")
    else:
        text = turn._("What is your full name, as on your ID card?")
    turn.say(text, ["0 " + turn._("Back")])


def _name_guess(turn: Turn) -> str | None:
    """The name the first message gave (我叫张三), while the name question is not answered yet."""
    d = turn.data
    guess = d.get("name_guess")
    return guess if isinstance(guess, str) and not d.get("proxy") and not d.get("name") else None


@F.on("name")
def _name(turn: Turn) -> None:
    if _answered_offer(turn, "name", _name_guess(turn)):
        return
    _keep_numbers(turn.data, turn.parse)  # 张三 430421..., 5组 电话139...: offered at their questions
    name = person_name(turn)
    if name is None and (turn.parse.id_numbers or turn.parse.phones):  # 张三 430421...: the name (the
        name = clean_name(_DIGITS.sub("", turn.raw))  # number is kept for its own question)
    if name is None:
        _bad(turn, turn._("Please write the name in characters, for example: 张三."))
        return
    if form_of_address(name):
        _bad(turn, turn._("Please write the full name as on the ID card, for example: 刘长根."))
        return
    turn.data["name"] = name
    _after(turn, "name")


_DIGITS = re.compile(r"[\dXx\s\-+]{7,}")


def _given(turn: Turn, key: str) -> str | None:
    """What the description gave for `key` (its `{key}_guess`), while that question is not answered yet
    and not being changed from the summary."""
    d = turn.data
    guess = d.get(f"{key}_guess")
    if not isinstance(guess, str) or not guess or key in d or d.get("editing"):
        return None
    return guess


def _id_guess(turn: Turn) -> str | None:
    """A valid ID number the description gave, while the ID question is not answered yet."""
    guess = _given(turn, "id")
    if guess is None:
        return None
    check = check_id(guess, today=turn.facts.now.date())
    return check.normalized if check.valid and check.normalized else None


def _answered_offer(turn: Turn, key: str, guess: str | None) -> bool:
    """The reply to an answer offered from the first message ('are you 张三?', 'you sent {id} before: is it
    ...?'): 1 takes it, 2 asks the question as usual. False for anything else, which the step reads as an
    answer to its question."""
    if not guess:
        return False
    choice = number_choice(turn.text)
    if choice == 1 or matches(turn.text, YES_WORDS):
        turn.data[key] = guess
        _after(turn, key)
        return True
    if choice == 2 or matches(turn.text, NO_WORDS):
        turn.data[f"{key}_guess"] = ""
        reprompt(turn)
        return True
    return False


def _yes_no(turn: Turn) -> list[str]:
    return numbered([turn._("Yes"), turn._("No")]) + ["0 " + turn._("Back")]


@F.prompt("id")
def _ask_id(turn: Turn) -> None:
    guess = _id_guess(turn)
    if guess:
        turn.say(turn._("You sent the ID number {id} before. Is it the ID card number of {name}?").format(
            id=mask_id(guess), name=turn.data.get("name", "")), _yes_no(turn))
        return
    text = turn._("Please type the 18-digit ID card number of {name}.").format(name=turn.data.get("name", ""))
    if turn.data.get("proxy"):
        text += "\n" + turn._("Do not know it? Reply 不知道: staff check it when they visit.")
    turn.say(text, ["0 " + turn._("Back")])


_ID_UNKNOWN = ("不知道", "不清楚", "不记得", "记不得", "忘了", "不晓得", "晓不得", "没有", "unknown")


ID_REASONS = {
    "length": N_("An ID number has 18 characters; you sent {n}. Please check and type it again."),
    "checksum": N_("The last character does not fit this number, so one digit may be wrong. "
                   "Please check the card and type it again."),
    "birth_date": N_("The birth date inside the number is not a real date. Please check and type it again."),
    "future_birth_date": N_("The birth date inside the number is in the future. Please check it again."),
}


@F.on("id")
def _id(turn: Turn) -> None:
    if not turn.parse.id_numbers and _answered_offer(turn, "id", _id_guess(turn)):
        return
    candidates = list(turn.parse.id_numbers)
    raw = candidates[0] if candidates else turn.raw
    check = check_id(raw, today=turn.facts.now.date())
    if check.valid and check.normalized:
        turn.data["id"] = check.normalized
        _after(turn, "id")
        return
    if any(word in turn.text for word in _ID_UNKNOWN) and not re.search(r"\d{6}", turn.text):
        if turn.data.get("proxy"):  # a neighbour rarely knows it: the visit records it
            turn.data["id"] = None
            _after(turn, "id")
        else:
            _bad(turn, turn._("The ID number is needed to apply. Please look at the ID card or the household "
                              "register (户口本). No card at hand? Reply 人工 and staff will call you."))
        return
    digits = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", turn.raw))
    corrected = None if re.search(r"\d", digits) else person_name(turn)
    if corrected is not None and not form_of_address(corrected) and corrected != turn.data.get("name") \
            and looks_like_a_name(corrected):
        turn.data["name"] = corrected  # the name again, put right ('刘大爷', then '刘长根'): taken, not lost
        turn.note(turn._("Name changed to {name}.").format(name=corrected))
        reprompt(turn)
        return
    if not re.search(r"\d", digits):  # words, not a number: "you sent 3 characters" would puzzle
        check_reason = None
    else:
        check_reason = check.reason
    reason = ID_REASONS.get(check_reason or "", N_("That does not look like an ID number. "
                                                    "Please type the 18 characters on the card."))
    _bad(turn, turn.t.gettext(reason).format(n=len(digits)))


@F.prompt("size")
def _ask_size(turn: Turn) -> None:
    turn.say(turn._("How many people live in the household? Reply with a number, for example: 4"),
             ["0 " + turn._("Back")])


@F.on("size")
def _size(turn: Turn) -> None:
    if size_range(turn.text):  # 三四个, 五到六个, 6到7: which one is for the household to say
        _bad(turn, turn._("Please reply with one number, the people who live in the household now, "
                          "for example: 4"))
        return
    size = read_size(turn)
    if size is None:
        _bad(turn, turn._("Please reply with the number of people, for example: 4"))
        return
    turn.data["size"] = size
    turn.data.pop("size_said", None)
    _after(turn, "size")


def _spoken_counts(text: str) -> str:
    """俩 and 仨 (two, three: 我们俩, 仨人) as the numerals they stand for, with their 个."""
    return text.replace("俩", "两个").replace("仨", "三个")


_CN_DIGIT = "[一二两三四五六七八九]"
# two numbers for the household's size, not one: 五六, 十五六, 二三十, 五到六, 5、6, 五个或者六个, 两个三个,
# 5 6; not a range of something else (五六天, 两三万, 三四个月)
_SIZE_RANGE = re.compile(rf"(?:十?({_CN_DIGIT})(?!\1){_CN_DIGIT}十?"
                         r"|[\d一二两三四五六七八九十]\s*个?\s*(?:到|至|或者|或是|或|还是|、|-|~|—)\s*"
                         r"[\d一二两三四五六七八九十]"
                         r"|\d\s+\d"
                         rf"|({_CN_DIGIT})个(?!\2){_CN_DIGIT}个)"
                         r"(?![\d十]|\s*个?(?:月|小时|钟头|星期|礼拜)|\s*[天年岁块元万千百次亩斤里点号日周倍层间组队])")
_SIZE_SAID = re.compile(r"([\d一二两三四五六七八九十]{1,3})\s*(?:个人|口人|口|个)(?!月|小时|钟头|星期|礼拜)")


def size_range(text: str) -> bool:
    """Whether the text gives the household's size as two numbers (五六个人, 5到6口)."""
    return bool(_SIZE_RANGE.search(_spoken_counts(normalize(text))))


def read_size(turn: Turn) -> int | None:
    """The household size an answer gives (1-30), None when it gives none. A number alone ('4', '4口人',
    '四个人', '俩'); in a longer text only what the parser reads as the household size, or a count of people
    in a short one, never the first digit in it ('我和老伴还有2个孙子', a case number). Two numbers
    (size_range) are for the caller to ask about first."""
    text = _spoken_counts(turn.text)
    counted = _SIZE_SAID.search(text) if len(text) <= 16 else None  # 我和老伴两个人, 一家三个
    size = turn.parse.household_size or (small_number(counted.group(1)) if counted else None) or (
        small_number(text) if len(text) <= 6 else None)
    if size is None or not 1 <= size <= 30 or re.search(r"[A-Za-z]", text):
        return None
    return size


@F.prompt("village")
def _ask_village(turn: Turn) -> None:
    guess = _village_guess(turn)
    if guess and len(guess) == 1:  # 我是石狮村三组的...: offered, with its group
        place = guess[0]["label"] + (_group_guess(turn) or "")
        text = (turn._("That family lives in {place}, as you said. Is that right?") if turn.data.get("proxy")
                else turn._("Your home is in {place}, as you said. Is that right?"))
        turn.say(text.format(place=place), _yes_no(turn))
        return
    if guess:  # a village name several villages have: which one (0, none of them: the question)
        turn.data["village_guess"] = None
        turn.data["candidates"] = guess
        goto(turn, "village_pick")
        return
    township = turn.data.get("township")
    if township:
        turn.say(turn._("Which village in {township}?").format(township=township["name"]),
                 _village_choices(turn))
        return
    question = (turn._("Which village does that family live in? Write the township and the village, "
                       "for example: {example}") if turn.data.get("proxy")
                else turn._("Which village is the home in? Write the township and the village, "
                            "for example: {example}"))
    turn.say(question.format(example=_example(turn)), _village_choices(turn))


def _village_guess(turn: Turn) -> list[dict[str, Any]] | None:
    """The villages the description named, while the village question is not answered yet and not being
    changed from the summary."""
    d = turn.data
    guess = d.get("village_guess")
    if not isinstance(guess, list) or not guess or "village" in d or d.get("editing"):
        return None
    return guess


def _group_guess(turn: Turn) -> str | None:
    """The village group the description named, while the group question is not answered yet."""
    return _given(turn, "group")


def _answered_village_offer(turn: Turn) -> bool:
    """The reply to 'your home is in 石狮村3组, is that right?': 1 takes the village and the group, 2 asks the
    question as usual. Anything else is read as the answer to the village question (the offer is
    dropped, its group too: a village put right may not have that group)."""
    guess = _village_guess(turn)
    if not guess or len(guess) != 1:
        return False
    choice = number_choice(turn.text)
    turn.data["village_guess"] = None
    group = _group_guess(turn)
    turn.data["group_guess"] = ""
    if choice == 1 or matches(turn.text, YES_WORDS):
        turn.data["village"] = {"code": str(guess[0]["code"]).ljust(12, "0"), "label": guess[0]["label"]}
        turn.data.pop("township", None)
        if group:
            turn.data["group"], turn.data["group_said"] = group, True
        _after(turn, "village")
        return True
    if choice == 2 or matches(turn.text, NO_WORDS):
        reprompt(turn)
        return True
    return False


@F.on("village")
def _village(turn: Turn) -> None:
    if _answered_village_offer(turn):
        return
    if turn.facts.places is not None and turn.parse.place is None and number_choice(turn.text) == 1:
        # "1 choose from a list" (starting in the township already named, if one was)
        turn.data["browse"] = {"path": [turn.data["township"]["code"]] if turn.data.get("township") else [],
                               "page": 0}
        goto(turn, "village_list")
        return
    place = turn.parse.place
    township = turn.data.get("township")
    candidates = place if isinstance(place, list) else ([place] if place is not None else [])
    villages = [p for p in candidates if p.level == "village" and p.village_code]
    if township:
        inside = [p for p in villages if p.township_code == township["code"]]
        villages = inside or villages
    if len(villages) == 1:
        _set_village(turn, villages[0])
        goto(turn, "village_ok")
        return
    if len(villages) > 1:
        turn.data["candidates"] = [_place_dict(p) for p in villages[:8]]
        goto(turn, "village_pick")
        return
    towns = [p for p in candidates if p.level == "township" and p.township_code]
    if not candidates and not township:  # 西渡 for 西渡镇: the parser takes a bare township stem in no text
        towns = _bare_township(turn)
    if len(towns) == 1:
        turn.data["township"] = {"code": towns[0].township_code, "name": towns[0].township or towns[0].name}
    if turn.data.get("township") and _bare_village(turn):  # 西渡镇梅花, or 梅花 once the township is known
        return
    if len(towns) == 1:
        goto(turn, "village", remember=False)
        return
    if turn.facts.places is None:
        _bad(turn, turn._("I could not find that village. Please write the township and the village, "
                          "for example: {example}").format(example=_example(turn)))
        return
    _bad(turn, turn._("I could not find that village. Write the township and the village again, "
                      "or reply 1 to choose it from a list."), _village_choices(turn))


_NOT_IN_NAME = re.compile(r"[\s\d,，。.、！!？?的]+")


def _bare_township(turn: Turn) -> list[Place]:
    """The one township whose name, without 镇/乡/街道, begins the answer (西渡, 西渡梅花), the answer to a
    question about a place; [] when none or several do. The parser does not read a bare township stem in
    a sentence, where two characters are often an ordinary word."""
    if turn.facts.places is None:
        return []
    text = _NOT_IN_NAME.sub("", unicodedata.normalize("NFKC", turn.text))
    found = {place.code: place for stem, place in _township_stems(turn.facts.places) if text.startswith(stem)}
    return list(found.values()) if len(found) == 1 else []


_TOWNSHIPS: weakref.WeakKeyDictionary[PlaceDirectory, list[tuple[str, Place]]] = weakref.WeakKeyDictionary()


def _township_stems(places: PlaceDirectory) -> list[tuple[str, Place]]:
    """(stem of two or more characters, township) of a directory, walked once (all Hunan: 2,157 places
    above the villages, 7 ms)."""
    known = _TOWNSHIPS.get(places)
    if known is None:
        known, level = [], list(places.children(None))
        while level:
            below: list[Place] = []
            for place in level:
                if place.level == "township":
                    stem = stem_of(place.name, "township")[0]
                    if len(stem) >= 2:
                        known.append((stem, place))
                elif place.level != "village":
                    below.extend(places.children(place.code))
            level = below
        _TOWNSHIPS[places] = known
    return known


def _bare_village(turn: Turn) -> bool:
    """The village named without 村 (梅花 for 梅花村), looked up among the known township's villages: one
    found is offered for confirmation, several are listed to pick from. False when none fits."""
    township = turn.data["township"]
    if turn.facts.places is None:
        return False
    text = _NOT_IN_NAME.sub("", unicodedata.normalize("NFKC", turn.text))
    name = township["name"]
    for said in (name, stem_of(name, "township")[0]):
        if said and said in text:
            text = text.split(said, 1)[1]
            break
    text = text.removesuffix("村")
    if len(text) < 2:
        return False
    kids = [k for k in turn.facts.places.children(township["code"]) if k.level == "village"]
    found = [k for k in kids if stem_of(k.name, "village")[0] == text]
    if not found:
        return False
    if len(found) == 1:
        _set_village(turn, found[0])
        goto(turn, "village_ok")
    else:
        turn.data["candidates"] = [_place_dict(p) for p in found[:8]]
        goto(turn, "village_pick")
    return True


EXAMPLE_VILLAGE = "黄土铺镇长冲村"  # when no division is known to take an example from
PAGE = 8  # places a list shows at a time; 9 is the next page, 0 goes back


def _village_choices(turn: Turn) -> list[str]:
    listed = ["1 " + turn._("Choose from a list")] if turn.facts.places is not None else []
    return [*listed, "0 " + turn._("Back")]


def _example(turn: Turn) -> str:
    """A village that exists here (the first in code order), as a household would write it."""
    places = turn.facts.places
    if places is None:
        return EXAMPLE_VILLAGE
    kids = places.children(None)
    while kids:
        first = kids[0]
        if first.level == "village":
            return f"{first.township or ''}{spoken_name(first.name)}"
        kids = places.children(first.code)
    return EXAMPLE_VILLAGE


def _listed(turn: Turn) -> list[Place]:
    """The places the list shows now: under the last one picked, going down on its own through levels
    that have a single place (one province, one county)."""
    if turn.facts.places is None:  # the directory is gone (an unmigrated database after a restart)
        return []
    path: list[str] = turn.data["browse"]["path"]
    code = path[-1] if path else None
    kids = list(turn.facts.places.children(code))
    while len(kids) == 1 and kids[0].level != "village":
        code = kids[0].code
        kids = list(turn.facts.places.children(code))
    return kids


_LEVEL_QUESTIONS = {  # what the list asks for, by the level of the places in it
    "city": N_("Which city (市、州)?"),
    "county": N_("Which county (县、市、区)?"),
    "township": N_("Which township (乡镇)?"),
    "village": N_("Which village?"),
}


@F.prompt("village_list")
def _ask_village_list(turn: Turn) -> None:
    turn.data.setdefault("browse", {"path": [], "page": 0})
    _say_list(turn)


def _page(turn: Turn) -> tuple[list[Place], int, int]:
    """The places on the list's current page, the page (from 0) and the number of pages."""
    kids = _listed(turn)
    pages = max(1, (len(kids) + PAGE - 1) // PAGE)
    page = turn.data["browse"]["page"] % pages
    return kids[page * PAGE:(page + 1) * PAGE], page, pages


def _say_list(turn: Turn, note: str | None = None) -> None:
    shown, page, pages = _page(turn)
    if not shown:  # nothing below (an empty directory): write the name instead
        turn.data.pop("browse", None)
        turn.say(turn._("There is no list to choose from here. Please write the township and the village."),
                 ["0 " + turn._("Back")])
        return
    first = shown[0]
    if first.level == "village" and first.township:  # named after the place picked: 三湖镇哪个村？
        question = turn._("Which village in {township}?").format(township=first.township)
    elif first.level == "township" and first.county:
        question = turn._("Which township in {county}?").format(county=first.county)
    else:
        question = turn._(_LEVEL_QUESTIONS.get(first.level, _LEVEL_QUESTIONS["village"]))
    if pages > 1:
        question = turn._("{question} (page {page} of {pages})").format(question=question, page=page + 1,
                                                                         pages=pages)
    more = ["9 " + turn._("More")] if pages > 1 else []
    turn.say(f"{note}\n{question}" if note else question,
             [*numbered([spoken_name(p.name) for p in shown]), *more, "0 " + turn._("Back")])


@F.on("village_list")
def _village_list(turn: Turn) -> None:
    browse = turn.data.get("browse")
    if browse is None or turn.facts.places is None:  # the list is gone (no directory any more): ask again
        goto(turn, "village", remember=False)
        return
    shown, page, pages = _page(turn)
    choice = number_choice(turn.text)
    if choice is None and turn.parse.place is not None:  # a name typed after all: read as the answer
        _leave_list(turn)
        _village(turn)
        return
    if choice == 9 and pages > 1:
        browse["page"] = page + 1
        _say_list(turn)
        return
    if choice is None or not 1 <= choice <= len(shown):
        _say_list(turn, turn._("Please reply with a number from 1 to {n}, or 0 to go back.").format(
            n=len(shown)))
        return
    picked = shown[choice - 1]
    if picked.level == "village":
        _set_village(turn, picked)
        turn.data.pop("township", None)
        _leave_list(turn)
        turn.note(turn._("Village: {village}").format(village=turn.data["village"]["label"]))
        _after(turn, "village")
        return
    browse["path"].append(picked.code)
    browse["page"] = 0
    _say_list(turn)


def _leave_list(turn: Turn) -> None:
    """Back at the village question's step, as if the list had not been opened (0 from the next question
    goes to the village question, not into the list)."""
    turn.data.pop("browse", None)
    history: list[str] = turn.state.get("history") or []
    if history and history[-1] == "village":
        history.pop()
    turn.state["step"] = "village"


@F.back("village_list")
def _village_list_up(turn: Turn) -> bool:
    """0 in the list: up one level (the list of the place picked before); at the top, the question."""
    browse = turn.data.get("browse")
    if not browse or not browse["path"]:
        turn.data.pop("browse", None)
        return False
    browse["path"].pop()
    browse["page"] = 0
    _say_list(turn)
    return True


def _place_dict(p: Place) -> dict[str, Any]:
    return {"code": p.village_code or p.code, "label": _place_label(p)}


def _place_label(p: Place) -> str:
    return "".join(x for x in (p.county, p.township, spoken_name(p.village or p.name)) if x)


def _set_village(turn: Turn, p: Place) -> None:
    code = (p.village_code or p.code).ljust(12, "0")
    turn.data["village"] = {"code": code, "label": _place_label(p)}
    group = _GROUP_NUMBER.search(turn.text)  # 西渡镇梅花村5组: the group came with it, not asked again
    number = small_number(group.group(1)) if group else None
    if group and number is not None and "group" not in turn.data:
        turn.data["group"], turn.data["group_said"] = f"{number}{group.group(2)}", True


@F.prompt("village_pick")
def _ask_village_pick(turn: Turn) -> None:
    options = numbered([c["label"] for c in turn.data.get("candidates", [])])
    turn.say(turn._("There are several villages with that name. Which one?"),
             options + ["0 " + turn._("None of these")])


@F.on("village_pick")
def _village_pick(turn: Turn) -> None:
    candidates = turn.data.get("candidates", [])
    choice = number_choice(turn.text)
    if choice is None or not 1 <= choice <= len(candidates):
        turn.note(turn._("Please reply with a number from 1 to {n}.").format(n=len(candidates)))
        reprompt(turn)
        return
    picked = candidates[choice - 1]
    turn.data["village"] = {"code": str(picked["code"]).ljust(12, "0"), "label": picked["label"]}
    turn.data.pop("township", None)
    _after(turn, "village")


@F.prompt("village_ok")
def _ask_village_ok(turn: Turn) -> None:
    turn.say(turn._("Is it {village}?").format(village=turn.data["village"]["label"]),
             _yes_no(turn))




@F.on("village_ok")
def _village_ok(turn: Turn) -> None:
    choice = number_choice(turn.text)
    if choice == 1 or matches(turn.text, YES_WORDS):
        turn.data.pop("township", None)
        _after(turn, "village")
    elif choice == 2 or matches(turn.text, NO_WORDS):
        turn.data.pop("village", None)
        turn.data.pop("township", None)
        goto(turn, "village", remember=False)
    elif turn.parse.place is not None or (turn.data.get("township") and _VILLAGE_AGAIN.match(turn.text)):
        turn.data.pop("village", None)  # 不是，是赤水村: the answer to the village question, again
        turn.state["step"] = "village"
        _village(turn)
    else:
        turn.say(turn._("Please reply 1 or 2."), _yes_no(turn))


_VILLAGE_AGAIN = re.compile(r"^(不是|不对)[,，\s]*(是|在)?\S{2,}")


@F.prompt("group")
def _ask_group(turn: Turn) -> None:
    guess = _group_guess(turn)
    if guess:  # 我是三组的...
        turn.say(turn._("The village group is {group}, as you said. Is that right?").format(group=guess),
                 _yes_no(turn))
        return
    turn.say(turn._("Which village group (村民小组) is it? For example: 3组. "
                    "If you are not sure, reply 不清楚."), ["0 " + turn._("Back")])


@F.on("group")
def _group(turn: Turn) -> None:
    guess = _group_guess(turn)
    if guess:
        if _answered_offer(turn, "group", guess):
            return
        turn.data["group_guess"] = ""  # another answer: read as usual (a 1 later is not 'yes')
    _keep_numbers(turn.data, turn.parse)  # 张三 430421..., 5组 电话139...: offered at their questions
    text = _DIGITS.sub("", turn.text).replace("电话", "").replace("手机", "").strip() or turn.text
    if not text:
        turn.say(turn._("Please write the group, for example: 3组."))
        return
    read = read_group(turn, text)
    if read.again is not None:
        _bad(turn, read.again)
        return
    turn.data["group"] = read.group
    _after(turn, "group")


@dataclass(frozen=True)
class GroupRead:
    """An answer to the 村民小组 question: the group it names (None: none given, 晓不得, 冇得组), or what to
    say asking again (`again`)."""

    group: str | None = None
    again: str | None = None


def read_group(turn: Turn, text: str) -> GroupRead:
    """The group in `text` (the answer, read simplified): 第三组 or 3 as 3组, 3队 as typed, a group's name
    (张家组, 上屋) in the characters typed; the village again, or a sentence, asked again. The household's
    report and 排查 read it alike."""
    if matches(text, UNKNOWN_WORDS) or _NO_GROUP.search(text):  # 晓不得, 冇得组: none given
        return GroupRead()
    counted = _GROUP_NUMBER.search(text)  # '第三组', '我们是3队的'
    number = small_number(counted.group(1)) if counted else small_number(text) if len(text) <= 6 else None
    if counted and number is not None:
        return GroupRead(f"{number}{counted.group(2)}")
    if number is not None and not re.search(r"[组队社]", text):
        return GroupRead(f"{number}组")
    if _A_PLACE.search(text.removesuffix("的")):  # 西渡镇梅花村 again: annex 1 read 梅花村西渡镇梅花村
        return GroupRead(again=turn._("The village is noted already. Please write just the group, for "
                                      "example: 3组. If you are not sure, reply 不清楚."))
    if 2 <= len(text) <= 8 and not _NOT_A_GROUP.search(text) and not (
            turn.parse.risks or turn.parse.guarantees or turn.parse.disasters):  # a name: 张家组, 上屋
        return GroupRead(as_typed(_GROUP_LEAD.sub("", text).removesuffix("的") or text, turn.raw))
    # a sentence (房子漏雨 too): it would go into annex 1's address as typed
    return GroupRead(again=turn._("Please write just the group, for example: 3组 or 张家组."))


_GROUP_NUMBER = re.compile(r"第?([\d一二三四五六七八九十两]{1,3})\s*(组|队|社)")
_GROUP_LEAD = re.compile(r"^(我们是|我家是|我家在|我们在|在|是)")
_A_PLACE = re.compile(r"(?:村|镇|乡|县|街道|社区)$")  # a village, a township: not a village group
_NO_GROUP = re.compile(r"搞不清|不清楚|不知道|晓不得|不晓得|不记得|冇得|没得|没有|忘了")
# fillers and particles of a sentence, not of a group's name ('嗯', '好的', '老倌子住院咯' names a hardship)
_NOT_A_GROUP = re.compile(r"[嗯啊哦呢吗吧哒咯了在住离远近不没零]|好的|谢谢|你好|么子|什么|山上|村里")


def _phone_guess(turn: Turn) -> str | None:
    """A mobile number the description gave, while the phone question is not answered yet."""
    guess = _given(turn, "phone")
    if guess is None:
        return None
    phone = normalize_phone(guess)
    return phone if phone and _MOBILE.match(phone) else None


@F.prompt("phone")
def _ask_phone(turn: Turn) -> None:
    guess = _phone_guess(turn)
    if guess:
        text = (turn._("You sent the mobile number {phone} before. Is it the household's number?")
                if turn.data.get("proxy")
                else turn._("You sent the mobile number {phone} before. Can the cadre reach you on it?"))
        turn.say(text.format(phone=mask_phone(guess)), _yes_no(turn))
        return
    if turn.data.get("proxy"):
        turn.say(turn._("The household's mobile number? If they have none, reply 没有."),
                 ["0 " + turn._("Back")])
    else:
        turn.say(turn._("A mobile number where the cadre can reach you? If you have none, reply 没有."),
                 ["0 " + turn._("Back")])


@F.on("phone")
def _phone_step(turn: Turn) -> None:
    if not turn.parse.phones and _answered_offer(turn, "phone", _phone_guess(turn)):
        return
    if matches(turn.text, UNKNOWN_WORDS) or _NO_PHONE.match(turn.text):  # 没得手机, 冇得: none
        turn.data["phone"] = None
        _after(turn, "phone")
        return
    phone = _phone(turn)
    if phone is None:
        _bad(turn, turn._("That does not look like a mobile number. It has 11 digits and starts with 1."))
        return
    turn.data["phone"] = phone
    _after(turn, "phone")


_NO_PHONE = re.compile(r"^(没有|没得|冇得|没|无)(电话|手机|号码)")


# --- check, then sign ------------------------------------------------------------------------------


@F.prompt("summary")
def _ask_summary(turn: Turn) -> None:
    d = turn.data
    lines = [turn._("Please check:"),
             turn._("Name: {name}").format(name=d.get("name", "")),
             turn._("ID number: {id}").format(
                 id=mask_id(d.get("id")) or turn._("not known (staff check it at the visit)")),
             turn._("People in the household: {n}").format(n=d.get("size", "")),
             turn._("Address: {village} {group}").format(village=d.get("village", {}).get("label", ""),
                                                          group=d.get("group") or ""),
             turn._("Phone: {phone}").format(phone=mask_phone(d.get("phone")) or turn._("none")),
             turn._("Difficulties: {labels}").format(labels=labels(turn, d))]
    money = _amounts(turn)
    if money:
        lines.append(money)
    if d.get("proxy"):
        lines.append(turn._("Reported by: {name}").format(name=d.get("proxy_name", "")))
    turn.say("\n".join(lines), _summary_choices(turn))


def _summary_choices(turn: Turn) -> list[str]:
    options = [turn._("All correct"), turn._("Something is wrong")]
    if turn.data.get("clash"):  # the name and ID number were refused: a person, by number too
        options.append(turn._("Talk to a person"))
    return numbered(options) + ["0 " + turn._("Back")]


@F.on("summary")
def _summary(turn: Turn) -> None:
    choice = number_choice(turn.text)
    if choice == 1 or matches(turn.text, YES_WORDS):
        turn.data.pop("editing", None)
        if turn.data.get("proxy"):
            turn.do(_draft(turn, signature=None))
        else:
            goto(turn, "annex")
    elif choice == 2 or matches(turn.text, NO_WORDS):
        turn.data.pop("clash", None)
        goto(turn, "edit")
    elif choice == 3 and turn.data.get("clash"):  # set aside with every answer: 9 comes back here
        pause_flow(turn)
        human.start(turn)
    elif turn.data.get("clash"):
        turn.say(turn._("Please reply 1, 2 or 3."), _summary_choices(turn))
    else:
        turn.say(turn._("Please reply 1 or 2."), _summary_choices(turn))


@F.prompt("edit")
def _ask_edit(turn: Turn) -> None:
    turn.say(turn._("What should be changed?"), numbered([turn.t.gettext(x) for x in EDIT_LABELS])
             + ["0 " + turn._("Back")])


@F.on("edit")
def _edit(turn: Turn) -> None:
    choice = number_choice(turn.text)
    if choice is None or not 1 <= choice <= len(EDITABLE):
        turn.note(turn._("Please reply with a number from 1 to {n}.").format(n=len(EDITABLE)))
        reprompt(turn)
        return
    turn.data["editing"] = True
    step = EDITABLE[choice - 1]
    if step == "village":
        turn.data.pop("township", None)
    goto(turn, step)


@F.prompt("annex")
def _ask_annex(turn: Turn) -> None:
    d = turn.data
    turn.do(FillAnnex(text_version=turn.facts.annex_version, name=d.get("name"), id_number=d.get("id"),
                      size=d.get("size"), village_code=d.get("village", {}).get("code"), group=d.get("group"),
                      risks=list(d.get("risks", [])), guarantees=list(d.get("guarantees", [])),
                      other_text=d.get("other")))


@F.result(FillAnnex)
def _annex_filled(turn: Turn, command: FillAnnex, result: Result) -> None:
    annex.shown(turn, result)


@F.on("annex")
def _annex(turn: Turn) -> None:
    answer = annex.consent_answer(turn)
    if answer == "yes":
        goto(turn, "sign_name")
    elif answer == "no":
        turn.do(_draft(turn, signature=None, declined=True))
    elif answer == "again":
        _ask_annex(turn)
    else:
        turn.say(turn._("Please reply 1 (同意, I agree) or 2 (不同意, I do not agree)."),
                 annex.consent_choices(turn))


@F.prompt("sign_name")
def _ask_sign_name(turn: Turn) -> None:
    turn.say(turn._("To sign, type your full name, as on the ID card."), ["0 " + turn._("Back")])


@F.on("sign_name")
def _sign_name(turn: Turn) -> None:
    name = turn.data.get("name")
    typed = person_name(turn)
    bare = _SIGNING_WORDS.sub("", normalize(turn.raw))  # without 同意, 签字 and the like
    if typed != name and bare == name:  # 张三同意, 同意签字张三
        typed = name
    if typed != name and not bare:  # 同意 again: the name is asked for
        _bad(turn, turn._("To sign, please type your full name as on the ID card, for example: {name}.")
             .format(name=name))
        return
    if typed is None or typed != name:
        _bad(turn, turn._("That is not the same as the name you gave before ({name}). "
                          "Please type it exactly, or reply 0 to go back.").format(name=name))
        return
    shown = turn.data.get("annex") or {}
    turn.do(_draft(turn, signature=SignatureDraft(signer_name=typed, text_version=turn.facts.annex_version,
                                                  shown_sha256=shown.get("sha256"))))


_SIGNING_WORDS = re.compile(r"我同意|同意签字|同意|签字|签名|确认|本人|我叫|我是|[\s,，。.、:：]")


def _draft(turn: Turn, *, signature: SignatureDraft | None, declined: bool = False) -> SubmitReport:
    d = turn.data
    proxy = bool(d.get("proxy"))
    return SubmitReport(
        reporter_kind="proxy" if proxy else "self",
        raw_text=d.get("text", ""),
        parsed=d.get("parsed", {}),
        risks=list(d.get("risks", [])),
        disasters=list(d.get("disasters", [])),
        guarantees=list(d.get("guarantees", [])),
        other_risk_text=d.get("other"),
        urgent=bool(d.get("urgent")),
        head_name=d["name"],
        id_number=d.get("id"),
        household_size=int(d["size"]),
        village_code=d["village"]["code"],
        group_name=d.get("group"),
        phone=d.get("phone"),
        proxy_relation=d.get("relation") if proxy else None,
        proxy_name=d.get("proxy_name") if proxy else None,
        proxy_phone=d.get("proxy_phone") if proxy else None,
        attachment_ids=list(d.get("attachments", [])),
        signature=signature,
        declined=declined,
    )


_NAME_ID_CLASH = frozenset({"signer_not_in_household", "signer_id_mismatch",
                            "id_number_belongs_to_another_household", "name_not_on_record"})


@F.result(SubmitReport)
def _submitted(turn: Turn, command: SubmitReport, result: Result) -> None:
    if result.reason == "shown_text_changed":  # nothing was saved: show the application as it is now
        annex.changed(turn)
        goto(turn, "annex", remember=False)
        return
    if not result.ok and result.reason in _NAME_ID_CLASH:  # trying again would fail again: say so
        # the same words whatever the records hold: never whether the ID number is known, nor under which
        # name (a stranger may be trying numbers); what was typed stays, with a person a number away
        turn.data["clash"] = True
        turn.say(turn._("The report is not sent yet: this name and this ID number cannot be registered "
                        "together. Please check both against the ID card (身份证). Reply 2 to change them. "
                        "If they are right, reply 3 and staff will call you, or call {hotline}.")
                 .format(hotline=turn.facts.hotline))
        turn.state["step"] = "summary"
        _ask_summary(turn)
        return
    if not result.ok or result.case is None:
        turn.say(turn._("Sorry, we could not save the report just now. Your answers are kept: "
                        "reply 1 to try again, or 人工 to talk to a person."))
        turn.state["step"] = "summary"
        return
    case = result.case
    if not result.vouched:  # a household on record, and a chat that is not known as theirs
        _submitted_for_a_household_on_record(turn, result)
        return
    lines = []
    if result.joined_existing:
        lines.append(turn._("Your household already has a case, {number}. We added this report to it.")
                     .format(number=case.number))
    else:
        lines.append(turn._("Your report is in. Case number: {number}. Please keep it.").format(
            number=case.number))
    if command.reporter_kind == "proxy" and command.id_number is None:
        lines.append(turn._("The head of that household still has to sign the authorization; staff take "
                            "the signature and the ID number when they visit."))
    elif command.reporter_kind == "proxy" and command.phone:
        lines.append(turn._("The head of that household still has to sign the authorization. They can "
                            "send 签字 from the phone number you gave for them, with the case number and "
                            "the last 4 digits of their ID, or sign when staff visit."))
    elif command.reporter_kind == "proxy":  # no number of theirs on record: signing waits for the visit
        lines.append(turn._("The head of that household still has to sign the authorization, in person: "
                            "staff take the signature when they visit."))
    elif command.signature is not None:
        lines.append(turn._("Thank you, {name}: you have signed the application and authorization.")
                     .format(name=command.signature.signer_name))
    else:
        lines.append(turn._("You did not sign. Your report is kept, but without the signed authorization "
                            "staff cannot check the family's information and the case cannot go on. "
                            "You can sign any time: reply 签字."))
    if command.signature is not None and case.pending_signers_masked:
        lines.append(still_to_sign(turn, case.pending_signers_masked))
    lines.append(_who_visits(turn, result))
    if command.reporter_kind == "proxy" and command.id_number is None:  # no ID digits to look it up with
        lines.append(turn._("What happens next: staff visit the household to check, the village reviews and "
                            "posts a 7-day public notice, then the township and the county decide. The "
                            "household and its contact cadre can tell you how it goes."))
    else:
        lines.append(turn._("What happens next: staff visit your home to check, the village reviews and "
                            "posts a 7-day public notice, then the township and the county decide. "
                            "Reply 查询 to see your case."))
    turn.say("\n".join(x for x in lines if x))
    end_flow(turn, keep={"case": case.number})


def _submitted_for_a_household_on_record(turn: Turn, result: Result) -> None:
    """Filed for a household already on record from a chat not known as the household's: the report is
    kept for the cadre, but the case number, the case and signing stay with the household's own phone
    or chat and the home visit (knowing the name and the ID number proves nothing)."""
    lines = [
        turn._("Your household is already on record, so we added what you told us to its file. The contact "
               "cadre will check it with the household.") if result.joined_existing else
        turn._("Your report is in. Your household is already on record: the contact cadre will check the "
               "report with the household."),
        turn._("This chat is not yet on your household's record, so the case number and the signature stay "
               "with the phone or chat the household reported from before: staff take the signature when "
               "they visit. To see the case here, reply 查询 with the case number and the last 4 digits of "
               "the ID."),
        _who_visits(turn, result),
    ]
    turn.say("\n".join(x for x in lines if x))
    end_flow(turn)


def _who_visits(turn: Turn, result: Result) -> str:
    case = result.case
    assert case is not None
    if turn.data.get("proxy") and case.cadre_name:  # the neighbour is told who goes to the family
        return turn._("The family's contact cadre is {name}; they will contact the family and visit with a "
                      "colleague.").format(name=case.cadre_name)
    if case.cadre_name and case.cadre_phone_masked:
        return turn._("Your contact cadre is {name} ({phone}); they will contact you and visit with "
                      "a colleague.").format(name=case.cadre_name, phone=case.cadre_phone_masked)
    if case.cadre_name:  # no phone on file: no empty brackets
        return turn._("Your contact cadre is {name}; they will contact you and visit with a "
                      "colleague.").format(name=case.cadre_name)
    return turn._("A contact cadre will be assigned within one working day and will contact you.")


@F.result(AddAttachment)
def _attachment_kept(turn: Turn, command: AddAttachment, result: Result) -> None:
    if result.ok and result.attachment_id is not None:
        turn.data.setdefault("attachments", []).append(result.attachment_id)
        turn.say(turn._("Received. It will go to the cadre with your report."))
    else:
        turn.say(annex.attachment_refusal(turn, result))
    waiting = int(turn.data.pop("reprompt_after", 0)) - 1
    if waiting > 0:
        turn.data["reprompt_after"] = waiting
    elif waiting == 0:
        reprompt(turn)  # a photo alone answers nothing: ask the question again
        if turn.data.pop("voice_only", False):
            turn.say(turn._("We cannot listen to voice messages here. If typing is hard, reply 人工 and "
                            "staff will call you."))


def _attachments(turn: Turn) -> bool:
    for index in turn.attachments():
        turn.do(AddAttachment(case_number=None, index=index))
    if turn.text:
        return False  # the words are still an answer to the current question
    turn.data["reprompt_after"] = len(turn.attachments())
    if turn.inbound is not None and any(a.kind == "voice" for a in turn.inbound.attachments):
        turn.data["voice_only"] = True  # someone who speaks rather than types: the call-back is the way on
    return True


F.attachments = _attachments


# --- shared helpers ---------------------------------------------------------------------------------


ORDER_SELF = ["describe", "confirm", "disaster", "name", "id", "size", "village", "group", "phone", "summary"]
ORDER_PROXY = ["describe", "confirm", "disaster", "relation", "proxy_name", "proxy_phone", "name", "id",
               "size", "village", "group", "phone", "summary"]


def _after(turn: Turn, done: str) -> None:
    """Go to the next unanswered step (or back to the summary after an edit)."""
    d = turn.data
    if d.get("editing") and done not in ("describe",):
        if done == "confirm" and not _skip(turn, "disaster"):  # a disaster added while editing: which one
            goto(turn, "disaster")
            return
        goto(turn, "summary")
        return
    order = ORDER_PROXY if d.get("proxy") else ORDER_SELF
    position = order.index(done) if done in order else 0
    for step in order[position + 1 :]:
        if _skip(turn, step):
            continue
        goto(turn, step)
        return
    goto(turn, "summary")


def _skip(turn: Turn, step: str) -> bool:
    d = turn.data
    facts = turn.facts
    if step == "relation":
        return bool(d.get("relation"))
    if step == "disaster":
        return "04" not in d.get("risks", []) or bool(d.get("disasters"))
    if step == "proxy_phone" and facts.known_phone:
        d["proxy_phone"] = facts.known_phone
        return True
    if step == "phone" and not d.get("proxy") and facts.known_phone:
        d["phone"] = facts.known_phone
        return True
    if step == "size":  # asked again when the household goes back over it, as every other question
        return bool(d.get("size")) and bool(d.get("size_said"))
    if step == "group":
        return bool(d.get("group")) and bool(d.pop("group_said", False))
    return False


def _backed_out(turn: Turn) -> None:
    """0 past the first question: the report is set aside at the first question not answered yet, with the
    steps before it to go back through, so 9 goes on where the household had got (it went on from the
    description, and every answer kept was asked again)."""
    d = turn.data
    if turn.step == "open_case":  # 9 asks again whether to add the words to the open case
        return
    order = ORDER_PROXY if d.get("proxy") else ORDER_SELF
    history: list[str] = []
    for step in order[:-1]:
        if not _has_answer(turn, step):
            turn.state.update(step=step, history=history)
            return
        if _was_asked(turn, step):
            history.append(step)
    turn.state.update(step="summary", history=history)


F.backed_out = _backed_out
# answers only given after the read-back (a relation or a size may come with the description itself)
_AFTER_CONFIRM = ("proxy_name", "proxy_phone", "name", "id", "village", "group", "phone")


def _has_answer(turn: Turn, step: str) -> bool:
    """Whether the report holds the answer to `step`'s question (or needs none: _skip)."""
    d = turn.data
    if step == "describe":
        return bool(d.get("text"))
    if step == "confirm":  # read back and agreed: a later question was answered
        return bool(d.get("text")) and (any(key in d for key in _AFTER_CONFIRM)
                                        or ("size" in d and not d.get("size_said")))
    if step in ("disaster", "relation", "proxy_phone", "phone") and _skip(turn, step):
        return True
    return step in d and step != "relation"  # a relation answered is never None: _skip has it


def _was_asked(turn: Turn, step: str) -> bool:
    """Whether going on would have asked `step`'s question (not one the report fills by itself)."""
    d = turn.data
    if step == "disaster":
        return "04" in d.get("risks", [])
    if step == "size":
        return not d.get("size_said")
    if step in ("phone", "proxy_phone"):
        return not (turn.facts.known_phone and (step == "proxy_phone" or not d.get("proxy")))
    return True


def _bad(turn: Turn, message: str, choices: list[str] | None = None) -> None:
    """A friendly re-ask (with `choices`, else 0 返回); after a few misses, offer a person as well."""
    count = turn.fail()
    if count >= MAX_FAILS:
        message += "\n" + turn._("If it is hard to type, reply 人工 and staff will call you.")
    turn.say(message, choices if choices is not None else ["0 " + turn._("Back")])


def _phone(turn: Turn) -> str | None:
    for candidate in [*turn.parse.phones, turn.raw]:
        phone = normalize_phone(candidate)
        if phone and _MOBILE.match(phone):
            return phone
    return None
