"""A member recorded by staff signs annex 1 from the household's chat, where every adult signs: the signer's
name is checked against the members, and a request typed at the name question is not taken for a name."""

from __future__ import annotations

from sqlalchemy import func, select, update

from cases import intake, members
from cases.models import Authorization, Case, Channel, Household, Member, RegionSetting, ReporterKind, Staff
from cases.regions import SIGNERS_ALL_ADULTS

from .conftest import ID_LI, ID_WANG, ID_ZHANG, MEIHUA, PROVINCE, Chat, World
from .test_conv_dialogues import DESCRIPTION, report_until_annex
from .test_conv_round5 import signed_household


def household_waiting_for_a_member(world: World, name: str = "李四", relation_code: str = "02",
                                   id_number: str = ID_LI) -> tuple[Chat, str]:
    """The head signed from this chat; the cadre then recorded an adult member (his wife 李四 unless said),
    whose signature is awaited (every adult signs)."""
    with world.factory() as db, db.begin():
        db.execute(update(RegionSetting).where(RegionSetting.area_code == PROVINCE)
                   .values(signers=SIGNERS_ALL_ADULTS))
    chat, number = signed_household(world)
    with world.factory() as db, db.begin():
        case = db.scalar(select(Case).where(Case.number == number))
        cadre = db.get(Staff, world.cadre_id)
        assert case is not None and cadre is not None
        members.record_member(db=db, vault=world.vault, case=case, actor=cadre, now=world.clock(),
                              name=name, relation_code=relation_code, id_number=id_number)
    return chat, number


def signatures(world: World) -> int:
    with world.factory() as db:
        return int(db.scalar(select(func.count()).select_from(Authorization)) or 0)


def test_a_request_at_the_name_question_is_not_taken_for_the_signers_name(world: World) -> None:
    """签字 or 授权 typed again at 'type the full name' was taken for a name and answered 'not one of this
    household's members'; 查询 there (at any question it looks the case up) was taken for a name too."""
    chat, number = household_waiting_for_a_member(world)
    assert "还需签字：李*" in chat.send("查询")
    chat.send("签字")
    assert "签字人的全名" in chat.send("同意")
    for said in ("签字", "授权"):
        out = chat.send(said)
        assert "不是这户的家庭成员" not in out and "全名" in out, (said, out)
    out = chat.send("查询")
    assert f"案件 {number}" in out and "还需签字：李*" in out and "不是这户的家庭成员" not in out
    assert signatures(world) == 1  # the head's only
    chat.send("签字")
    chat.send("同意")
    assert "谢谢您，李四" in chat.send("李四")
    assert signatures(world) == 2


def test_a_son_named_as_his_father_signs_after_him(world: World) -> None:
    """The head 张三 signed; his adult son, also 张三, is recorded: his signature was never taken from the
    chat, the name finding the father again (his signature returned as it stood, 'still to sign: 张*')."""
    chat, _number = household_waiting_for_a_member(world, "张三", "03", ID_WANG)  # a son born 1988
    assert "还需签字：张*" in chat.send("查询")
    chat.send("签字")
    chat.send("同意")
    out = chat.send("张三")
    assert "谢谢您，张三" in out and "还需要" not in out, out
    with world.factory() as db:
        signed = db.scalars(select(Authorization.member_id)).all()
        sons = db.scalars(select(Member.id).where(Member.relation == "之子")).all()
    assert len(signed) == 2 and set(sons) <= set(signed)
    assert "还需签字" not in chat.send("查询")


def test_a_member_recorded_in_traditional_characters_signs_from_the_chat(world: World) -> None:
    """A member recorded as 張偉 (traditional, as staff typed it) could not sign: the name typed in the chat
    is kept simplified (张伟) and was compared with the record as it stands ('not one of this household's
    members'). Both are compared simplified; the record keeps 張偉, and the signature names him so."""
    chat, _number = household_waiting_for_a_member(world, "張偉", "03", ID_WANG)  # a son born 1988
    assert "还需签字：張*" in chat.send("查询")
    chat.send("签字")
    chat.send("同意")
    out = chat.send("张伟")
    assert "不是这户的家庭成员" not in out and "谢谢您，张伟" in out, out
    assert signatures(world) == 2 and "还需签字" not in chat.send("查询")
    with world.factory() as db:
        assert db.scalars(select(Member.name).where(Member.relation == "之子")).all() == ["張偉"]
        assert set(db.scalars(select(Authorization.signer_name)).all()) == {"张三", "張偉"}


def test_a_head_on_record_in_traditional_characters_reports_and_signs_from_the_chat(world: World) -> None:
    """A household a cadre filed as 張三 (traditional), with its mobile number, reports by SMS from that
    number with its ID number and signs: the name typed (张三, kept simplified) was 'not the name on record
    for this ID number', and the report was not sent."""
    with world.factory() as db, db.begin():
        draft = intake.ReportDraft(channel=Channel.CONSOLE, reporter_kind=ReporterKind.CADRE,
                                   raw_text="走访发现", risks=["01"], head_name="張三", id_number=ID_ZHANG,
                                   village_code=MEIHUA, household_size=4, phone="13912345678")
        number = intake.submit_report(db=db, vault=world.vault, draft=draft, now=world.clock(),
                                      notifier=world.notifier).case.number
    chat = Chat(world, channel="sms", user_key="+8613912345678")
    report_until_annex(chat)  # 张三 and the ID number: the name is taken simplified
    chat.send("1")
    out = chat.send("张三")
    assert "不能一起登记" not in out and number in out, out
    with world.factory() as db:
        assert db.scalars(select(Authorization.signer_name)).all() == ["張三"]
        assert db.scalars(select(Household.head_name)).all() == ["張三"]


def test_names_are_kept_in_the_characters_typed_where_those_are_simplified_ones(world: World) -> None:
    """OpenCC reads running text: 乾 is 干 there (乾燥), 於 is 于; in a name each is a name of its own. A head
    typing 张乾 was recorded as 张干, annex 1 was filled as 张干, and the signature named 张干. Characters
    of the simplified set stay as typed; a traditional one (偉) is still kept simplified."""
    chat = Chat(world, user_key="40001")
    report_until_annex(chat, name="张乾")
    chat.send("1")
    out = chat.send("张乾")
    assert "谢谢您，张乾" in out, out
    with world.factory() as db:
        assert db.scalars(select(Household.head_name)).all() == ["张乾"]
        assert db.scalars(select(Authorization.signer_name)).all() == ["张乾"]
    other = Chat(world, user_key="40002")
    report_until_annex(other, name="於明", id_number=ID_LI)  # annex 1 shows 於明 (the helper checks it)
    other.send("1")
    assert "谢谢您，於明" in other.send("於明")
    with world.factory() as db:
        assert sorted(db.scalars(select(Household.head_name)).all()) == ["张乾", "於明"]


def test_a_group_named_in_simplified_characters_opencc_would_change_is_kept_as_typed(world: World) -> None:
    """A 村民小组 named 乾家组 was kept as 干家组 (every answer is read simplified, and OpenCC reads 乾
    as the traditional 干 of 乾燥), and annex 1's address said so."""
    chat = Chat(world, user_key="40003")
    chat.send(DESCRIPTION)
    for said in ("1", "张三", ID_ZHANG, "4口人", "西渡镇梅花村", "1"):
        chat.send(said)
    chat.send("乾家组")
    out = chat.send("139 1234 5678")
    assert "住址：" in out and "乾家组" in out and "干家组" not in out, out
