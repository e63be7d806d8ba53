"""What every flow shares: the Turn (one engine step in progress), facts, input readers, navigation."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from conversations.commands import Command
from conversations.i18n import Translator, translator
from conversations.messages import InboundMessage, Reply
from nlu.names import surnames
from nlu.normalize import to_simplified
from nlu.types import Parse, Place

DOMAIN = "conversations"
STATE_VERSION = 1
MAX_FAILS = 3  # after this many misunderstood answers at one step, offer a person

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9, "十": 10}
_LEADING_NUMBER = re.compile(r"^\s*(\d{1,3})(?!\d)")
# a number with a measure word right after it counts something ('2个孩子', '3口人'): it is not a choice
_QUANTITY = re.compile(r"^\s*\d{1,3}\s*[个口人位名岁块元万千百亩间年月日天次号家户斤只头多]")
GO_ON_WORDS = ("接着", "继续", "上次")  # go on with what was set aside
_CHOOSING = re.compile(r"^(我?选择?|我要|回复)\s*")  # '我选1', '选2': the number chosen

BACK_WORDS = frozenset({"0", "返回", "上一步", "back", "/back"})
MENU_WORDS = frozenset({"菜单", "主菜单", "目录", "menu", "/menu", "/start", "start", "开始"})
CANCEL_WORDS = frozenset({"取消", "退出", "不办了", "算了", "cancel", "/cancel"})
HUMAN_WORDS = frozenset({"人工", "转人工", "人工服务", "客服", "找人", "打电话", "/human"})
HELP_WORDS = frozenset({"帮助", "?", "？", "help", "/help", "怎么办", "不会"})
DONE_WORDS = frozenset({"好了", "完了", "发完了", "完成", "没有了", "没了", "结束", "done"})
YES_WORDS = frozenset({"同意", "我同意", "同意签字", "是", "是的", "对", "对的", "好", "好的", "可以", "确定",
                       "嗯", "嗯嗯", "要得", "对头", "是滴", "好滴", "对对", "对对对", "好嘞", "行",
                       "确认", "都对", "没错", "没问题", "yes", "y", "ok"})
NO_WORDS = frozenset({"不同意", "不", "不是", "不对", "不要", "不签", "否", "错", "错了", "有错", "no", "n"})
UNKNOWN_WORDS = frozenset({"不知道", "不清楚", "不记得", "没有", "无", "不晓得", "晓不得", "没得", "冇得"})
# withdrawing (a case, a signature) ends something: only 1 or words that say so, not a passing 好 or 对
WITHDRAW_WORDS = frozenset({"确定", "确定撤回", "确认撤回", "撤回", "要撤回"})
# what a short message asks for when no flow is under way (a word anywhere in it); never a person's name
KEYWORDS: list[tuple[tuple[str, ...], str]] = [
    (("撤回授权", "撤销授权", "取消授权", "收回授权", "撤回签字", "撤销签字", "取消签字", "撤回同意"),
     "withdraw_consent"),
    (("代报", "代为申报", "替别人", "帮别人", "代申报"), "proxy"),
    (("查询", "查进度", "进度", "状态", "查一下", "结果"), "status"),
    (("补充", "补材料", "上传", "发照片"), "supplement"),
    (("签字", "签名", "补签", "授权"), "sign"),
    (("撤回", "撤销", "不申报了"), "withdraw"),
    (("申报", "报困难", "我要报"), "report"),
]


def asked_for(text: str) -> str | None:
    """What a short message asks for, read as the menu reads it (KEYWORDS, the first kind whose word it
    holds): 'report' for 申报, 'proxy' for 替别人申报; None when it names none."""
    return next((action for words, action in KEYWORDS if any(w in text for w in words)), None)


# ... and in the middle of a flow, the whole message: a case's progress asked for (the flow is set aside)
STATUS_WORDS = frozenset({"查进度", "查询进度", "查看进度", "进度", "查进展", "进展", "查询", "查状态",
                          "状态", "查结果", "/status"})
# ... adding to a case, and withdrawing one: the whole message, and only these words (补充 in a sentence is
# part of an answer)
SUPPLEMENT_WORDS = frozenset({"补充", "补充材料", "补材料", "补充资料", "我要补充", "/supplement"})
WITHDRAW_REPORT_WORDS = frozenset({"撤回", "撤回申报", "撤销申报", "我要撤回", "/withdraw"})
_NAME = re.compile(r"^[\u3400-\u9fff·•A-Za-z ]{2,20}$")
_NAME_LEAD = re.compile(r"^(我的名字(叫|是)|名字(叫|是)|我叫|俺叫|我是|户主(叫|是)|他叫|她叫|叫|姓名[:：]?)")
# answers that are not names, though written in characters ('好的' after '请问您的姓名？')
_NOT_A_NAME = YES_WORDS | NO_WORDS | UNKNOWN_WORDS | frozenset(
    {"知道", "姓名", "名字", "户主", "本人", "我", "我自己"})
_PLACE_ENDS = ("村", "镇", "乡", "县", "市", "组", "社区", "街道")
# in answers to a name question that are not names: fillers, thanks, dialect for 'what?', 'I don't have',
# 'I don't know', a reference to someone (张三的崽), words about the ID card or a person to call
_NOT_IN_A_NAME = re.compile(r"你好|您好|谢谢|多谢|谢了|感谢|辛苦|麻烦|晓得|知道|明白|收到|要得|么子|什么|"
                            r"冇得|没得|没有|身份证|人工|打字|电话|算了|等一下|等下|好的|本人|就是|自己|同志|"
                            r"老伴|老婆|老公|媳妇|堂客|老倌|老头|我姓|嗯|喂|啊|呢|吗|吧|哒|咯|的|了|嘞|滴|哦|\?|？")
_CASE_NUMBER_LIKE = re.compile(r"^(?:SB|sb|Sb)[0-9A-Za-z]{8}$")
# what people are called, not their names: 刘大爷, 王奶奶, 老王, 小李
_FORM_OF_ADDRESS = re.compile(r"^([\u4e00-\u9fff](大爷|大娘|大妈|大伯|大叔|大婶|大哥|大姐|奶奶|爷爷|婆婆|"
                              r"阿姨|叔叔|伯伯|老汉|师傅|嫂子|老师|姐|哥|叔|婶|伯)|[老小阿][\u4e00-\u9fff])$")


def clean_name(raw: str) -> str | None:
    """A name as typed, without spaces and end marks; None unless 2-20 characters of a name."""
    value = "".join(unicodedata.normalize("NFKC", raw).split()).strip("。.，,!！")
    return value if _NAME.match(value) else None


def person_name(turn: Turn) -> str | None:
    """The name in an answer to a name question: '张三', '我叫张三', '我叫张三，今年七十了'; None for an
    answer that is not one ('好的', '不知道')."""
    name = turn.parse.person_name or clean_name(_NAME_LEAD.sub("", normalize(turn.raw)))
    if name is not None:  # 張三 as the ID card writes it (张三): its family name is in the table, and the
        name = to_simplified(name)  # name on record and the one signed later compare alike (as_typed below)
    if name is None or name in _NOT_A_NAME or name.endswith(_PLACE_ENDS):  # 中湖村: a place, not a person
        return None
    if any(word in name for words, _ in KEYWORDS for word in words):  # 查进度, 签字: asked for, not a name
        return None
    if _NOT_IN_A_NAME.search(name) or _CASE_NUMBER_LIKE.match(name) or _said_twice(name):
        return None
    if turn.parse.intent in ("human", "help", "greeting", "cancel") and not turn.parse.person_name:
        return None
    if not turn.parse.person_name and not looks_like_a_name(name):  # 要得, 明白了: not a name, unless
        if turn.data.get("name_tried") != name:                     # typed again as it was (a surname
            turn.data["name_tried"] = name                          # the table lacks)
            return None
    turn.data.pop("name_tried", None)
    return as_typed(name, turn.raw)


def _simplified_set(char: str) -> bool:
    """Whether a character is one of GB 2312's, the simplified set (於, 乾 and 甯 are names there)."""
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def as_typed(name: str, raw: str) -> str:
    """`name`, read simplified from the answer `raw`, in the characters typed: OpenCC reads running text,
    where 於 is 于, 乾 is 干 (乾燥) and 甯 is 宁, but in a name each is a name of its own (於明, 张乾). A
    character of the simplified set stays as typed; only one outside it (張, 偉) is kept simplified."""
    typed = "".join(unicodedata.normalize("NFKC", raw).split())
    read = to_simplified(typed)
    at = read.find(name)
    if at < 0 or len(read) != len(typed):
        return name
    typed_name = typed[at:at + len(name)]
    return "".join(t if _simplified_set(t) else s for t, s in zip(typed_name, name, strict=True))


