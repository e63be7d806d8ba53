"""Words a household adds to its open case (补充) are read as a report's are: a new difficulty, 三保障 item or
urgency joins the case (codes only added, urgent only raised), on its timeline with what was added, and the
contact cadre is told at once. They were kept as text only: the case's risks and urgent flag stayed as filed,
while a later report joining the case did merge them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from cases.models import AuditEntry, Case, CaseEvent

from .conftest import ID_ZHANG, Chat, World
from .test_conv_dialogues import case_number
from .test_conv_round5 import supplements

ILLNESS = "我老伴生病了，看病花了好多钱"  # 因病, not urgent


def household_with_a_case(world: World, user_key: str = "10001") -> tuple[Chat, str]:
    """A household that reported an illness (not urgent) and signed from this chat."""
    chat = Chat(world, user_key=user_key)
    assert "因病，对吗" in chat.send(ILLNESS)
    chat.script("1", "张三", ID_ZHANG, "4口人", "西渡镇梅花村", "1", "3", "139 1234 5678", "1", "1")
    return chat, case_number(chat.send("张三"))


def case_of(world: World, number: str) -> tuple[list[str], list[str], bool]:
    with world.factory() as db:
        case = db.scalar(select(Case).where(Case.number == number))
        assert case is not None
        return list(case.risks), list(case.guarantees), case.urgent


def supplement_data(world: World, number: str) -> list[dict[str, Any]]:
    """Each supplement's data on the timeline, without the message reference."""
    with world.factory() as db:
        case = db.scalar(select(Case).where(Case.number == number))
        assert case is not None
        rows = db.scalars(select(CaseEvent.data).where(CaseEvent.case_id == case.id, CaseEvent.action
                                                       == "supplement").order_by(CaseEvent.id))
        return [{k: v for k, v in data.items() if k != "message_ref"} for data in rows]


def notices(world: World) -> list[dict[str, Any]]:
    return [params for kind, _, event, params in world.notifier.sent
            if kind == "staff" and event == "case_supplemented"]


def test_a_supplement_merges_new_difficulties_and_urgency_into_the_case(world: World) -> None:
    chat, number = household_with_a_case(world)
    assert case_of(world, number) == (["01"], [], False)
    assert number in chat.send("补充")
    assert "收到了" in chat.send("我儿子也出车祸了，腿断了")  # 因意外事故: new
    assert case_of(world, number) == (["01", "05"], [], False)
    assert "收到了" in chat.send("房子也塌了，没地方住")  # 住房安全 and urgent: new
    assert case_of(world, number) == (["01", "05"], ["A23"], True)
    # nothing new: a negated word, an illness already on the case, 不急 (urgent is never lowered)
    for said in ("没有住院，现在不急了", "老伴还在看病，医院的发票在这里"):
        assert "收到了" in chat.send(said), said
    assert case_of(world, number) == (["01", "05"], ["A23"], True)
    assert "4 条材料" in chat.send("好了")

    assert supplements(world, number) == ["我儿子也出车祸了，腿断了", "房子也塌了，没地方住",
                                          "没有住院，现在不急了", "老伴还在看病，医院的发票在这里"]
    assert supplement_data(world, number) == [
        {"added_risks": ["05"]}, {"added_guarantees": ["A23"], "became_urgent": True}, {}, {}]
    # the cadre is told of each addition at once, with what it added (and that the case is urgent now); the
    # words that added nothing wait, as before, for the half-hour's one notice that more came
    told = notices(world)
    assert [(p.get("added_risks"), p.get("added_guarantees"), p["urgent"]) for p in told] == [
        (["05"], None, False), (None, ["A23"], True)]
    assert all(p["case_number"] == number for p in told)
    with world.factory() as db:
        audited = db.scalars(select(AuditEntry.detail).where(AuditEntry.action == "case.supplement")).all()
    assert [{k: v for k, v in d.items() if k != "contact_id"} for d in audited] == [
        {"added_risks": ["05"]}, {"added_guarantees": ["A23"], "became_urgent": True}]


def test_words_that_add_nothing_change_nothing_but_the_text_kept(world: World) -> None:
    chat, number = household_with_a_case(world)
    before = len(notices(world))
    chat.send("补充")
    chat.send("我老伴还在生病，没有出车祸")  # the illness is on the case; the accident is negated
    assert case_of(world, number) == (["01"], [], False)
    assert supplement_data(world, number) == [{}]
    assert len(notices(world)) == before + 1  # the usual one notice that more came, nothing added in it
    assert "added_risks" not in notices(world)[-1] and notices(world)[-1]["urgent"] is False


def test_words_typed_before_the_case_number_join_with_what_was_read_in_them(world: World) -> None:
    """A chat not linked to the household (a relative's) types the words first, then the case number and
    the ID digits: what was read in the words kept waiting goes with them."""
    _, number = household_with_a_case(world)
    other = Chat(world, user_key="20002")
    assert "案件号" in other.send("补充")
    assert "会一起补充进去" in other.send("他家房子塌了，屋里没有吃的了")
    other.send(f"{number} {ID_ZHANG[-4:]}")
    assert supplements(world, number) == ["他家房子塌了，屋里没有吃的了"]
    assert case_of(world, number) == (["01"], ["A23"], True)


def test_the_new_difficulty_said_at_the_open_case_question_joins_the_case(world: World) -> None:
    chat, number = household_with_a_case(world)
    out = chat.send("我儿子出车祸了")
    assert "还在办理中" in out and "1 补充到这个案件" in out
    assert "已补充到案件" in chat.send("1")
    assert case_of(world, number) == (["01", "05"], [], False)
    assert supplement_data(world, number) == [{"added_risks": ["05"]}]


def test_words_naming_nothing_add_no_other_risk(world: World) -> None:
    """A report whose words name no difficulty is filed as 09 (其他); such words added to a case add none."""
    chat, number = household_with_a_case(world)
    out = chat.send("家里很困难，日子过不下去了")
    assert "还在办理中" in out and "1 补充到这个案件" in out
    assert "已补充到案件" in chat.send("1")
    chat.send("还是想再跟干部说一说")
    assert case_of(world, number) == (["01"], [], False)
    assert supplement_data(world, number) == [{}, {}]


def test_a_screening_report_that_makes_the_case_urgent_tells_the_cadre_what_it_added(world: World) -> None:
    """A cadre's 排查 of the household joins its open case with a collapsed house: the case became urgent
    and 住房安全 joined it (on the timeline), but the contact cadre was told only 'a new report from the
    household': no 【紧急】, nothing of what was added, and the report was not the household's."""
    from bot.notify import render

    from .test_cadre_screening import up_to_village
    from .test_conv_flows import bound_cadre

    _, number = household_with_a_case(world)
    cadre = bound_cadre(world)
    up_to_village(cadre)
    cadre.send("1")
    cadre.send("3组")
    cadre.send("4")
    cadre.send("房子塌了，一家人没地方住")
    assert "已并入该案件" in cadre.send("1")
    assert case_of(world, number) == (["01"], ["A23"], True)
    (params,) = [p for kind, _, event, p in world.notifier.sent
                 if kind == "staff" and event == "case_report_joined"]
    text = render("case_report_joined", params, "zh_CN")
    assert text.startswith("【紧急】") and "新增：住房安全" in text and number in text, text
    assert "农户" not in text  # the cadre's own screening, not the household's words
