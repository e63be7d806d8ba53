"""Supplement, hand-off, withdraw, staff binding and the service's split and failure paths."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from cases.models import (
    Attachment as AttachmentRow,
)
from cases.models import (
    AuditEntry,
    BindingCode,
    Case,
    CaseEvent,
    CaseStatus,
    Contact,
    InboundMessage,
    InboundStatus,
    Outbox,
    Task,
)
from conversations.messages import Attachment
from conversations.service import ServiceContext, handle_inbound, process_inbound, record_inbound

from .conftest import ID_ZHANG, Chat, World, render
from .test_conv_dialogues import case_number, report_until_annex

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 2048


def signed_case(world: World, chat: Chat) -> str:
    report_until_annex(chat)
    chat.send("1")
    return case_number(chat.send("张三"))


def test_supplement_text_photo_voice_and_refusals(world: World) -> None:
    chat = Chat(world)
    number = signed_case(world, chat)
    out = chat.send("4")
    assert number in out and "好了" in out
    assert "收到了" in chat.send("医院的发票在这里")
    photo = Attachment(kind="photo", content_type="image/jpeg", data=JPEG)
    assert "收到了" in chat.send(None, (photo,))
    voice = Attachment(kind="voice", content_type="audio/amr", data=b"#!AMR\n" + b"\x01" * 100)
    assert "工作人员会听" in chat.send(None, (voice,))
    exe = Attachment(kind="document", content_type="application/x-msdownload", data=b"MZ")
    assert "收不了这种文件" in chat.send(None, (exe,))
    huge = Attachment(kind="photo", content_type="image/jpeg", file_id="tg-file-1", size=30 * 1024 * 1024)
    assert "文件太大" in chat.send(None, (huge,))
    out = chat.send("好了")
    assert "3 条材料" in out
    with world.factory() as db:
        case = db.scalar(select(Case).where(Case.number == number))
        assert case is not None
        rows = db.scalars(select(AttachmentRow).where(AttachmentRow.case_id == case.id)
                          .order_by(AttachmentRow.id)).all()
        assert [(r.kind, r.size, r.needs_listening) for r in rows] == [("photo", len(JPEG), False),
                                                                       ("voice", 106, True)]
        assert rows[0].data == JPEG  # kept whole
        notes = db.scalars(select(CaseEvent.note).where(CaseEvent.case_id == case.id,
                                                        CaseEvent.action == "supplement")).all()
        assert notes == ["医院的发票在这里"]


def test_photo_during_the_report_is_kept_with_it(world: World) -> None:
    chat = Chat(world)
    chat.send("我老伴生病住院了")
    photo = Attachment(kind="photo", content_type="image/png", data=b"\x89PNG" + b"\x00" * 64)
    out = chat.send(None, (photo,))
    assert "会和申报一起交给干部" in out and "对吗" in out  # the question is asked again
    chat.script("1", "张三", ID_ZHANG, "4", "西渡镇梅花村", "1", "3", "13912345678", "1", "1")
    number = case_number(chat.send("张三"))
    with world.factory() as db:
        case = db.scalar(select(Case).where(Case.number == number))
        row = db.scalar(select(AttachmentRow))
        assert case is not None and row is not None and row.case_id == case.id and row.report_id is not None


def test_human_hand_off_files_a_callback_task(world: World) -> None:
    chat = Chat(world)
    chat.script("我老伴生病住院了", "1")
    out = chat.send("人工")
    assert "12317" in out and "哪个号码" in out
    out = chat.send("我的电话是13712345678")
    assert "回电" in out and "9 " in out  # the report can be taken up again
    with world.factory() as db:
        task = db.scalar(select(Task).where(Task.kind == "callback"))
        assert task is not None and task.contact_id is not None
        assert task.detail["phone_masked"] == "137****5678"
        assert world.vault.decrypt(task.detail["phone_enc"]) == "13712345678"
        assert "13712345678" not in str(task.detail)
    assert "姓名" in chat.send("9")

    sms = Chat(world, channel="sms", user_key="+8613600001111")
    assert "回电" in sms.send("转人工")  # the number is known on SMS: no question
    with world.factory() as db:
        tasks = db.scalars(select(Task).where(Task.kind == "callback")).all()
        assert len(tasks) == 2


def test_withdraw(world: World) -> None:
    chat = Chat(world)
    number = signed_case(world, chat)
    out = chat.send("撤回")
    assert number in out and "1 确定撤回" in out
    assert "案件继续办理" in chat.send("2")
    chat.send("6")
    assert "已撤回" in chat.send("1")
    with world.factory() as db:
        case = db.scalar(select(Case).where(Case.number == number))
        assert case is not None and case.status == CaseStatus.WITHDRAWN
    assert "已撤回" in chat.send("查询")


def test_staff_binding_routes_to_cadre_commands(world: World) -> None:
    from conversations.binding import issue_code

    with world.factory() as db, db.begin():
        stale = issue_code(db=db, vault=world.vault, staff_id=world.cadre_id, now=world.clock())
        code = issue_code(db=db, vault=world.vault, staff_id=world.cadre_id, now=world.clock())
    assert len(code) == 8 and code.isdigit()
    cadre = Chat(world, user_key="cadre-chat")
    assert "绑定码不对" in cadre.send(f"绑定 {stale}")  # a newer code replaced it
    world.clock.advance(minutes=29)
    out = cadre.send(f"绑定 {code}")
    assert "绑定成功" in out and "李桂英" in out
    with world.factory() as db:
        contact = db.scalar(select(Contact).where(Contact.external_id == "cadre-chat"))
        assert contact is not None and contact.staff_id == world.cadre_id
        used = db.scalars(select(BindingCode.used_at)).all()
        assert len(used) == 2 and sum(u is not None for u in used) == 1
    assert "待办" in cadre.send("你好")  # the cadre command help, not the household menu
    other = Chat(world, user_key="other-chat")
    assert "绑定码不对" in other.send(f"绑定 {code}")  # one time only


def test_a_binding_code_expires(world: World) -> None:
    from conversations.binding import issue_code

    with world.factory() as db, db.begin():
        code = issue_code(db=db, vault=world.vault, staff_id=world.cadre_id, now=world.clock())
    world.clock.advance(minutes=31)
    assert "绑定码不对" in Chat(world, user_key="late").send(f"绑定{code}")


def test_record_then_process_and_inline_replies(world: World) -> None:
    chat = Chat(world, channel="sms", user_key="+8613500001111")
    msg = chat.message("你好", external_id="SM1")
    with world.factory() as db:
        inbound_id, duplicate = record_inbound(db, msg, ctx=world.ctx, now=world.clock())
    assert not duplicate
    with world.factory() as db:
        assert db.get(InboundMessage, inbound_id).status == InboundStatus.RECEIVED  # type: ignore[union-attr]
    with world.factory() as db:
        result = process_inbound(db, inbound_id, ctx=world.ctx, now=world.clock(), inline=True)
    assert "申报困难" in render(result)
    with world.factory() as db:
        rows = db.scalars(select(Outbox).where(Outbox.id.in_(result.outbox_ids))).all()
        assert rows and all(r.extra["inline"] is True for r in rows)
        assert all(r.next_attempt_at == world.clock() + timedelta(seconds=15) for r in rows)
        again = process_inbound(db, inbound_id, ctx=world.ctx, now=world.clock())
    assert again.duplicate and again.outbox_ids == result.outbox_ids


def test_a_failure_is_dead_lettered_with_an_apology(world: World) -> None:
    broken = ServiceContext(vault=world.vault, gazetteer=world.ctx.gazetteer, annex_version="no-such-version")
    chat = Chat(world, ctx=broken)
    out = chat.send("你好")
    assert "出了问题" in out and "12317" in out
    with world.factory() as db:
        row = db.scalar(select(InboundMessage))
        assert row is not None and row.status == InboundStatus.DEAD and row.error == "UnknownVersion"
        assert world.vault.decrypt(row.text or "") == "你好"  # what was typed is kept
        assert db.scalar(select(Outbox.body)) == chat.results[-1].replies[0].text
    with world.factory() as db:
        again = handle_inbound(db, chat.message("你好", external_id="m1"), ctx=world.ctx, now=world.clock())
    assert again.duplicate and again.replies == chat.results[-1].replies


def test_status_tells_the_notice_end_and_a_refusal_reason(world: World) -> None:
    from datetime import date

    chat = Chat(world)
    number = signed_case(world, chat)
    with world.factory() as db, db.begin():
        case = db.scalar(select(Case).where(Case.number == number))
        assert case is not None
        case.status = CaseStatus.PUBLIC_NOTICE
        case.notice_start, case.notice_end = date(2026, 3, 10), date(2026, 3, 17)
    out = chat.send("查询")
    assert "村里公示中" in out and "公示到：2026年3月17日" in out and "公示结束后，乡镇审核" in out
    with world.factory() as db, db.begin():
        case = db.scalar(select(Case).where(Case.number == number))
        assert case is not None
        case.status, case.refused_reason = CaseStatus.REFUSED, "家庭人均纯收入高于监测标准"
    out = chat.send("查询")
    assert "未通过" in out and "原因：家庭人均纯收入高于监测标准" in out and "申请复核" in out


def test_every_adult_signs_where_the_region_requires_it(world: World) -> None:
    from cases.intake import add_member
    from cases.models import RegionSetting

    with world.factory() as db, db.begin():
        for row in db.scalars(select(RegionSetting)):
            row.signers = "all_adults"
    chat = Chat(world)
    report_until_annex(chat)
    out = chat.send("2")  # not now
    number = case_number(out)
    with world.factory() as db, db.begin():
        case = db.scalar(select(Case).where(Case.number == number))
        assert case is not None
        add_member(db=db, vault=world.vault, household=case.household, name="王芳", relation="配偶",
                   id_number="430421198801010015")
    chat.send("签字")
    chat.send("1")
    out_head = chat.send("张三")
    assert "已签字" in out_head and "还需要王*签字" in out_head
    # her own phone is not the household's on record: it may read (masked) but not sign for the household
    spouse = Chat(world, channel="sms", user_key="+8613700009999")
    out = spouse.script("签字", number, ID_ZHANG[-4:])
    assert "只有这户人家本人能签字" in out and "您同意并签字吗" not in out
    # she signs from the household's own chat, as the reply above told the head
    assert "用这个手机或聊天账号发“签字”" in out_head
    chat.script("签字", "同意")
    assert "已签字" in chat.send("王芳")
    assert "已经签过字" in chat.send("签字")


def test_binding_codes_are_throttled(world: World) -> None:
    chat = Chat(world, user_key="guesser")
    for code in range(100000, 100005):
        assert "绑定码不对" in chat.send(f"绑定 {code}")
    assert "尝试次数太多" in chat.send("绑定 100006")


def test_a_contacts_last_message_time_is_kept_to_the_minute(world: World) -> None:
    chat = Chat(world)
    first = world.clock()
    chat.send("你好")

    def last_inbound() -> object:
        with world.factory() as db:
            contact = db.scalar(select(Contact).where(Contact.external_id == chat.user_key))
            assert contact is not None
            return contact.last_inbound_at

    world.clock.advance(seconds=30)
    chat.send("1")
    assert last_inbound() == first  # within the minute: not written again
    world.clock.advance(seconds=31)
    chat.send("2")
    assert last_inbound() == world.clock()


def test_the_cadre_is_told_once_of_what_the_household_sends_in_a_row(world: World) -> None:
    """Words, a photo and more words sent one after another are one notice to the case's cadre; what comes
    more than half an hour after the last is another."""
    chat = Chat(world)
    number = signed_case(world, chat)

    def told() -> list[tuple[str, int, str]]:
        return [e for e in world.notifier.events() if e[2] == "case_supplemented"]

    assert told() == []
    chat.send("4")
    chat.send("医院的发票在这里")
    assert told() == [("staff", world.cadre_id, "case_supplemented")]
    chat.send(None, (Attachment(kind="photo", content_type="image/jpeg", data=JPEG),))
    world.clock.advance(minutes=20)
    chat.send("还有一张")
    assert "3 条材料" in chat.send("好了") and len(told()) == 1
    params = [p for k, _, e, p in world.notifier.sent if e == "case_supplemented"][0]
    assert params["case_number"] == number and params["head_name_masked"] == "张*"
    world.clock.advance(minutes=31)
    chat.send("4")
    chat.send("老伴又住院了")
    assert len(told()) == 2


def test_a_photo_or_voice_sent_after_filing_is_kept_with_the_households_open_case(world: World) -> None:
    """It was 'thank you; to add this to your report, choose 4 and send it again' (nothing kept; the
    voice message was told it cannot be listened to). From the household's own chat, its case open, it
    goes with the case, words sent along too, and more may follow."""
    chat = Chat(world)
    number = signed_case(world, chat)
    out = chat.send("医院发票", (Attachment(kind="photo", content_type="image/jpeg", data=JPEG),))
    assert f"已加到案件 {number}" in out and "好了" in out and out.count("收到了") == 1, out  # once a message
    voice = Attachment(kind="voice", content_type="audio/amr", data=b"#!AMR\n" + b"\x01" * 100)
    assert "工作人员会听" in chat.send(None, (voice,))
    assert "3 条材料" in chat.send("好了")
    with world.factory() as db:
        case = db.scalar(select(Case).where(Case.number == number))
        assert case is not None
        kinds = db.scalars(select(AttachmentRow.kind).where(AttachmentRow.case_id == case.id)
                           .order_by(AttachmentRow.id)).all()
        assert kinds == ["photo", "voice"]
        notes = db.scalars(select(CaseEvent.note).where(CaseEvent.case_id == case.id,
                                                        CaseEvent.action == "supplement")).all()
        assert notes == ["医院发票"]
    stranger = Chat(world, user_key="40404")  # not linked to any case: asked to choose 4 as before
    out = stranger.send(None, (Attachment(kind="photo", content_type="image/jpeg", data=JPEG),))
    assert "4" in out and "已加到案件" not in out, out


def bound_cadre(world: World) -> Chat:
    """The village cadre's own chat, bound with a code from the console."""
    from conversations.binding import issue_code

    with world.factory() as db, db.begin():
        code = issue_code(db=db, vault=world.vault, staff_id=world.cadre_id, now=world.clock())
    cadre = Chat(world, user_key="cadre-chat")
    assert "绑定成功" in cadre.send(f"绑定 {code}")
    return cadre