def looks_like_a_name(text: str) -> bool:
    """A family name and one to three more characters (王五, 欧阳娜娜), or a name written with ·
    (阿依古丽·买买提)."""
    if "·" in text or "•" in text:
        return True
    single, compound = surnames()
    family = 2 if text[:2] in compound else 1 if text[:1] in single else 0
    return family > 0 and 2 <= len(text) <= family + 3


def _said_twice(text: str) -> bool:
    """'好的好的', '嗯嗯': a word said twice over (not 丽丽, a name of one character twice)."""
    half = len(text) // 2
    return len(text) >= 4 and len(text) % 2 == 0 and text[:half] == text[half:]


def form_of_address(name: str) -> bool:
    """'刘大爷', '老王': how someone is called, not the name on their ID card."""
    return bool(_FORM_OF_ADDRESS.match(name))


class PlaceDirectory(Protocol):
    """The divisions known to the parser, browsed from the top (nlu.Gazetteer; in memory, no I/O)."""

    def children(self, code: str | None) -> Sequence[Place]: ...


@dataclass(frozen=True)
class Facts:
    """What the service knows about this contact, read before the engine runs (the engine does no I/O)."""

    channel: str
    now: datetime
    locale: str = "zh_CN"
    known_phone: str | None = None  # the sender's number on SMS
    linked_case: str | None = None  # the latest case of the household this identity is linked to
    linked_case_open: bool = False
    linked_case_unsigned: bool = False
    linked_case_refused: bool = False  # not approved: a person asked for is asked for its review (复核)
    phone_on_record: str | None = None  # the linked household's phone, masked (人工 offers to call it)
    annex_version: str = ""
    annex_text: str = ""
    hotline: str = "12317"
    places: PlaceDirectory | None = None  # to choose a village from a list when its name was not found

    @property
    def sms(self) -> bool:
        return self.channel == "sms"


