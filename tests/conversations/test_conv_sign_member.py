"""A member recorded by staff signs annex 1 from the household's chat, where every adult signs: the signer's
name is checked against the members, and a request typed at the name question is not taken for a name."""

from __future__ import annotations

from sqlalchemy import func, select, update

from cases import members
from cases.models import Authorization, Case, Member, RegionSetting, Staff
from cases.regions import SIGNERS_ALL_ADULTS

from .conftest import ID_LI, ID_WANG, PROVINCE, Chat, World
from .test_conv_round5 import signed_household


def household_waiting_for_a_member(world: World) -> tuple[Chat, str]:
    """The head signed from this chat; the cadre then recorded his wife 李四, whose signature is awaited."""
    with world.factory() as db, db.begin():
        db.execute(update(RegionSetting).where(RegionSetting.area_code == PROVINCE)
                   .values(signers=SIGNERS_ALL_ADULTS))
    chat, number = signed_household(world)
    with world.factory() as db, db.begin():
        case = db.scalar(select(Case).where(Case.number == number))
        cadre = db.get(Staff, world.cadre_id)
        assert case is not None and cadre is not None
        members.record_member(db=db, vault=world.vault, case=case, actor=cadre, now=world.clock(),
                              name="李四", relation_code="02", id_number=ID_LI)
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
    with world.factory() as db, db.begin():
        db.execute(update(RegionSetting).where(RegionSetting.area_code == PROVINCE)
                   .values(signers=SIGNERS_ALL_ADULTS))
    chat, number = signed_household(world)
    with world.factory() as db, db.begin():
        case = db.scalar(select(Case).where(Case.number == number))
        cadre = db.get(Staff, world.cadre_id)
        assert case is not None and cadre is not None
        members.record_member(db=db, vault=world.vault, case=case, actor=cadre, now=world.clock(),
                              name="张三", relation_code="03", id_number=ID_WANG)  # born 1988
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
