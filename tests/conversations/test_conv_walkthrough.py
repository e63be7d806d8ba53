"""Dead ends and puzzling replies a newcomer met in the web simulator, each fixed and kept fixed."""

from __future__ import annotations

from sqlalchemy import select

from cases.models import Case, CaseStatus, Household, Staff, Task

from .conftest import ID_LI, ID_ZHANG, Chat, World
from .test_conv_dialogues import DESCRIPTION, case_number, report_until_annex, state_of_data
from .test_conv_flows import signed_case

PROXY_UNTIL_ID = ["2", "隔壁刘大爷家房子被洪水冲倒了", "1", "张小兵", "13800138000", "刘德福"]


def test_a_proxy_who_does_not_know_the_id_number_can_still_report(world: World) -> None:
    proxy = Chat(world, user_key="60006")
    out = proxy.script(*PROXY_UNTIL_ID)
    assert "不知道" in out and "上门" in out  # the question says what to do without the number
    out = proxy.send("不知道")
    assert "几口人" in out and "您输入了" not in out
    for text in ["3", "和平村", "1", "不清楚"]:
        out = proxy.send(text)
    out = proxy.send("没有")
    assert "身份证：不清楚（上门时核实）" in out
    out = proxy.send("1")
    number = case_number(out)
    assert "上门时" in out and "身份证后 4 位" not in out  # no promise of a way it cannot take
    assert "回复“查询”" not in out and "联系干部" in out  # nor of a status look-up without the ID digits
    with world.factory() as db:
        case = db.scalar(select(Case).where(Case.number == number))
        assert case is not None and case.status == CaseStatus.APPLIED
        household = db.get(Household, case.household_id)
        assert household is not None and household.head_name == "刘德福" and household.id_number_enc is None


def test_an_id_question_answered_in_words_gets_a_plain_answer(world: World) -> None:
    self_report = Chat(world, user_key="60007")
    report = self_report.script("1", "我老伴生病住院了", "1", "王秀英")
    assert "18 位" in report and "不知道" not in report  # no "skip it" offer to the household itself
    out = self_report.send("不知道")
    assert "户口本" in out and "人工" in out and "您输入了" not in out
    out = self_report.send("我忘记了")
    assert "您输入了" not in out
    assert "几口人" in self_report.send(ID_LI)


def test_a_contact_cadre_without_a_phone_is_named_without_empty_brackets(world: World) -> None:
    with world.factory() as db, db.begin():
        cadre = db.get(Staff, world.cadre_id)
        assert cadre is not None
        cadre.phone_enc = cadre.phone_hash = None
    chat = Chat(world)
    report_until_annex(chat)
    chat.send("1")
    out = chat.send("张三")
    assert "您的联系干部是李桂英，会联系您" in out and "（-）" not in out and "（）" not in out
    assert "联系干部：李桂英\n" in chat.send("查询")


def test_a_case_number_with_spaces_and_the_id_digits_in_one_message(world: World) -> None:
    number = signed_case(world, Chat(world))
    spaced = f"{number[:4]} {number[4:8]} {number[8:]} {ID_ZHANG[-4:]}".lower()  # sbh4 xkwn yc 3457
    stranger = Chat(world, user_key="60008")
    stranger.send("查询")
    out = stranger.send(spaced)
    assert f"案件 {number}" in out and "现在：" in out


def test_asking_for_a_person_without_a_phone_is_not_asked_again_and_again(world: World) -> None:
    chat = Chat(world, user_key="60009")
    assert "哪个号码" in chat.send("人工")
    out = chat.send("没有电话")
    assert "12317" in out and "村委会" in out and "1 " in out  # how else, and the menu
    with world.factory() as db:
        assert db.scalars(select(Task).where(Task.kind == "callback")).all() == []
    assert "您要办什么" in chat.send("菜单")  # the hand-off flow is over


