"""Withdrawing the signed authorization (撤回授权) by chat: explained, confirmed, recorded as a new record."""

from __future__ import annotations

import re

from sqlalchemy import select

from cases import annex1
from cases.intake import pending_signatures
from cases.models import AuditEntry, Authorization, AuthorizationKind, Case, CaseEvent, CaseStatus, Contact
from cases.status import status_summary

from .conftest import ID_LI, Chat, World
from .test_conv_dialogues import case_number, filling, report_until_annex


def _signed_case(world: World, chat: Chat) -> str:
    report_until_annex(chat)
    chat.send("同意")
    return case_number(chat.send("张三"))


def _auths(world: World, number: str) -> list[Authorization]:
    with world.factory() as db:
        case = db.scalar(select(Case).where(Case.number == number))
        assert case is not None
        return list(db.scalars(select(Authorization).where(Authorization.case_id == case.id)
                               .order_by(Authorization.id)))


def test_the_household_withdraws_its_authorization_after_a_plain_explanation(world: World) -> None:
    chat = Chat(world)
    number = _signed_case(world, chat)

    out = chat.send("撤回授权")
    # what withdrawing means, in plain words, then a numbered choice
    assert "撤回 张* 为案件 " + number + " 签的授权" in out
    assert "不能再查询您家的存款" in out and "不能往下办" in out and "都会保留" in out
    assert "1 是，撤回授权" in out and "2 不撤回" in out and "0 返回" in out
    assert len(_auths(world, number)) == 1  # nothing changed before the confirmation

    out = chat.send("随便说点什么")
    assert "请回复 1 撤回授权，或回复 2 保留授权" in out
    out = chat.send("2")
    assert "授权保留" in out
    assert len(_auths(world, number)) == 1

    chat.send("撤回授权")
    confirm = chat.message("1")
    result = chat.send_message(confirm)
    out = "\n".join(r.text for r in result.replies)
    assert "案件 " + number + " 的授权已撤回" in out and "重新签字" in out
    assert re.search(r"已撤回（\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}）", out), out  # dates as said elsewhere

    signature, withdrawal = _auths(world, number)
    assert withdrawal.kind == AuthorizationKind.WITHDRAW and withdrawal.withdraws_id == signature.id
    assert withdrawal.text_version == annex1.CURRENT_VERSION and withdrawal.text_sha256 == annex1.sha256()
    assert withdrawal.channel == "telegram" and withdrawal.message_ref == confirm.external_id
    assert withdrawal.signed_at == world.clock()
    assert signature.kind == AuthorizationKind.SIGN  # the signature itself stays, unchanged
    with world.factory() as db:
        case = db.scalar(select(Case).where(Case.number == number))
        assert case is not None and case.status == CaseStatus.APPLIED
        contact = db.scalar(select(Contact).where(Contact.external_id == chat.user_key))
        assert contact is not None and withdrawal.contact_id == contact.id
        assert pending_signatures(db=db, vault=world.vault, case=case) == ["张三"]
        assert status_summary(db, case).next_step == "sign_authorization"
        audit = db.scalars(select(AuditEntry).where(AuditEntry.action == "authorization.withdraw")).all()
        assert [a.entity_id for a in audit] == [str(case.id)]
        assert db.scalar(select(CaseEvent.id).where(CaseEvent.case_id == case.id,
                                                    CaseEvent.action == "authorization_withdrawn"))
    assert ("staff", world.cadre_id, "authorization_withdrawn") in world.notifier.events()

    # the household sees it in its status, and can sign again the usual way
    out = chat.send("查询")
    assert "还需签字：张*" in out and "回复“签字”" in out
    out = chat.send("签字")
    assert annex1.filled(filling(world)) in out  # its own application again, filled in
    chat.send("1")
    assert "已签字" in chat.send("张三")
    kinds = [a.kind for a in _auths(world, number)]
    assert kinds == [AuthorizationKind.SIGN, AuthorizationKind.WITHDRAW, AuthorizationKind.SIGN]


def test_withdrawing_is_in_the_menu_and_says_when_there_is_nothing_to_withdraw(world: World) -> None:
    chat = Chat(world)
    report_until_annex(chat)
    number = case_number(chat.send("2"))  # declined: nothing signed
    out = chat.send("菜单")
    assert "8 撤回授权" in out and "7 " in out
    out = chat.send("8")
    assert "案件 " + number + " 没有您签过的字，不需要撤回" in out
    assert "请回复数字" in out or "1 " in out  # back at the menu, not a dead end
    assert _auths(world, number) == []


def test_only_the_households_own_linked_identity_may_withdraw(world: World) -> None:
    household = Chat(world)
    number = _signed_case(world, household)
    world.notifier.sent.clear()

    stranger = Chat(world, user_key="30003")
    out = stranger.send("撤回授权")
    assert "只有农户自己申报或签字用的手机" in out and "12317" in out
    # knowing the case number and the ID digits is not enough: the question is not even asked
    out = stranger.send(number)
    assert "后 4 位" in out and "撤回" not in out

    proxy = Chat(world, user_key="40004")
    proxy.send("2")
    proxy.send("邻居家的房子被洪水冲垮了")
    for text in ["1", "王五", "13800002222", "李四", ID_LI, "三", "和平村", "1", "不清楚", "没有", "1"]:
        out = proxy.send(text)
    assert "只有农户自己申报或签字用的手机" in proxy.send("撤回授权")

    assert len(_auths(world, number)) == 1
    assert [e for e in world.notifier.events() if e[2] == "authorization_withdrawn"] == []


def test_a_closed_case_has_nothing_to_withdraw(world: World) -> None:
    chat = Chat(world)
    number = _signed_case(world, chat)
    chat.send("6")
    chat.send("1")  # the report itself is withdrawn (menu item 6)
    with world.factory() as db:
        case = db.scalar(select(Case).where(Case.number == number))
        assert case is not None and case.status == CaseStatus.WITHDRAWN
    out = chat.send("撤回授权")
    assert "案件 " + number + " 已经结束，不会再用您的授权查询家里的信息，不需要撤回" in out
    assert len(_auths(world, number)) == 1
