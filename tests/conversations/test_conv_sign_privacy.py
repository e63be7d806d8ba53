"""Signing later is for the household itself (issue 4: a proxy report's "signature stays pending until
they sign from their own phone or at the home visit"). An identity not linked to the household reads
annex 1 with the name masked and the address down to the township only, so typing the name it was shown
proves nothing; it cannot sign at all unless it is the household's own phone on record."""

from __future__ import annotations

from sqlalchemy import func, select

from cases import annex1, annex1_text
from cases.clock import BEIJING
from cases.intake import pending_signatures
from cases.models import Authorization, Case, Channel, Contact
from conversations.apply import Applier
from conversations.commands import FillAnnex, SignAuthorization
from conversations.messages import InboundMessage

from .conftest import ID_LI, ID_ZHANG, Chat, World
from .test_conv_dialogues import annex_body, case_number, filling, flat, report_until_annex

TOWNSHIP = "湖南省衡阳市衡阳县西渡镇"
HEAD = "周桂兰"  # not 张三: that name is the example in the name prompts
MASKED_HEAD = ("姓名：周**，身份证号：430421********1234，"
               "家庭住址：湖南省衡阳市衡阳县西渡镇***村***组。家庭4口人。")
MASKED_LI = ("姓名：李*，身份证号：430421********456X，"
             "家庭住址：湖南省衡阳市衡阳县台源镇***村***组。家庭3口人。")
REFUSAL = "只有这户人家本人能签字"


def masked_filling(world: World) -> annex1.Filling:
    """What an unlinked identity reads of report_until_annex's application."""
    today = world.clock().astimezone(BEIJING).date()
    return annex1.Filling(name="周**", id_number=ID_ZHANG, address=TOWNSHIP + "***村", group="***组", size=4,
                          risks=("01",), guarantees=("A23",), signed_on=today)


def everything_said(chat: Chat) -> str:
    """Every reply of the whole dialogue, texts and choices, without line ends."""
    return flat("\n".join(t for res in chat.results for r in res.replies for t in (r.text, *r.choices)))


def signatures(world: World, number: str) -> int:
    with world.factory() as db:
        case = db.scalar(select(Case).where(Case.number == number))
        assert case is not None
        return int(db.scalar(select(func.count()).select_from(Authorization)
                             .where(Authorization.case_id == case.id)) or 0)


def test_a_stranger_who_passed_the_lookup_sees_only_the_masked_annex_and_cannot_sign(world: World) -> None:
    household = Chat(world)
    report_until_annex(household, name=HEAD)
    number = case_number(household.send("2"))  # declined: the signature is pending

    stranger = Chat(world, user_key="50005")
    assert "案件号" in stranger.send("签字")
    assert "后 4 位" in stranger.send(number)
    out = stranger.send(ID_ZHANG[-4:])  # the lookup passes: case number and the ID's last four
    body = annex_body(stranger)
    assert body == annex1.filled(masked_filling(world)) and MASKED_HEAD in body
    assert "部分" in out  # told why the name and address are partly hidden
    assert REFUSAL in out and "上门" in out and "人工" in out  # how the household signs, and help
    assert "您同意并签字吗" not in out  # never asked to sign
    assert "1 申报困难" in out and "7 找工作人员" in out  # numbered choices: no dead end
    for text in ("同意", "周**", "签字", number, ID_ZHANG[-4:], "同意", "周**"):  # trying anyway
        stranger.send(text)
    assert signatures(world, number) == 0
    said = everything_said(stranger)
    for secret in (HEAD, "梅花村", "3组", ID_ZHANG):
        assert secret not in said, secret

    # the household's own chat still reads its full application and signs it
    out = household.send("签字")
    full = annex1.filled(filling(world, name=HEAD))
    assert full in out and HEAD in full and "梅花村3组" in full
    household.send("1")
    assert "已签字" in household.send(HEAD)
    with world.factory() as db:
        case = db.scalar(select(Case).where(Case.number == number))
        assert case is not None and pending_signatures(db=db, vault=world.vault, case=case) == []
        auth = db.scalar(select(Authorization).where(Authorization.case_id == case.id))
        assert auth is not None and auth.shown_variant == annex1_text.FULL
        assert auth.shown_sha256 == annex1.digest(full) and annex1_text.rebuild(db, world.vault, auth) == full
        assert annex1_text.verify(db, world.vault, auth) is True
        assert auth.text_sha256 == annex1.sha256()  # the template's hash as before


def proxy_report(world: World, *, head_phone: str | None, proxy_phone: str = "13800002222") -> str:
    """A neighbour reports 李四's flooded house from Telegram; the case number."""
    proxy = Chat(world, user_key="20002")
    proxy.send("2")
    proxy.send("邻居家的房子被洪水冲垮了")
    for text in ("1", "王五", proxy_phone, "李四", ID_LI, "三", "和平村", "1", "不清楚"):
        proxy.send(text)
    out = proxy.send(head_phone or "没有")
    assert "请核对" in out
    return case_number(proxy.send("1"))


