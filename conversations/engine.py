"""The dialogue engine: (state, inbound, Parse, facts) -> (new state, replies, commands). No I/O.

State is a plain JSON-serialisable dict kept per (channel, user_key) by the service:
`{"v": 1, "flow": str|None, "step": str|None, "data": {...}, "history": [steps], "fails": {...},
"paused": {...}|None}`. Commands are applied by the service, which hands each result back through
`resume`, so a flow can go on with what the case store answered (a case number, a refusal).
Every call ends with at least one reply: never silence, never a dead end.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, NamedTuple

from conversations.commands import BindStaff, Command, Result
from conversations.flows import cases as case_flows
from conversations.flows import consent, human, report
from conversations.flows.common import (
    BACK_WORDS,
    CANCEL_WORDS,
    FLOWS,
    GO_ON_WORDS,
    HELP_WORDS,
    HUMAN_WORDS,
    KEYWORDS,
    MENU_WORDS,
    NO_WORDS,
    PARTICLES,
    STATE_VERSION,
    STATUS_WORDS,
    SUPPLEMENT_WORDS,
    UNKNOWN_WORDS,
    WITHDRAW_REPORT_WORDS,
    YES_WORDS,
    Facts,
    Turn,
    asked_for,
    back,
    goes_back,
    matches,
    normalize,
    number_choice,
    pause_flow,
    reprompt,
    resume_paused,
)
from conversations.flows.menu import MENU, RESUME_CHOICE, show_menu
from conversations.messages import InboundMessage, Reply
from nlu.types import Parse

__all__ = ["Facts", "Step", "advance", "ask_again", "expire", "new_state", "remember_choices", "resume"]

_CASE_AT_IDLE = re.compile(r"^(?:SB|sb|Sb)\s?[0-9A-Za-z]{4}\s?[0-9A-Za-z]{4}(?:\s+\d{3}[\dXx])?$")
_CANNOT_TYPE = ("不会打字", "打不了字", "不识字", "不认识字", "看不懂字")  # a call-back is the way forward
# reporting for a parent or another relative, said so (我帮我娘报, 替我爸申报, 我是她崽): not the reporter's
# own household, so the proxy report asks who they are to it (a son or daughter is a choice)
_KIN = r"(?:娘|妈|妈妈|母亲|爸|爸爸|父亲|爹|爷爷|奶奶|外公|外婆|姥姥|姥爷|公公|婆婆|岳父|岳母|老人家?)"
_FOR_FAMILY = re.compile(rf"(?:帮|替|给|代)我?(?:家)?{_KIN}.{{0,6}}报|"
                         r"我是(?:他|她)(?:的|家)?(?:崽|儿子|女儿|闺女|孙子|孙女|媳妇|女婿|侄子|侄女|亲戚)")
_POLITE = frozenset({"谢谢", "谢谢你", "谢谢您", "多谢", "感谢", "好", "好的", "嗯", "嗯嗯", "哦", "知道了",
                     "晓得了", "晓得哒", "行", "收到", "ok"})
_HAN = re.compile(r"[\u3400-\u9fff]")
_A_PERSON = ("人工", "叫个人", "找个人", "来个人", "找工作人员", "叫干部", "找干部")  # in a short message
# an OK said in passing (after a reply that needed none) is not a wish to sign: 我同意签字 is
_ACKNOWLEDGING = frozenset({"好", "好的", "是", "是的", "对", "对的", "可以", "行", "嗯", "嗯嗯", "ok"})
_CASE_IN_TEXT = re.compile(r"SB\s?([0-9A-Z]{4}\s?[0-9A-Z]{4})(?![0-9A-Z])")
_BIND = re.compile(r"^(?:绑定|bind|/bind)\s*(\d{6,8})$", re.IGNORECASE)
# 'why not us?' about a decision (为什么不给我, 为啥不批, 凭什么不给, 怎么没评上): the case's answer, and
# its reason. Read here, not by the parser: 我老伴住院了，为什么不给我报销 names a hardship, a report
# (为啥子, 咋个, 何解: 'why' as Hunan and its neighbours say it)
_WHY_NOT = re.compile(r"(?:为什么|为啥子?|为何|凭什么|凭啥子?|咋个?|怎么|么子|何解)(?:还|就|又|都)?"
                      r"(?:不|没有?|冇)(?:给|批|通过|评|选|帮|纳入|享受|同意|算)")



class Step(NamedTuple):
    """What one engine call gives back."""

    state: dict[str, Any]
    replies: list[Reply]
    commands: list[Command]


def new_state() -> dict[str, Any]:
    return {"v": STATE_VERSION, "flow": None, "step": None, "data": {}, "history": [], "fails": {}}


def _copied(value: Any) -> Any:
    """A deep copy of JSON-shaped data (the state is stored as JSON): dicts, lists and tuples are rebuilt,
    anything else is a scalar and shared. A third of copy.deepcopy's time, which keeps a memo and looks
    up a copier for every value; this ran two or three times a message."""
    kind = type(value)
    if kind is dict:
        return {k: _copied(v) for k, v in value.items()}
    if kind is list:
        return [_copied(v) for v in value]
    if kind is tuple:
        return tuple(_copied(v) for v in value)
    return value


def _turn(state: dict[str, Any] | None, facts: Facts, parse: Parse, inbound: InboundMessage | None) -> Turn:
    current = _copied(state) if state else new_state()
    if current.get("v") != STATE_VERSION:
        current = new_state()
    return Turn(state=current, facts=facts, parse=parse, inbound=inbound)


def _finish(turn: Turn) -> Step:
    if not turn.replies and not turn.commands:  # never silence
        turn.say(turn._("Sorry, I did not understand that."))
        show_menu(turn)
    return Step(turn.state, turn.said(), turn.commands)


def advance(state: dict[str, Any] | None, inbound: InboundMessage, parse: Parse, facts: Facts) -> Step:
    """One inbound message: the next state, the replies to send and the commands to apply."""
    turn = _turn(state, facts, parse, inbound)
    offered = turn.state.pop("offered", None)
    if offered and number_choice(turn.raw) is None:
        turn.chosen = _typed_choice(turn, offered)
    if turn.flow is not None:
        turn.state.pop("expired", None)
    if turn.flow is not None and turn.step is not None and turn.flow in FLOWS:
        if not _navigate(turn):
            if not turn.raw.strip() and not turn.attachments() and not _location(turn):
                turn.say(_unreadable(turn))
                reprompt(turn)
            else:
                flow = FLOWS[turn.flow]
                if not (turn.attachments() and flow.attachments is not None and flow.attachments(turn)):
                    flow.steps[turn.step](turn)
    else:
        turn.state.update(flow=None, step=None)
        _idle(turn)
    return _finish(turn)


def _unreadable(turn: Turn) -> str:
    """What a message with nothing we can read gets (a sticker, a shared contact card): what we can read."""
    return turn._("We could not read that. We can read typed words and keep photos, but not stickers. "
                  "Please type a few words, or reply 人工 and staff will call you.")


def remember_choices(state: dict[str, Any], replies: Sequence[Reply]) -> dict[str, Any]:
    """The state, with the numbered choices of the last reply that offered any, by their words: the next
    message may type the words of a choice instead of its number (不对，我重新说, 从列表里选, 邻居)."""
    for reply in reversed(replies):
        if reply.choices:
            offered = {}
            for choice in reply.choices:
                numbered = _NUMBERED.match(choice)
                if numbered is not None and len(key := _label_key(numbered.group(2))) >= 2:
                    offered[key] = numbered.group(1)
            if offered:
                return {**state, "offered": offered}
            break
    return state


_ANSWER_WORDS = YES_WORDS | NO_WORDS | UNKNOWN_WORDS  # answers of their own, whatever a choice says
_NUMBERED = re.compile(r"^(\d{1,2}) (.+)$")
_NOT_IN_LABEL = re.compile(r"[\s,，。.、;；:：!！?？()（）\"“”'‘’]+")


def _label_key(text: str) -> str:
    return _NOT_IN_LABEL.sub("", normalize(text)).rstrip(PARTICLES)


def _typed_choice(turn: Turn, offered: dict[str, str]) -> str | None:
    """The number of the choice whose words the message is, or holds (有错 for 有错，要改, 亲戚 for 其他亲戚)
    when only one choice's do. Not part of a choice's words when the message says something of its own: a
    hardship (找工作 is not 找工作人员) or a yes, no or none (没有 is not 没有参加医保)."""
    key = _label_key(turn.raw)
    if len(key) < 2:
        return None
    if key in offered:
        return offered[key]
    parse = turn.parse
    if turn.flow is None or parse.risks or parse.guarantees or parse.disasters or key in _ANSWER_WORDS:
        return None  # the menu: its words whole (找工作 is not 找工作人员); the parser reads the rest
    request = asked_for(key) is not None
    numbers = {number for label, number in offered.items()
               if key in label and (not request or _leads_the_request(key, label))}
    return numbers.pop() if len(numbers) == 1 else None


_REQUEST_WORDS = tuple(word for words, _ in KEYWORDS for word in words)


def _leads_the_request(key: str, label: str) -> bool:
    """Whether a request word typed alone stands where the choice's own request begins: 补充 is 补充到这个案件
    and 替别人 is 重新填一份（替别人申报）, but 申报 is not 替别人申报 (another family's report: the household
    asked for its own)."""
    first = min(label.find(word) for word in _REQUEST_WORDS if word in label)
    return label.find(key) == first


def resume(state: dict[str, Any], command: Command, result: Result, facts: Facts) -> Step:
    """Go on after the service applied `command` and got `result`."""
    turn = _turn(state, facts, Parse(), None)
    handler = FLOWS[turn.flow].results.get(type(command)) if turn.flow in FLOWS else None
    if handler is not None:
        handler(turn, command, result)
    elif isinstance(command, BindStaff):
        _bound(turn, result)
    elif not result.ok:
        turn.say(turn._("Sorry, that did not work. Please try again later, or reply 7 to talk to a person."))
        show_menu(turn)
    return Step(turn.state, turn.said(), turn.commands)


def ask_again(state: dict[str, Any] | None, facts: Facts) -> Step:
    """The question of the flow under way, asked again (after a pause the household did not see: an SMS
    number opted back in); nothing when no flow is under way. A question a command produces (annex 1, filled
    in by FillAnnex) comes as that command: applied and handed to `resume` as a message's commands are."""
    turn = _turn(state, facts, Parse(), None)
    if turn.flow not in FLOWS or turn.step not in FLOWS[turn.flow or ""].prompts:
        return Step(turn.state, [], [])
    reprompt(turn)
    return Step(turn.state, turn.said(), turn.commands)