@dataclass
class Turn:
    """One engine step in progress: the state being changed, the replies and commands collected."""

    state: dict[str, Any]
    facts: Facts
    parse: Parse
    inbound: InboundMessage | None = None
    replies: list[Reply] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # lines the next reply starts with (one message, not two)
    chosen: str | None = None  # the number of the choice whose words the message typed (engine.advance)

    @property
    def t(self) -> Translator:
        return translator(DOMAIN, self.facts.locale)

    def _(self, message: str) -> str:
        return self.t.gettext(message)

    @property
    def raw(self) -> str:
        if self.chosen is not None:
            return self.chosen
        return (self.inbound.text or "") if self.inbound is not None else ""

    @property
    def text(self) -> str:
        """The message text folded (full-width to half-width), trimmed, lower-cased for ASCII."""
        return normalize(self.raw)

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.state.setdefault("data", {})
        return data

    @property
    def flow(self) -> str | None:
        return self.state.get("flow")

    @property
    def step(self) -> str | None:
        return self.state.get("step")

    def say(self, text: str, choices: tuple[str, ...] | list[str] = ()) -> None:
        if self.notes:
            text = "\n".join([*self.notes, text])
            self.notes.clear()
        self.replies.append(Reply(text=text, choices=tuple(choices)))

    def note(self, text: str) -> None:
        """A line for the top of the next reply (an answer taken, said with the next question)."""
        self.notes.append(text)

    def said(self) -> list[Reply]:
        """The replies of this step, a note no reply took included (never lost)."""
        if self.notes:
            self.replies.append(Reply(text="\n".join(self.notes)))
            self.notes.clear()
        return self.replies

    def do(self, command: Command) -> None:
        self.commands.append(command)

    def fail(self) -> int:
        """Count one misunderstood answer at the current step; returns the count so far."""
        fails: dict[str, int] = self.state.setdefault("fails", {})
        key = f"{self.flow}.{self.step}"
        fails[key] = fails.get(key, 0) + 1
        return fails[key]

    def attachments(self) -> list[int]:
        """Indexes of the inbound message's photo, voice and document attachments."""
        if self.inbound is None:
            return []
        return [i for i, a in enumerate(self.inbound.attachments) if a.kind in ("photo", "voice", "document")]


