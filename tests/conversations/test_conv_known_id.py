"""A household's ID number typed in someone else's chat: knowing it (and the name) proves nothing.

Filing a self-report with the ID number of a household that already has a case joined the report to that
case and linked the chat to the household, even when the report was not signed: the chat then saw the
case and could withdraw it (found by exploratory testing)."""

from __future__ import annotations

from sqlalchemy import func, select

from cases.models import Authorization, Case, CaseEvent, CaseStatus, Contact, Household, Report
from conversations import engine
from conversations.commands import Result

from .conftest import ID_ZHANG, Chat, World
from .test_conv_dialogues import CASE_NUMBER, report_until_annex
from .test_conv_engine import FACTS, say, walk
from .test_conv_flows import signed_case


def _linked(world: World, chat: Chat) -> int | None:
    with world.factory() as db:
        return db.scalar(select(Contact.household_id).where(Contact.channel == chat.channel,
                                                            Contact.external_id == chat.user_key))


def _count(world: World, what: type[Report] | type[Authorization]) -> int:
    with world.factory() as db:
        return int(db.scalar(select(func.count()).select_from(what)) or 0)


def test_the_id_of_a_household_under_another_name_files_nothing(world: World) -> None:
    signed_case(world, Chat(world))
    stranger = Chat(world, user_key="70001")
    report_until_annex(stranger, name="李四")
    out = stranger.send("2")  # declined: nothing to sign, and it used to be filed all the same
    assert "这个姓名和身份证号码不能一起登记" in out and not CASE_NUMBER.search(out)
    assert _count(world, Report) == 1 and _linked(world, stranger) is None


def test_a_name_that_does_not_fit_the_id_is_refused_without_saying_the_id_is_on_record(world: World) -> None:
    """The refusal said the ID number was registered under another name: a stranger trying numbers learnt
    which were on record (found by exploratory testing). The same words for every name/ID refusal, whose
    reason says nothing of the records; what was typed stays, and a person is a number away."""
    signed_case(world, Chat(world))
    stranger = Chat(world, user_key="70004")
    report_until_annex(stranger, name="李四")
    out = stranger.send("2")
    for revealing in ("已经登记", "另一个", "登记在", "已有", "档案"):
        assert revealing not in out, (revealing, out)
    assert "身份证" in out and "12317" in out and "3 找工作人员" in out and "李四" in out
    assert "请核对" in out and "430421********" in out  # the answers typed, shown again
    assert "打哪个号码" in stranger.send("3")  # a call-back; the report is set aside with its answers
    assert "9 接着办刚才没办完的" in stranger.send("菜单")
    again = stranger.send("9")
    assert "请核对" in again and "李四" in again and "3 找工作人员" in again


def test_every_name_and_id_refusal_gets_the_same_words() -> None:
    """Whatever the case store found (the ID number a member's, another household's head's, ...), the
    household reads one answer, which says nothing of the records."""
    signed = say(say(walk()[-1], "同意").state, "张三")
    (command,) = signed.commands
    answers = {engine.resume(signed.state, command, Result(ok=False, reason=reason), FACTS).replies[0].text
               for reason in ("name_not_on_record", "id_number_belongs_to_another_household",
                              "signer_id_mismatch", "signer_not_in_household")}
    (answer,) = answers
    assert "不能一起登记" in answer and "12317" in answer and "另一个" not in answer


def test_the_right_name_and_id_from_an_unknown_chat_add_the_report_but_show_and_link_nothing(
    world: World,
) -> None:
    number = signed_case(world, Chat(world))
    stranger = Chat(world, user_key="70002")
    report_until_annex(stranger)
    out = stranger.send("2")
    assert "已经有一个在办的案件" in out and number not in out and not CASE_NUMBER.search(out)
    assert _count(world, Report) == 2  # what they wrote is kept, for the cadre to check with the family
    assert _linked(world, stranger) is None
    assert "请输入案件号" in stranger.send("查询")  # not the case: it is asked for
    stranger.send("0")
    assert "已撤回" not in stranger.script("撤回", "1")
    with world.factory() as db:
        assert db.scalar(select(Case.status)) == CaseStatus.APPLIED