def expire(state: dict[str, Any] | None, facts: Facts) -> Step:
    """The dialogue waited too long: set the unfinished flow aside with a gentle note."""
    turn = _turn(state, facts, Parse(), None)
    if turn.flow is None:
        return Step(turn.state, [], [])
    pause_flow(turn, unanswered=True)
    turn.state["expired"] = True  # the note comes with the answer to the message that found it expired
    return Step(turn.state, turn.said(), turn.commands)


# --- navigation that works at every step ---------------------------------------------------------------


def _navigate(turn: Turn) -> bool:
    text = turn.raw
    if goes_back(text):
        if not back(turn):
            flow = FLOWS.get(turn.flow or "")
            if flow is not None and flow.backed_out is not None:
                flow.backed_out(turn)
            pause_flow(turn)
            show_menu(turn)
        return True
    if matches(text, MENU_WORDS):
        pause_flow(turn)
        show_menu(turn)
        return True
    if matches(text, CANCEL_WORDS):  # 算了 may be regretted: what was typed is set aside, not thrown away
        pause_flow(turn)
        if turn.state.get("paused"):
            turn.say(turn._("All right, we stop here. What you typed is kept: reply 9 to go on with it."))
        else:
            turn.say(turn._("All right, cancelled."))
        show_menu(turn)
        return True
    if turn.flow != "human" and (matches(text, HUMAN_WORDS) or _asks_for_a_person(turn)):
        pause_flow(turn)
        human.start(turn)
        return True
    # a case flow asks for its number itself; at its other questions (the name that signs) 查询 is asked for
    if matches(text, STATUS_WORDS) and not (turn.flow == "case" and turn.step in ("ask_case", "ask_last4")):
        pause_flow(turn)
        case_flows.start(turn, "status")
        return True
    action = _case_action_asked(turn)
    if action is not None:  # 补充, 撤回申报 alone: as 查进度, the flow is set aside and the action starts
        pause_flow(turn)
        case_flows.start(turn, action)
        return True
    if matches(text, HELP_WORDS):
        turn.say(turn._("Answer the question below. Reply 0 to go back a step, \"菜单\" for the menu, "
                        "or \"人工\" to talk to a person."))
        reprompt(turn)
        return True
    return False