def test_only_the_households_own_chat_withdraws_its_case(world: World) -> None:
    household = Chat(world)
    number = signed_case(world, household)
    stranger = Chat(world, user_key="60010")
    out = stranger.send("撤回")
    assert "只有农户自己申报或签字用的手机" in out and "案件号" not in out
    out = stranger.send(f"{number} {ID_ZHANG[-4:]}")  # knowing both only shows the status (and the menu)
    assert "现在：" in out and "确定撤回" not in out
    out = stranger.send("6")  # the menu's 撤回申报, from a chat that is not the household's
    assert "只有农户自己申报或签字用的手机" in out and "确定撤回" not in out
    with world.factory() as db:
        case = db.scalar(select(Case).where(Case.number == number))
        assert case is not None and case.status == CaseStatus.APPLIED
    household.send("撤回")
    assert "已撤回" in household.send("1")
    assert "已经办结，不能撤回" in household.send("撤回")  # a closed case: said at once, no case number asked


def test_a_name_that_does_not_fit_the_registered_id_is_explained_not_retried_forever(world: World) -> None:
    first = Chat(world)
    number = signed_case(world, first)  # 张三 with ID_ZHANG
    first.send("撤回")
    first.send("1")
    other = Chat(world, user_key="60011")
    report_until_annex(other, name="王芳")  # her own name, with the head's ID number
    other.send("1")
    out = other.send("王芳")
    assert "身份证号码" in out and "姓名" in out and "再试一次" not in out
    assert "2 有错，要改" in out  # back at the summary, where a wrong field can be changed
    with world.factory() as db:
        assert db.scalars(select(Case.number)).all() == [number]


def test_an_id_and_a_mobile_number_in_the_first_message_are_offered_not_asked_again(world: World) -> None:
    chat = Chat(world)
    out = chat.send(f"我叫张三，老伴生病住院了，我的身份证号{ID_ZHANG}，电话13812345678")
    assert "对吗" in out
    chat.script("1")  # the difficulties are right
    out = chat.send("1")  # yes, I am 张三: the number given at first is offered, masked, as his
    assert "您前面发来的身份证号是 430421********1234，这是张三的身份证号吗？" in out, out
    assert "1 是" in out and "2 不是" in out and ID_ZHANG not in out
    out = chat.send("1")
    assert "几口人" in out
    out = chat.script("4口人", "西渡镇梅花村", "1", "3")
    assert "您前面发来的手机号是 138****5678，干部打这个号码能找到您吗？" in out, out
    out = chat.send("是的")
    assert "请核对" in out and "430421********1234" in out and "138****5678" in out
    data = state_of_data(world, chat)
    assert data["id"] == ID_ZHANG and data["phone"] == "13812345678"


def test_an_offered_number_can_be_refused_or_replaced_by_typing_another(world: World) -> None:
    chat = Chat(world)
    chat.script(f"老伴生病住院了，他的身份证号{ID_ZHANG}", "1")
    out = chat.send("李四")  # the number was the sick husband's, not the applicant's
    assert "您前面发来的身份证号" in out and "李四" in out
    out = chat.send("2")
    assert "请输入李四的身份证号码（18 位）" in out and "您前面发来的" not in out, out
    out = chat.send(ID_LI)
    assert "几口人" in out and state_of_data(world, chat)["id"] == ID_LI
    other = Chat(world, user_key="30011")
    other.script(f"老伴生病住院了，他的身份证号{ID_ZHANG}", "1")
    out = other.send("李四")
    assert "您前面发来的身份证号" in out
    out = other.send(ID_LI)  # typed at the offer: that number is taken
    assert "几口人" in out and state_of_data(world, other)["id"] == ID_LI


def test_a_village_named_without_cun_is_found_in_its_township(world: World) -> None:
    chat = Chat(world)
    chat.script(DESCRIPTION, "1", "张三", ID_ZHANG)
    out = chat.send("4口人")
    assert "哪个村" in out
    out = chat.send("西渡镇梅花")  # 梅花 for 梅花村, the township named with it
    assert "是衡阳县西渡镇梅花村吗" in out, out
    other = Chat(world, user_key="30021")
    other.script(DESCRIPTION, "1", "张三", ID_ZHANG, "4口人")
    out = other.send("西渡镇")
    assert "是西渡镇的哪个村？" in out, out
    out = other.send("梅花")  # the township known: the bare name is looked up among its villages
    assert "是衡阳县西渡镇梅花村吗" in out, out
    third = Chat(world, user_key="30022")
    third.script(DESCRIPTION, "1", "张三", ID_ZHANG, "4口人", "西渡镇")
    out = third.send("桃园")  # no such village there: asked again, with the list offered
    assert "没有找到这个村" in out and "1 从列表里选" in out, out
