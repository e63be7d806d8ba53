"""解绑: a cadre unlinks the bound chat from their staff account (a numbered confirmation, audited as the
binding is); the chat is a plain chat again. There was no way out of a binding from the chat."""

from __future__ import annotations

from sqlalchemy import select

from cases.models import AuditEntry, Contact
from conversations.binding import issue_code
from conversations.messages import Attachment as ConvAttachment

from .conftest import ID_ZHANG, MEIHUA, World
from .test_cadre_screening import ID_QUESTION
from .test_conv_flows import bound_cadre


def staff_of_chat(world: World, user_key: str = "cadre-chat") -> int | None:
    with world.factory() as db:
        contact = db.scalar(select(Contact).where(Contact.external_id == user_key))
        assert contact is not None
        return contact.staff_id


def test_a_cadre_unlinks_the_chat_after_a_numbered_confirmation(world: World) -> None:
    cadre = bound_cadre(world)
    assert "解绑 — " in cadre.send("你好")  # the command list names it
    out = cadre.send("解绑")
    assert "李桂英" in out and "1 确认解绑" in out and "2 不解绑" in out
    assert "不解绑" in cadre.send("2") and staff_of_chat(world) == world.cadre_id
    assert "待办" in cadre.send("你好")  # still the cadre's chat

    cadre.send("解绑")
    out = cadre.send("1")
    assert "已解绑" in out and "绑定" in out
    assert staff_of_chat(world) is None
    with world.factory() as db:
        contact = db.scalar(select(Contact).where(Contact.external_id == "cadre-chat"))
        entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "contact.unbind"))
        assert contact is not None and entry is not None
        assert entry.actor == f"staff:{world.cadre_id}" and entry.actor_staff_id == world.cadre_id
        assert entry.entity == "contact" and entry.entity_id == str(contact.id) and entry.area_code == MEIHUA
        assert entry.detail == {"channel": "telegram"}
    out = cadre.send("你好")  # a plain chat again: the household menu
    assert "1 申报困难" in out and "干部指令" not in out

    with world.factory() as db, db.begin():
        code = issue_code(db=db, vault=world.vault, staff_id=world.cadre_id, now=world.clock())
    assert "绑定成功" in cadre.send(f"绑定 {code}")  # and it may be bound again
    assert staff_of_chat(world) == world.cadre_id


def test_another_message_drops_the_question_and_1_alone_unlinks_nothing(world: World) -> None:
    cadre = bound_cadre(world)
    cadre.send("解绑")
    assert cadre.send("待办").startswith(("您的待办", "您目前没有待办"))  # a command meanwhile: answered
    assert "已解绑" not in cadre.send("1") and staff_of_chat(world) == world.cadre_id
    cadre.send("解绑")
    world.clock.advance(minutes=31)  # the question waits half an hour
    assert "已解绑" not in cadre.send("1") and staff_of_chat(world) == world.cadre_id


def test_a_deactivated_account_can_still_unlink_its_chat(world: World) -> None:
    """Every command of an inactive account is 'not active': 解绑 is the way out of that chat."""
    from cases.models import Staff

    cadre = bound_cadre(world)
    with world.factory() as db, db.begin():
        staff = db.get(Staff, world.cadre_id)
        assert staff is not None
        staff.active = False
    assert "1 确认解绑" in cadre.send("解绑")
    assert "已解绑" in cadre.send("1") and staff_of_chat(world) is None


def test_keeping_the_link_during_a_screening_report_asks_its_question_again(world: World) -> None:
    """解绑 asked while 排查 waited for the ID number: 2 (不解绑) said only 'stays linked', and the cadre was
    left with no question while the report still waited for its answer."""
    cadre = bound_cadre(world)
    cadre.send("排查")
    cadre.send("张三")
    cadre.send("解绑")
    out = cadre.send("2")
    assert out.startswith("好的，不解绑") and out.endswith(ID_QUESTION)
    assert "户主手机号" in cadre.send("430421195003021234")  # still the report's answer


def test_unlinking_warns_that_an_unfinished_screening_report_is_discarded(world: World) -> None:
    """解绑 then 1 while 排查 held answers (under way, or set aside by 取消) dropped them without a word: the
    chat becomes an ordinary chat, so they cannot be kept for the account, and the question now says so; 2
    keeps the link and the report. A report with nothing typed yet asks as before."""
    cadre = bound_cadre(world)
    cadre.send("排查")
    cadre.send("张三")
    out = cadre.send("解绑")
    assert "您排查上报的张三户还没填完，解绑后填过的不再保留。" in out and "1 确认解绑" in out, out
    out = cadre.send("2")
    assert out.endswith(ID_QUESTION)  # still the report's question
    cadre.send(ID_ZHANG)
    assert "已取消" in cadre.send("取消")  # set aside
    out = cadre.send("解绑")
    assert "张三户还没填完，解绑后填过的不再保留。" in out, out
    out = cadre.send("1")
    assert "已解绑" in out and "没填完的排查上报已删除。" in out, out
    assert staff_of_chat(world) is None

    with world.factory() as db, db.begin():
        code = issue_code(db=db, vault=world.vault, staff_id=world.cadre_id, now=world.clock())
    cadre.send(f"绑定 {code}")
    assert cadre.send("排查").startswith("排查上报：户主姓名？")  # nothing was kept
    out = cadre.send("解绑")  # nothing typed yet: nothing to warn about
    assert "还没填完" not in out and "1 确认解绑" in out
    assert "删除" not in cadre.send("1")


def test_unlinking_says_and_deletes_the_files_no_case_has_yet(world: World) -> None:
    """A photo sent during 排查 (an ID card, say), then 解绑 and 1: the answer said the report was deleted,
    while the photo stayed in the database with no case, where nobody could reach it or would ever link
    it. The files the chat keeps for a report or for a case number are deleted with it, as 取消 deletes
    them, and the question and the answer say so; 2 keeps them."""
    from sqlalchemy import func

    from cases.models import Attachment

    from .test_conv_flows import JPEG

    def unlinked_files() -> int:
        with world.factory() as db:
            return int(db.scalar(select(func.count()).select_from(Attachment)
                                 .where(Attachment.case_id.is_(None))) or 0)

    photo = ConvAttachment(kind="photo", content_type="image/jpeg", data=JPEG)
    cadre = bound_cadre(world)
    cadre.send("排查")
    cadre.send("张三")
    cadre.send(None, (photo,))
    cadre.send("取消")
    cadre.send(None, (photo,))  # waiting for a case number
    assert unlinked_files() == 2
    out = cadre.send("解绑")
    assert "张三户还没填完" in out and "还没存到案件的 2 个文件也不再保留" in out, out
    assert "不解绑" in cadre.send("2")
    assert unlinked_files() == 2  # kept
    cadre.send("解绑")
    out = cadre.send("1")
    assert "已解绑" in out and "没填完的排查上报已删除。" in out, out
    assert "还没存到案件的 2 个文件已删除。" in out, out
    assert unlinked_files() == 0 and staff_of_chat(world) is None