PARTICLES = "哦啊哒咯呀嘛啦呢吧的了"  # said after an answer: 不对哦, 错哒, 不是的


def matches(text: str, words: frozenset[str]) -> bool:
    """The message is one of `words`, maybe with a particle after it (不对哦, 是的 as 是)."""
    value = normalize(text)
    return value in words or (len(value) > 1 and value.rstrip(PARTICLES) in words)


_BACK_BUTTON = re.compile(r"0\s*(?:返回|上一步|back)")


def goes_back(text: str) -> bool:
    """0, 返回 or 上一步, or the keyboard's '0 返回' button (a button sends its label as the message)."""
    return matches(text, BACK_WORDS) or _BACK_BUTTON.fullmatch(normalize(text)) is not None


def normalize(text: str) -> str:
    """The answer as the questions read it: full-width folded, trimmed of end marks, ASCII lower-cased and
    traditional characters simplified (對 is 对, 簽字 is 签字: the words every question knows)."""
    value = unicodedata.normalize("NFKC", text).strip()
    value = value.strip("。.!！,，")
    return value.lower() if value.isascii() else to_simplified(value)


def number_choice(text: str) -> int | None:
    """'2', '２', '2 不对', '二' -> 2; anything else None, a quantity too ('2个孩子都在读书')."""
    value = _CHOOSING.sub("", normalize(text))
    m = _LEADING_NUMBER.match(value)
    if m and not _QUANTITY.match(value):
        return int(m.group(1))
    if len(value) == 1 and value in _CN_DIGITS:
        return _CN_DIGITS[value]
    return None


def small_number(text: str) -> int | None:
    """A household size written as digits or Chinese numerals: '4', '4口人', '四口', '十二个人'."""
    value = normalize(text)
    m = re.search(r"\d{1,3}", value)
    if m:
        return int(m.group(0))
    chars = [c for c in value if c in _CN_DIGITS]
    if not chars:
        return None
    run = "".join(chars[:3])
    if run == "十":
        return 10
    if run.startswith("十"):
        return 10 + _CN_DIGITS[run[1]]
    if len(run) >= 2 and run[1] == "十":
        return _CN_DIGITS[run[0]] * 10 + (_CN_DIGITS[run[2]] if len(run) > 2 else 0)
    return _CN_DIGITS[run[0]]


def numbered(options: list[str]) -> list[str]:
    """['对', '不对'] -> ['1 对', '2 不对']."""
    return [f"{i} {label}" for i, label in enumerate(options, start=1)]


Handler = Callable[[Turn], None]


ResultHandler = Callable[[Turn, Any, Any], None]  # (turn, command, result)