def _case_action_asked(turn: Turn) -> str | None:
    """'supplement' or 'withdraw' when the whole message asks for it (补充, 撤回申报), unless it is the
    answer of the flow under way (撤回 confirms a withdrawal, of a case or of the authorization)."""
    if matches(turn.raw, SUPPLEMENT_WORDS):
        action = "supplement"
    elif matches(turn.raw, WITHDRAW_REPORT_WORDS) and turn.flow != "consent":
        action = "withdraw"
    else:
        return None
    if turn.flow == "case" and turn.data.get("purpose") == action:  # already doing it
        return None
    return action


def _asks_for_a_person(turn: Turn) -> bool:
    """A short message that asks for a person in other words (我要人工, 帮我叫个人, 不会打字); in a longer one
    (a description that says 有事打我电话) the words are what happened, not a request."""
    text = normalize(turn.raw)
    if len(text) > 12 or not _HAN.search(text):  # in words: a case number or a code is an answer here
        return False
    return turn.parse.intent == "human" or any(w in text for w in (*_CANNOT_TYPE, *_A_PERSON))


def _location(turn: Turn) -> bool:
    return turn.inbound is not None and any(a.kind == "location" for a in turn.inbound.attachments)


def _start(turn: Turn, action: str) -> None:
    if action == "report":
        report.start(turn, proxy=False)
    elif action == "proxy":
        report.start(turn, proxy=True)
    elif action == "human":
        human.start(turn)
    elif action == "withdraw_consent":
        consent.start(turn)
    else:
        case_flows.start(turn, action)


