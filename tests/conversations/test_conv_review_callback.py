"""人工 after a refusal is how a household asks for a review (复核): the call-back it files carries the case
and says it is a review request. It reached the hotline with no case and '人工' as its only note."""

from __future__ import annotations

from sqlalchemy import select, update

from cases.models import AuditEntry, Case, Task, TaskStatus

from .conftest import ID_LI, ID_ZHANG, MEIHUA, Chat, World
from .test_conv_dialogues import case_number, report_until_annex
from .test_conv_round5 import signed_household
from .test_conv_why_refused import refused


def callbacks(world: World) -> list[Task]:
    with world.factory() as db:
        return list(db.scalars(select(Task).where(Task.kind == "callback").order_by(Task.id)))


def case_id(world: World, number: str) -> int:
    with world.factory() as db:
        found = db.scalar(select(Case.id).where(Case.number == number))
        assert found is not None
        return found


def test_a_person_asked_for_after_a_refusal_is_a_review_request_on_the_case(world: World) -> None:
    chat, number = signed_household(world)
    refused(world, number)
    assert "申请复核" in chat.send("为什么不给我")
    assert "打您登记的号码 139****5678 可以吗" in chat.send("人工")  # the number given in the report
    assert "回电" in chat.send("1")
    (task,) = callbacks(world)
    assert task.case_id == case_id(world, number) and task.area_code == MEIHUA
    # 人工 alone says nothing more: no 原话 (it read 原话：人工, or 原话：7 from the menu)
    assert task.detail["note"] == f"申请复核：案件 {number} 未通过，农户要求人工回电。"
    assert task.detail["phone_masked"] == "139****5678"


def test_a_chat_that_looked_up_the_refused_case_asks_for_its_review(world: World) -> None:
    """A relative's chat, not linked to the household, that looked the case up with the number and ID
    digits."""
    _, number = signed_household(world)
    refused(world, number)
    other = Chat(world, user_key="20002")
    other.send("查询")
    assert "未通过" in other.send(f"{number} {ID_ZHANG[-4:]}")
    other.send("我要人工")
    other.send("13712345678")
    (task,) = callbacks(world)
    assert task.case_id == case_id(world, number)
    note = task.detail["note"]
    assert note.startswith(f"申请复核：案件 {number} 未通过") and "我要人工" in note


def test_a_person_asked_for_with_the_case_open_has_the_case_and_the_words_as_said(world: World) -> None:
    chat, number = signed_household(world)
    chat.send("人工，有事打我电话13912345678")
    (task,) = callbacks(world)
    assert task.case_id == case_id(world, number) and task.area_code == MEIHUA
    assert task.detail["note"] == "人工，有事打我电话139****5678"  # the number kept masked in the words


def test_a_chat_with_no_case_still_gets_its_call_back(world: World) -> None:
    chat = Chat(world, user_key="30003")
    chat.send("人工")
    assert "回电" in chat.send("13912345678")
    (task,) = callbacks(world)
    assert task.case_id is None and task.area_code is None and task.detail["note"] == ""  # 人工 alone


def test_the_menu_s_choice_for_a_person_leaves_no_note_of_its_number(world: World) -> None:
    chat = Chat(world, user_key="30004")
    assert "7" in chat.send("你好")
    assert "打哪个号码" in chat.send("7")
    chat.send("13912345678")
    (task,) = callbacks(world)
    assert task.detail["note"] == ""  # it was "7", which tells the hotline nothing


def test_two_call_backs_asked_in_the_same_second_make_one_call(world: World) -> None:
    """A household that reported and signed by SMS (its number known: 人工 files at once) sends 人工 twice in
    the same second, as a cheap phone resends: the second failed ('we have a problem', dead-lettered), as
    the call-back now carries the case and its cycle (the contact and the second) was taken for the case.
    The second now joins the first, which still waits: one call, its words added."""
    sms = Chat(world, channel="sms", user_key="+8613912345678")
    report_until_annex(sms)
    sms.send("1")
    number = case_number(sms.send("张三"))
    for said in ("人工", "人工，快点"):
        out = sms.send(said)
        assert "回电" in out and "出了问题" not in out, out
    (task,) = callbacks(world)
    assert task.case_id == case_id(world, number) and task.detail["note"] == "人工，快点"