def test_a_cadres_photos_are_kept_with_the_case_the_caption_or_the_next_message_names(world: World) -> None:
    """A bound cadre's photo (a home visit, a signed paper) got the command list and was dropped."""
    number = signed_case(world, Chat(world))
    cadre = bound_cadre(world)
    photo = Attachment(kind="photo", content_type="image/jpeg", data=JPEG)
    assert f"已存到案件 {number}：1 个文件" in cadre.send(f"{number} 入户照片", (photo,))
    out = cadre.send(None, (photo, photo))  # no number: kept, and the number asked for
    assert "收到 2 个文件" in out and "哪个案件" in out, out
    assert "待办" in cadre.send("待办")  # a command meanwhile: the files keep waiting
    assert "没有案件 SBZZZZZZZZ" in cadre.send("SBZZZZZZZZ")  # not a case of theirs: asked again
    assert f"已存到案件 {number}：2 个文件" in cadre.send(number.lower())
    exe = Attachment(kind="document", content_type="application/x-msdownload", data=b"MZ")
    assert "收不了这种文件" in cadre.send(None, (exe,))
    cadre.send(None, (photo,))
    assert "没有存" in cadre.send("取消")
    with world.factory() as db:
        case = db.scalar(select(Case).where(Case.number == number))
        assert case is not None
        kept = db.scalars(select(AttachmentRow).where(AttachmentRow.case_id == case.id)).all()
        assert len(kept) == 3 and all(r.data == JPEG for r in kept)
        assert db.scalars(select(AttachmentRow).where(AttachmentRow.case_id.is_(None))).all() == []
        events = db.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                    CaseEvent.action == "staff_attachment")).all()
        assert [e.note for e in events] == ["入户照片", None] and all(e.actor_staff_id == world.cadre_id
                                                                   for e in events)
        audits = db.scalars(select(AuditEntry).where(AuditEntry.action == "attachment.add")).all()
        assert [(a.entity_id, a.actor_staff_id) for a in audits] == [(str(case.id), world.cadre_id)] * 2