def test_the_households_own_phone_on_record_signs_the_masked_text(world: World) -> None:
    number = proxy_report(world, head_phone="13900003333")
    own = Chat(world, channel="sms", user_key="+8613900003333")  # the head's number the neighbour gave
    own.send("签字")
    own.send(number)
    out = own.send(ID_LI[-4:])
    body = annex_body(own)
    assert MASKED_LI in flat(body) and "您同意并签字吗" in out and "全名" in out
    out = own.send("同意")
    assert "全名" in out
    assert "不是这户的家庭成员" in own.send("李*")  # the masked name shown is not a signature
    before = everything_said(own)
    for secret in ("李四", "和平村", ID_LI):
        assert secret not in before, secret
    out = own.send("李四")
    assert "已签字" in out and "以后案件的消息会发到这里" in out
    with world.factory() as db:
        case = db.scalar(select(Case).where(Case.number == number))
        assert case is not None and pending_signatures(db=db, vault=world.vault, case=case) == []
        auth = db.scalar(select(Authorization).where(Authorization.case_id == case.id))
        assert auth is not None and auth.channel == "sms" and auth.shown_variant == annex1_text.MASKED
        assert auth.shown_sha256 == annex1.digest(body) and annex1_text.rebuild(db, world.vault, auth) == body
        assert annex1_text.verify(db, world.vault, auth) is True and auth.text_sha256 == annex1.sha256()
        contact = db.scalar(select(Contact).where(Contact.external_id == "+8613900003333"))
        assert contact is not None and contact.household_id == case.household_id
    assert "已经签过字" in own.send("签字")  # linked now: no lookup, nothing more to sign


def test_a_phone_not_on_record_is_told_how_the_household_signs(world: World) -> None:
    number = proxy_report(world, head_phone=None)
    other = Chat(world, channel="sms", user_key="+8613900004444")
    other.send("签字")
    other.send(number)
    out = other.send(ID_LI[-4:])
    assert MASKED_LI in flat(annex_body(other))
    assert REFUSAL in out and "上门" in out and "您同意并签字吗" not in out
    other.send("同意")
    other.send("李*")
    assert signatures(world, number) == 0
    assert "李四" not in everything_said(other) and "和平村" not in everything_said(other)


def test_a_proxy_cannot_sign_even_from_the_number_it_gave_as_the_heads(world: World) -> None:
    number = proxy_report(world, head_phone="13800002222", proxy_phone="13800002222")
    same = Chat(world, channel="sms", user_key="+8613800002222")
    same.send("签字")
    same.send(number)
    out = same.send(ID_LI[-4:])
    assert "代为申报的人不能代签" in out and "您同意并签字吗" not in out
    assert MASKED_LI in flat(annex_body(same))
    assert signatures(world, number) == 0


def test_the_applier_refuses_an_unlinked_signature_whatever_text_was_shown(world: World) -> None:
    """The engine never asks an unlinked identity for a name; the applier refuses one all the same."""
    household = Chat(world)
    report_until_annex(household, name=HEAD)
    number = case_number(household.send("2"))
    now = world.clock()
    today = now.astimezone(BEIJING).date()
    with world.factory() as db, db.begin():
        stranger = Contact(channel=Channel.TELEGRAM, external_id="60006", created_at=now)
        db.add(stranger)
        db.flush()
        msg = InboundMessage(channel="telegram", user_key="60006", external_id="x1", text=HEAD,
                             received_at=now)
        apply = Applier(db=db, vault=world.vault, notifier=world.notifier, contact_id=stranger.id,
                        message=msg, now=now)
        shown = apply(FillAnnex(text_version=annex1.CURRENT_VERSION, case_number=number))
        assert shown.ok and shown.data["variant"] == annex1_text.MASKED and shown.data["may_sign"] is False
        assert shown.data["refusal"] == "not_household" and MASKED_HEAD in shown.data["text"]
        case = db.scalar(select(Case).where(Case.number == number))
        assert case is not None
        for variant in (annex1_text.FULL, annex1_text.MASKED):
            text, report_id = annex1_text.case_text(db, world.vault, case, signed_on=today, variant=variant)
            result = apply(SignAuthorization(number, HEAD, annex1.CURRENT_VERSION,
                                             shown_sha256=annex1.digest(text), report_id=report_id))
            assert (result.ok, result.reason) == (False, "not_household")
        assert db.scalar(select(func.count()).select_from(Authorization)) == 0
        own = db.scalar(select(Contact).where(Contact.external_id == "10001"))
        assert own is not None
        mine = Applier(db=db, vault=world.vault, notifier=world.notifier, contact_id=own.id, message=msg,
                       now=now)
        full = mine(FillAnnex(text_version=annex1.CURRENT_VERSION, case_number=number))
        assert full.data["variant"] == annex1_text.FULL and full.data["may_sign"] is True
        assert full.data["text"] == annex1.filled(filling(world, name=HEAD))