def test_a_signature_from_an_unknown_chat_is_not_taken(world: World) -> None:
    signed_case(world, Chat(world))
    stranger = Chat(world, user_key="70003")
    report_until_annex(stranger)
    stranger.send("1")
    out = stranger.send("张三")
    assert "上门" in out and "已签字" not in out and not CASE_NUMBER.search(out)
    assert _count(world, Authorization) == 1 and _linked(world, stranger) is None


def test_an_sms_from_the_households_phone_on_record_is_the_household(world: World) -> None:
    number = signed_case(world, Chat(world))  # its phone: 139 1234 5678
    with world.factory() as db:
        assert db.scalar(select(Household.phone_hash)) is not None
    sms = Chat(world, channel="sms", user_key="+8613912345678")
    report_until_annex(sms)
    out = sms.send("2")
    assert number in out
    assert _linked(world, sms) is not None


def test_an_unknown_chat_does_not_give_the_household_its_phone_number(world: World) -> None:
    """A phone number the household's record lacks is not filled from a chat that is not the household's
    (it would then pass for the household's own phone)."""
    signed_case(world, Chat(world))
    with world.factory() as db, db.begin():
        household = db.scalar(select(Household))
        assert household is not None
        household.phone_enc = household.phone_hash = None
    stranger = Chat(world, user_key="70005")
    report_until_annex(stranger)  # types 139 1234 5678 as the phone
    stranger.send("2")
    with world.factory() as db:
        assert db.scalar(select(Household.phone_hash)) is None


def test_a_case_looked_up_with_its_id_digits_takes_additions_without_asking_again(world: World) -> None:
    """After 查询 with the number and the ID digits, 补充 asked for the number again, and words typed at
    that question were lost (found by exploratory testing)."""
    number = signed_case(world, Chat(world))
    other = Chat(world, user_key="70010")
    other.send("查询")
    assert "现在：" in other.send(f"{number} {ID_ZHANG[-4:]}")
    out = other.send("补充")
    assert "请输入案件号" not in out and number in out
    other.send("好了")
    later = Chat(world, user_key="70011")
    later.send("补充")
    assert "会一起补充" in later.send("老倌子又住院哒，这次花了一万")
    later.send(number)
    out = later.send(ID_ZHANG[-4:])
    assert "收到了" in out
    with world.factory() as db:
        notes = db.scalars(select(CaseEvent.note).where(CaseEvent.action == "supplement")).all()
    assert any("老倌子又住院哒" in (n or "") for n in notes)


def test_round_two_case_lookups(world: World) -> None:
    """Round 2 of exploratory testing: words typed at the ID-digits question were lost ('0 items added');
    签字 right after 查询 asked for the number again; 没有 at the case number question was a dead end."""
    number = signed_case(world, Chat(world))
    adder = Chat(world, user_key="70020")
    adder.script("补充", number)
    adder.send("老伴又住院了，这次花了五千")  # typed at the ID digits question
    assert "收到了" in adder.send(ID_ZHANG[-4:])
    with world.factory() as db:
        notes = db.scalars(select(CaseEvent.note).where(CaseEvent.action == "supplement")).all()
    assert any("老伴又住院了" in (n or "") for n in notes)
    idle = Chat(world, user_key="70021")
    idle.script("补充", number, ID_ZHANG[-4:])
    assert "这次没有给案件" in idle.send("好了")
    signer = Chat(world, user_key="70022")
    signer.send("查询")
    signer.send(f"{number} {ID_ZHANG[-4:]}")
    assert "请输入案件号" not in signer.send("签字")
    midway = Chat(world, user_key="70023")
    midway.script("我老伴生病住院了，花了好多钱，房子也漏雨", "1", "张三")
    midway.send("查进度")
    out = midway.send("没有")
    assert "还没有案件号" in out and "9 接着办刚才没办完的" in out