def test_files_added_after_filing_keep_their_channel_and_a_cadres_who_sent_them(world: World) -> None:
    """The household's files sent with its case open, and a cadre's from the bound chat, kept no channel (the
    console could only say 聊天补充) and nothing told a cadre's from the household's."""
    chat = Chat(world, channel="wechat", user_key="oWx-household")
    number = signed_case(world, chat)
    chat.send(None, (Attachment(kind="photo", content_type="image/jpeg", data=JPEG),))
    chat.send(None, (Attachment(kind="voice", content_type="audio/amr", data=b"#!AMR\n" + b"\x01" * 100),))
    cadre = bound_cadre(world)
    cadre.send(f"{number} 入户照片", (Attachment(kind="photo", content_type="image/jpeg", data=JPEG),))
    with world.factory() as db:
        case = db.scalar(select(Case).where(Case.number == number))
        assert case is not None
        rows = db.scalars(select(AttachmentRow).where(AttachmentRow.case_id == case.id)
                          .order_by(AttachmentRow.id)).all()
        assert [(r.kind, r.channel, r.sent_by_staff_id, r.report_id) for r in rows] == [
            ("photo", "wechat", None, None), ("voice", "wechat", None, None),
            ("photo", "telegram", world.cadre_id, None)]


def test_a_photo_sent_with_the_report_keeps_the_reports_channel(world: World) -> None:
    chat = Chat(world, channel="sms", user_key="+8613912345678")
    chat.send("我老伴生病住院了")
    chat.send(None, (Attachment(kind="photo", content_type="image/png", data=b"\x89PNG" + b"\x00" * 64),))
    with world.factory() as db:
        row = db.scalar(select(AttachmentRow))
        assert row is not None and (row.channel, row.sent_by_staff_id) == ("sms", None)