@dataclass
class Flow:
    """A dialogue flow: a prompt and an answer handler per step, and handlers for command results."""

    name: str
    prompts: dict[str, Handler] = field(default_factory=dict)
    steps: dict[str, Handler] = field(default_factory=dict)
    results: dict[type, ResultHandler] = field(default_factory=dict)
    backs: dict[str, Callable[[Turn], bool]] = field(default_factory=dict)  # a step's own "0" (True: done)
    attachments: Callable[[Turn], bool] | None = None  # takes a message's attachments; True = done
    backed_out: Handler | None = None  # "0" leaves the flow from its first question: where 9 goes on from

    def prompt(self, step: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self.prompts[step] = fn
            return fn
        return register

    def on(self, step: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self.steps[step] = fn
            return fn
        return register

    def back(self, step: str) -> Callable[[Callable[[Turn], bool]], Callable[[Turn], bool]]:
        """A step that goes back within itself first (a list's levels); False hands "0" to the history."""
        def register(fn: Callable[[Turn], bool]) -> Callable[[Turn], bool]:
            self.backs[step] = fn
            return fn
        return register

    def result(self, command_type: type) -> Callable[[ResultHandler], ResultHandler]:
        def register(fn: ResultHandler) -> ResultHandler:
            self.results[command_type] = fn
            return fn
        return register


FLOWS: dict[str, Flow] = {}


def flow(name: str) -> Flow:
    FLOWS[name] = Flow(name)
    return FLOWS[name]


def goto(turn: Turn, step: str, *, flow_name: str | None = None, remember: bool = True) -> None:
    """Move to `step` (of `flow_name`, default the current flow) and ask its question."""
    name = flow_name or turn.flow
    assert name is not None
    if name != turn.flow:
        turn.state.update(flow=name, step=None, data={}, history=[], fails={})
    history: list[str] = turn.state.setdefault("history", [])
    if remember and turn.step is not None and turn.step != step:
        history.append(turn.step)
    turn.state["step"] = step
    FLOWS[name].prompts[step](turn)


def reprompt(turn: Turn) -> None:
    """Ask the current step's question again."""
    if turn.flow is None or turn.step is None:
        return
    FLOWS[turn.flow].prompts[turn.step](turn)


def back(turn: Turn) -> bool:
    """Go one step back within the flow (or within the step, when it has levels of its own); False when
    there is nowhere to go back to."""
    within = FLOWS[turn.flow].backs.get(turn.step or "") if turn.flow in FLOWS else None
    if within is not None and within(turn):
        return True
    history: list[str] = turn.state.get("history") or []
    if not history or turn.flow is None:
        return False
    step = history.pop()
    turn.state["step"] = step
    FLOWS[turn.flow].prompts[step](turn)
    return True


def end_flow(turn: Turn, *, keep: dict[str, Any] | None = None) -> None:
    """Leave the flow (state back to the menu); `keep` stays in data for the next flow (e.g. the case)."""
    turn.state.update(flow=None, step=None, data=dict(keep or {}), history=[], fails={})


def pause_flow(turn: Turn, *, unanswered: bool = False) -> None:
    """Set the unfinished flow aside (menu, a person, an expiry) so '9' can take it up again. A flow left
    before its first answer has nothing to keep: it is dropped, and what was set aside before stays.
    `unanswered` sets it aside all the same (an expiry, whose note tells the household so), unless what
    is set aside already has answers. A report set aside with answers stays rather than another kind of
    flow (report.start asks before a new report takes its place)."""
    answered = _answered(turn.state) or unanswered
    kept = turn.state.get("paused") or {}
    if _answered(kept) and (not _answered(turn.state)
                            or (kept.get("flow") == "report" and turn.flow != "report")):
        answered = False  # answers set aside stay: not given up for a question or a case lookup's number
    if turn.flow is not None and turn.flow not in ("menu", "human") and answered:
        turn.state["paused"] = {k: turn.state.get(k) for k in ("flow", "step", "data", "history")}
        turn.state["paused_at"] = turn.facts.now.isoformat()
    end_flow(turn)


# what a person typed into a report, kept in its data even after going back to its first question
_ANSWER_KEYS = ("text", "name", "id", "size", "village", "group", "phone", "proxy_name", "proxy_phone")


def _answered(state: dict[str, Any]) -> bool:
    """Whether a flow (the state's, or one set aside) holds answers: steps passed, or answers kept after
    going back over them with 0 (backing out of a report to the menu dropped the name and ID typed)."""
    data = state.get("data") or {}
    return bool(state.get("history")) or any(data.get(key) for key in _ANSWER_KEYS)


def resume_paused(turn: Turn, *, ask_again: bool = True) -> bool:
    """Take the paused flow up again where it was (asking its question again unless `ask_again` is off)."""
    paused = turn.state.pop("paused", None)
    turn.state.pop("paused_at", None)
    if not paused:
        return False
    turn.state.update(flow=paused["flow"], step=paused["step"], data=paused["data"] or {},
                      history=paused["history"] or [], fails={})
    if ask_again:
        reprompt(turn)
    return True