def _idle(turn: Turn) -> None:
    """No flow under way: a menu number, a keyword, a binding code, or free text read by the parser."""
    text = normalize(turn.raw)
    parse = turn.parse
    expired = bool(turn.state.pop("expired", False))
    if expired:
        turn.say(turn._("We had not heard from you for a while, so we paused where you were. "
                        "Nothing you sent is lost."))
    bind = _BIND.match(text)
    if bind:
        turn.do(BindStaff(code=bind.group(1)))
        return
    if _CASE_AT_IDLE.match(turn.raw.strip()):  # a case number alone: they want to know about it
        case_flows.start_with_number(turn)
        return
    if len(text) <= 40 and _with_case_number(turn, text):
        return
    if turn.attachments() and turn.facts.linked_case and turn.facts.linked_case_open:
        # photos or a voice message from the household's own chat, its case open (right after filing, say):
        # kept with the case, words sent along too (it was 'choose 4 and send it again')
        case_flows.add_files(turn, turn.facts.linked_case)
        return
    if turn.state.get("paused") and len(text) <= 6 and any(w in text for w in GO_ON_WORDS) \
            and resume_paused(turn):  # '继续', '接着办': the menu's 9 in words
        return
    if matches(text, BACK_WORDS) and text != "0":  # '返回' with nowhere to go back to: the menu
        show_menu(turn)
        return
    choice = number_choice(text) if len(text) <= 12 else None
    if choice is not None:
        if 1 <= choice <= len(MENU):
            _start(turn, MENU[choice - 1][0])
            return
        if choice == RESUME_CHOICE and resume_paused(turn):
            return
        show_menu(turn, turn._("Please reply with one of the numbers below."))
        return
    hardship = bool(parse.risks or parse.guarantees or parse.disasters)
    if matches(text, HUMAN_WORDS) or any(w in text for w in _CANNOT_TYPE) or (
            parse.intent == "human" and not hardship):  # 老伴住院，有事打我电话: the report, phone and all
        human.start(turn)
        return
    if matches(text, MENU_WORDS) or matches(text, HELP_WORDS) or parse.intent == "help":
        show_menu(turn)
        return
    if _FOR_FAMILY.search(text):  # 我帮我娘报: another family's report, with what happened if it is said
        report.start(turn, proxy=True, description=turn.raw if hardship else None)
        return
    if len(text) <= 12:
        for words, action in KEYWORDS:
            if any(w in text for w in words):
                _start(turn, action)
                return
    if matches(text, CANCEL_WORDS) or parse.intent == "cancel":
        if turn.state.get("paused"):  # 取消 said twice: the answers set aside stay (they expire alone)
            turn.say(turn._("All right, we stop here. What you typed is kept: reply 9 to go on with it."))
        else:
            turn.say(turn._("All right. Write to us any time."))
        show_menu(turn)
        return
    if not text and turn.inbound is not None and any(a.kind == "voice" for a in turn.inbound.attachments):
        turn.say(turn._("We got your voice message, but cannot listen to it here. Please type a few words "
                        "about what happened, or reply 人工 and staff will call you."))
        show_menu(turn)
        return
    if not text and turn.attachments():
        turn.say(turn._("Thank you. To add this to your report, choose 4 and send it again."))
        show_menu(turn)
        return
    if turn.inbound is not None and turn.inbound.text is None and not turn.inbound.attachments:
        turn.say(_unreadable(turn))  # a sticker: no words, nothing kept
        show_menu(turn)
        return
    if parse.intent == "status":
        case_flows.start(turn, "status")
        return
    if parse.intent == "consent" and turn.facts.linked_case_unsigned and not matches(text, _ACKNOWLEDGING):
        case_flows.start(turn, "sign")
        return
    if parse.risks or parse.guarantees or parse.disasters or parse.intent == "report":
        # a difficulty named in a few words (房子漏雨) is the description; a bare 申报 is not
        said = parse.risks or parse.guarantees or parse.disasters or len(text) > 4
        report.start(turn, proxy=parse.relation is not None, description=turn.raw if said else None)
        return
    if len(text) <= 30 and _WHY_NOT.search(text):  # after a refusal: its reason and how to ask for a review
        case_flows.start(turn, "status", why=True)
        return
    if expired:  # not a new request: most likely the answer to where they were; a greeting is no answer
        if not _go_on(turn, answer=parse.intent != "greeting"):  # 好的 may be a yes: an answer
            show_menu(turn)  # the gentle note was said: just the choices, no "not understood"
        return
    if matches(text, _POLITE):  # 谢谢, 好, 嗯 after an answer: no "I did not understand"
        show_menu(turn, turn._("Anything else? Reply with a number."))
        return
    if parse.intent == "greeting" or not text:
        show_menu(turn, turn._("Hello! This is the hardship report service. "
                               "Tell us what happened, or reply with a number."))
        return
    turn.say(turn._("Sorry, I did not understand that. You can tell us in your own words what difficulty "
                    "your family has, or choose a number."))
    show_menu(turn)


