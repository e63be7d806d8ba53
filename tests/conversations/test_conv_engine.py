"""The pure engine against hand-built nlu.Parse objects: no database, no parser."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases import annex1
from cases.clock import BEIJING
from conversations import engine
from conversations.commands import CaseView, FillAnnex, FindCase, Result, SubmitReport
from conversations.flows.annex import sms_parts
from conversations.flows.common import Facts, small_number
from conversations.messages import InboundMessage
from nlu.types import Parse, Place

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=BEIJING)
FACTS = Facts(channel="telegram", now=NOW, annex_version=annex1.CURRENT_VERSION, annex_text=annex1.text())
SMS = Facts(channel="sms", now=NOW, known_phone="13900001111", annex_version=annex1.CURRENT_VERSION,
            annex_text=annex1.text())
VILLAGE = Place(code="430421100201", level="village", name="梅花村", county="衡阳县", township="西渡镇",
                township_code="430421100000", village="梅花村", village_code="430421100201")


def msg(text: str | None) -> InboundMessage:
    return InboundMessage(channel="telegram", user_key="1", external_id="x", text=text, received_at=NOW)


def say(state: dict[str, Any] | None, text: str, parse: Parse | None = None,
        facts: Facts = FACTS) -> engine.Step:
    step = engine.advance(state, msg(text), parse or Parse(), facts)
    json.dumps(step.state)  # the state is always plain JSON
    return step


def joined(step: engine.Step) -> str:
    return "\n".join([r.text for r in step.replies] + [c for r in step.replies for c in r.choices])


SCRIPT: list[tuple[str, Parse]] = [
    ("我老伴住院了，房子也漏雨", Parse(intent="report", risks=["01"], guarantees=["A23"])),
    ("1", Parse()),
    ("张三", Parse()),
    ("430421195003021234", Parse(id_numbers=["430421195003021234"])),
    ("4口人", Parse(household_size=4)),
    ("西渡镇梅花村", Parse(place=VILLAGE)),
    ("1", Parse()),
    ("3组", Parse()),
    ("13912345678", Parse(phones=["13912345678"])),
    ("1", Parse()),
]


def walk(facts: Facts = FACTS) -> list[dict[str, Any]]:
    """Every state along a self-report, from nothing to the annex question."""
    states: list[dict[str, Any]] = [engine.new_state()]
    state: dict[str, Any] | None = None
    for text, parse in SCRIPT:
        if facts.sms and text == "13912345678":
            continue
        step = say(state, text, parse, facts)
        state = step.state
        states.append(state)
    return states


def test_readback_in_plain_words_with_numbered_choices() -> None:
    step = say(None, SCRIPT[0][0], SCRIPT[0][1])
    assert step.replies[0].text.startswith("您说的是：因病、住房安全，对吗？")
    assert step.replies[0].choices == ("1 对", "2 不对，我重新说", "3 从列表里选", "0 返回")
    assert step.commands == []
    picked = say(say(step.state, "3").state, "5 2 99")
    assert "您说的是：因病、孩子失学辍学，对吗？" in joined(picked)


def test_the_state_given_is_never_changed_nor_shared_with_the_next() -> None:
    """The engine is pure: every step of a report, and the result of its submission, leave the state they
    were given as it was, down to its nested lists and dicts, and the next state shares none of them."""
    states = walk()
    signed = say(say(states[-1], "同意").state, "张三")
    given = [*states[1:], signed.state]
    before = [json.dumps(s, sort_keys=True) for s in given]
    answers = [*SCRIPT[1:], ("1", Parse())]  # what each state of the walk is answered with
    steps = [say(s, text, parse) for s, (text, parse) in zip(given[:-1], answers, strict=True)]
    steps.append(engine.resume(signed.state, signed.commands[0], Result(ok=False, reason="x"), FACTS))

    def containers(value: Any) -> list[int]:
        if isinstance(value, dict):
            return [id(value), *(i for v in value.values() for i in containers(v))]
        if isinstance(value, list):
            return [id(value), *(i for v in value for i in containers(v))]
        return []

    for old, step in zip(given, steps, strict=True):
        assert not set(containers(old)) & set(containers(step.state))
    assert [json.dumps(s, sort_keys=True) for s in given] == before
    assert signed.state["data"]["risks"] and signed.state["history"]  # nested data was there to share


def test_the_en_catalog_speaks_english() -> None:
    en = Facts(channel="web", now=NOW, locale="en", annex_version=annex1.CURRENT_VERSION,
               annex_text=annex1.text())
    step = say(None, SCRIPT[0][0], SCRIPT[0][1], facts=en)
    assert step.replies[0].text.startswith("You said: Illness, Housing safety. Is that right?")
    assert step.replies[0].choices[0] == "1 Yes, that is right"


def test_a_full_report_yields_one_submit_command_and_a_case_number_reply() -> None:
    state = walk()[-1]
    assert state["step"] == "annex"
    signed = say(say(state, "同意").state, "张三")
    assert len(signed.commands) == 1 and isinstance(signed.commands[0], SubmitReport)
    cmd = signed.commands[0]
    got = (cmd.head_name, cmd.id_number, cmd.household_size, cmd.village_code, cmd.group_name, cmd.phone)
    assert got == ("张三", "430421195003021234", 4, "430421100201", "3组", "13912345678")
    assert cmd.signature is not None and cmd.signature.text_version == annex1.CURRENT_VERSION
    view = CaseView(number="SB7K2M9QXA", status="applied", steps_done=1, next_step="home_verification",
                    opened_on=date(2026, 3, 2), updated_on=date(2026, 3, 2), cadre_name="李桂英",
                    cadre_phone_masked="139****0001")
    done = engine.resume(signed.state, cmd, Result(ok=True, case=view), FACTS)
    text = joined(done)
    assert "SB7K2M9QXA" in text and "李桂英（139****0001）" in text
    assert done.state["flow"] is None and done.state["data"] == {"case": "SB7K2M9QXA"}
    failed = engine.resume(signed.state, cmd, Result(ok=False, reason="unknown_village"), FACTS)
    assert "都保存着" in joined(failed) and failed.state["step"] == "summary"


def test_the_phone_is_not_asked_on_sms() -> None:
    states = walk(SMS)
    assert states[-1]["step"] == "annex"
    assert states[-1]["data"]["phone"] == "13900001111"
    asked = say(states[-2], "1", facts=SMS)  # the summary accepted: the annex filled in, then in parts
    (fill,) = asked.commands
    assert isinstance(fill, FillAnnex) and fill.case_number is None
    got = (fill.name, fill.id_number, fill.size, fill.village_code, fill.group, fill.risks, fill.guarantees)
    assert got == ("张三", "430421195003021234", 4, "430421100201", "3组", ["01"], ["A23"])
    address = "湖南省衡阳市衡阳县西渡镇梅花村"
    text = annex1.filled(annex1.Filling(name="张三", id_number=fill.id_number, address=address,
                                        group="3组", size=4, risks=("01",), guarantees=("A23",)))
    parts = engine.resume(asked.state, fill, Result(ok=True, data={"text": text, "report_id": None}), SMS)
    numbered = [r.text for r in parts.replies if r.text.startswith("(")]
    assert len(numbered) >= 2 and numbered[0].startswith(f"(1/{len(numbered)}) ")
    body = "\n".join(p.split(") ", 1)[1] for p in numbered)
    assert "姓名：张三，身份证号：430421********1234，家庭住址：湖南省衡阳市衡阳县西渡镇梅花村3组。" in body
    assert "430421195003021234" not in body
    assert parts.state["data"]["annex"] == {"sha256": annex1.digest(text), "report_id": None}
    signed = say(say(parts.state, "1", facts=SMS).state, "张三", facts=SMS)
    (submit,) = signed.commands
    assert isinstance(submit, SubmitReport) and submit.signature is not None
    assert submit.signature.shown_sha256 == annex1.digest(text)


def test_back_and_menu_work_at_every_step() -> None:
    for state in walk()[1:]:
        back = say(state, "0")
        assert back.replies and back.replies[-1].choices, state["step"]
        menu = say(state, "菜单")
        assert "1 申报困难" in joined(menu)
        assert menu.state["flow"] is None and menu.state["paused"]["step"] == state["step"]
        resumed = say(menu.state, "9")
        assert resumed.state["step"] == state["step"] and resumed.state["data"] == state["data"]


def test_a_stranger_gives_case_number_and_id_digits() -> None:
    step = say(None, "查询", Parse(intent="status"))
    assert "案件号" in joined(step)
    step = say(step.state, "sb7k2m9qxa 123x")
    assert step.commands == [FindCase("SB7K2M9QXA", "123X", "status")]


def test_an_unknown_message_gets_an_answer_and_the_menu() -> None:
    step = say(None, "今天天气怎么样")
    assert "没看懂" in joined(step) and "1 申报困难" in joined(step)
    empty = say(None, "")
    assert "1 申报困难" in joined(empty)


def test_sms_parts_keep_every_character_and_stay_short() -> None:
    parts = sms_parts(annex1.text())
    assert all(len(p) <= 260 for p in parts)
    assert "".join(parts).replace("\n", "") == annex1.text().replace("\n", "")


def test_household_sizes_in_words() -> None:
    assert [small_number(x) for x in ("4", "四口人", "两个", "十二", "二十一", "十", "没有")] == [
        4, 4, 2, 12, 21, 10, None]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(index=st.integers(min_value=0, max_value=len(SCRIPT)), text=st.text(max_size=40))
def test_never_silence_never_a_crash(index: int, text: str) -> None:
    """Whatever arrives at whatever step: at least one reply or a command whose result will answer."""
    states = walk()
    state = states[min(index, len(states) - 1)]
    step = say(state, text)
    assert step.replies or step.commands
    assert all(r.text.strip() for r in step.replies)


def test_a_case_number_alone_starts_a_status_look_up() -> None:
    step = say(None, "SB7K2M9QXA")
    assert "身份证号码的最后 4 位" in joined(step) and step.state["step"] == "ask_last4"
    both = say(None, "sb7k2m9qxa 3457")
    assert both.commands == [FindCase("SB7K2M9QXA", "3457", "status")]


def test_a_disaster_without_its_kind_is_asked_once() -> None:
    step = say(None, "庄稼遭了灾", Parse(intent="report", risks=["04"]))
    step = say(step.state, "1")
    assert "是什么灾害" in joined(step) and "1 洪涝" in joined(step)
    step = say(step.state, "2")
    assert step.state["data"]["disasters"] == ["02"] and "姓名" in joined(step)
    flood = Parse(intent="report", risks=["04"], disasters=["01"])
    known = say(say(None, "房子被山洪冲了", flood).state, "1")
    assert "姓名" in joined(known)  # the parser already said which: no question


def test_the_phone_may_be_skipped() -> None:
    state = walk()[-3]  # at the phone question
    assert state["step"] == "phone"
    step = say(state, "没有")
    assert step.state["step"] == "summary" and step.state["data"]["phone"] is None
    assert "电话：无" in joined(step)


def test_a_note_no_reply_took_is_still_said() -> None:
    from conversations.flows.common import Turn
    from conversations.messages import Reply
    from nlu.types import Parse

    turn = Turn(state={}, facts=FACTS, parse=Parse())
    turn.note("已选：梅花村")
    turn.say("是哪个村民小组？", ["0 返回"])
    assert turn.said() == [Reply(text="已选：梅花村\n是哪个村民小组？", choices=("0 返回",))]
    turn.note("已记下")
    assert turn.said()[-1] == Reply(text="已记下") and turn.notes == []


def test_a_number_that_counts_something_is_not_a_menu_choice() -> None:
    from conversations.flows.common import number_choice

    assert [number_choice(t) for t in ("2", "２", "2 不对", "二", "2。")] == [2, 2, 2, 2, 2]
    assert [number_choice(t) for t in ("2个孩子都在读书", "3口人", "5000块", "2 个人")] == [None] * 4
    at_idle = joined(say(None, "2个孩子都在读书", Parse(guarantees=["A24"], intent="report")))
    assert "对吗" in at_idle and "那户人家" not in at_idle  # their own report, not menu 2 (for someone else)


def test_the_menu_is_one_sms_segment() -> None:
    from bot.smstext import segments, with_choices

    step = say(None, "菜单", facts=SMS)
    (reply,) = step.replies
    text = with_choices(reply.text, list(reply.choices))
    assert "8 撤回授权" in text and segments(text) == 1, (len(text), text)  # SMS is paid per segment