def test_a_call_back_asked_again_while_one_waits_is_one_call_with_what_was_said(world: World) -> None:
    """人工 again before the hotline called: a second task put the household twice on the desk (two calls,
    or one left open after the other was made). The waiting one takes the new words and the new number, the
    household is told it asked already; once the hotline closed it, 人工 files a new one."""
    chat = Chat(world, user_key="30005")
    chat.send("人工")
    assert "回电" in chat.send("13912345678")
    out = chat.send("还是要人工，打我崽电话13700002222")
    assert "已经申请过回电" in out and "不用再申请" in out, out
    (task,) = callbacks(world)
    assert task.detail["note"] == "还是要人工，打我崽电话137****2222"
    assert task.detail["phone_masked"] == "137****2222"
    assert world.vault.decrypt(task.detail["phone_enc"]) == "13700002222"
    with world.factory() as db, db.begin():
        db.execute(update(Task).where(Task.id == task.id).values(status=TaskStatus.DONE))
    chat.send("人工")
    out = chat.send("13912345678")
    assert "回电" in out and "已经申请过" not in out, out
    assert [t.status for t in callbacks(world)] == [TaskStatus.DONE, TaskStatus.OPEN]
    with world.factory() as db:
        actions = db.scalars(select(AuditEntry.action).where(AuditEntry.entity == "task")
                             .order_by(AuditEntry.id)).all()
    assert actions.count("callback.request_again") == 1


def test_a_household_with_a_number_on_record_may_give_another(world: World) -> None:
    chat, number = signed_household(world)
    assert "1 可以，打这个号码" in chat.send("人工")
    assert "打哪个号码" in chat.send("2")
    chat.send("13712345678")
    (task,) = callbacks(world)
    assert task.detail["phone_masked"] == "137****5678" and task.case_id == case_id(world, number)
    assert world.vault.decrypt(task.detail["phone_enc"]) == "13712345678"


def test_the_other_number_may_be_typed_at_once_and_the_one_on_record_is_stored_encrypted(
    world: World
) -> None:
    chat, _number = signed_household(world)
    chat.send("人工")
    assert "回电" in chat.send("打我儿子的 13712345678")  # typed at the offer: that one is called
    (called,) = callbacks(world)
    with world.factory() as db, db.begin():  # the hotline called (a request while one waits joins it)
        db.execute(update(Task).where(Task.id == called.id).values(status=TaskStatus.DONE))
    chat.send("人工")
    assert "回电" in chat.send("1")
    first, second = callbacks(world)
    assert first.detail["phone_masked"] == "137****5678"
    assert second.detail["phone_masked"] == "139****5678"
    assert world.vault.decrypt(second.detail["phone_enc"]) == "13912345678"


def test_an_sms_from_the_phone_on_record_files_its_call_back_with_the_household_s_case(world: World) -> None:
    """The household reported from its chat with its mobile number; an SMS from that number (a contact not
    linked to it) asking for a person filed the call-back with no case: the hotline saw neither the case
    nor that it was a review request (复核). The sender is told nothing more than any number is."""
    _chat, number = signed_household(world)  # 139 1234 5678 on record
    refused(world, number)
    stranger = Chat(world, channel="sms", user_key="+8613700001111").send("人工")
    out = Chat(world, channel="sms", user_key="+8613912345678").send("人工")
    assert out == stranger and "回电" in out and number not in out  # nothing of the case said
    unknown, task = callbacks(world)
    assert unknown.case_id is None
    assert task.case_id == case_id(world, number) and task.area_code == MEIHUA
    assert task.detail["note"] == f"申请复核：案件 {number} 未通过，农户要求人工回电。"
    assert task.detail["phone_masked"] == "139****5678"


def test_an_sms_from_the_phone_on_record_carries_the_open_case_and_the_words(world: World) -> None:
    _chat, number = signed_household(world)
    sms = Chat(world, channel="sms", user_key="+8613912345678")
    assert "回电" in sms.send("我要人工，房子的事")
    (task,) = callbacks(world)
    assert task.case_id == case_id(world, number) and task.detail["note"] == "我要人工，房子的事"
    assert "案件号" in sms.send("查询")  # still not linked: its case is not shown without the number


def test_a_phone_on_record_for_two_households_files_its_call_back_with_no_case(world: World) -> None:
    signed_household(world)
    other = Chat(world, user_key="10002")
    report_until_annex(other, id_number=ID_LI, name="李四")  # the same mobile number given
    other.send("1")
    other.send("李四")
    assert "回电" in Chat(world, channel="sms", user_key="+8613912345678").send("人工")
    (task,) = callbacks(world)
    assert task.case_id is None and task.area_code is None