def _with_case_number(turn: Turn, text: str) -> bool:
    """'签字 SB7K2M9QXA', '我要查询，案件号SB7K2M9QXA': what to do, and the case it is for, in one message."""
    found = _CASE_IN_TEXT.search(text.upper())
    action = asked_for(text)
    if found is None or action not in ("status", "sign", "supplement"):
        return False
    number = "SB" + found.group(1).replace(" ", "")
    if turn.facts.linked_case == number:  # the household's own case: nothing to prove
        case_flows.start(turn, action)
    else:
        case_flows.start_with_number(turn, action)
    return True


def _go_on(turn: Turn, *, answer: bool = True) -> bool:
    """Take the paused flow up again with this message as the answer to its question (after an expiry), or
    asking its question again (`answer` off: 你好, 在吗 a day later answer nothing)."""
    paused = turn.state.get("paused") or {}
    flow = FLOWS.get(paused.get("flow") or "")
    if flow is None or paused.get("step") not in flow.steps or not turn.raw.strip():
        return False
    resume_paused(turn, ask_again=False)
    turn.say(turn._("Let us go on where you were."))
    if answer:
        flow.steps[paused["step"]](turn)
    else:
        reprompt(turn)
    return True


def _bound(turn: Turn, result: Result) -> None:
    if result.ok:
        turn.say(turn._("Done: this chat is now linked to your staff account ({name}). "
                        "Reminders will come here.").format(name=result.data.get("name", "")))
    elif result.reason == "rate_limited":
        turn.say(turn._("Too many tries. Please wait {minutes} minutes and try again.").format(
            minutes=result.retry_after_minutes or 60))
    else:
        turn.say(turn._("That binding code is not valid or has expired. Ask for a new code in the console."))
