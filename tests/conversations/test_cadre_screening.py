"""排查: a contact cadre files a household found by screening (干部走访排查) from the bound chat, in numbered
questions, read back and confirmed; filed as reporter `cadre` with the cadre as the reporting staff member,
audited as POST /api/cases files it, joining the household's open case instead of opening a second one."""

from __future__ import annotations

from sqlalchemy import func, select

from cases.models import Area, AreaLevel, AuditEntry, Case, Household, Report, ReporterKind, Role, Staff, Task
from conversations.binding import issue_code
from conversations.flows.cadre_commands import help_text
from conversations.i18n import translator
from conversations.service import state_of

from .conftest import HEPING, ID_LI, ID_ZHANG, MEIHUA, SHISHI, XIDU, Chat, World
from .test_conv_dialogues import case_number
from .test_conv_flows import bound_cadre, signed_case

WHAT = "户主中风卧床，看病花了三万多，房子漏雨"
ID_QUESTION = "张三的身份证号？（18位）手头没有就回复 1。\n1 先不填身份证号\n0 返回"  # with its keyboard


def cases(world: World) -> list[Case]:
    with world.factory() as db:
        return list(db.scalars(select(Case).order_by(Case.id)))


def bound_staff(world: World, *, role: Role, area: str, user_key: str, username: str) -> Chat:
    """Another staff account with its chat bound."""
    with world.factory() as db, db.begin():
        staff = Staff(username=username, name="王建华", role=role, area_code=area, created_at=world.clock())
        db.add(staff)
        db.flush()
        code = issue_code(db=db, vault=world.vault, staff_id=staff.id, now=world.clock())
    chat = Chat(world, user_key=user_key)
    assert "绑定成功" in chat.send(f"绑定 {code}")
    return chat


def up_to_village(cadre: Chat, *, name: str = "张三", id_number: str = ID_ZHANG) -> str:
    assert "户主姓名" in cadre.send("排查")
    assert f"{name}的身份证号" in cadre.send(name)
    assert "户主手机号" in cadre.send(id_number)
    return cadre.send("139 1234 5678")


def up_to_read_back(cadre: Chat, size: str = "4") -> str:
    """张三's report in the cadre's own village, 3组, up to the read-back."""
    up_to_village(cadre)
    cadre.send("1")
    cadre.send("3组")
    cadre.send(size)
    return cadre.send(WHAT)


def test_a_cadre_files_a_household_found_by_screening(world: World) -> None:
    cadre = bound_cadre(world)
    assert "排查 — 上报走访排查发现的农户" in cadre.send("你好")  # the command list names it
    out = cadre.send("排查")
    assert out.startswith("排查上报：户主姓名？") and "取消" in out and "0 返回" in out
    out = cadre.send("张三")
    assert "张三的身份证号？（18位）" in out
    assert "户主手机号？没有就回复 1。" in cadre.send(ID_ZHANG)
    out = cadre.send("139 1234 5678")
    assert "这户在哪个村？" in out and "1 西渡镇梅花村（本村）" in out
    assert "2 " not in out  # a contact cadre's area is their village
    assert "是哪个村民小组？如：3组。不清楚请回复“不清楚”。" in cadre.send("1")  # as a household's report
    assert "这户一共几口人？" in cadre.send("3组")
    assert "这户有什么困难？" in cadre.send("4口人")
    out = cadre.send(WHAT)  # read as the household's words are: risks, 三保障, amounts
    for line in ("请核对排查上报：", "户主：张三", "身份证：430421********1234", "电话：139****5678",
                 "住址：西渡镇梅花村3组", "家庭人口：4人", "困难：因病、住房安全", "约30,000元",
                 "1 对，上报", "2 改"):
        assert line in out, (line, out)
    assert "张三" not in out.replace("户主：张三", "") and ID_ZHANG not in out
    assert cases(world) == []  # nothing is filed before the 1
    out = cadre.send("1")
    number = case_number(out)
    assert f"已上报：案件号 {number}（走访排查）" in out
    assert "张三还要签申请及承诺授权书（附件1），请入户时签字。" in out
    assert "案件已分给您" in out  # the village's one contact cadre
    with world.factory() as db:
        case = db.scalars(select(Case)).one()
        report = db.scalars(select(Report)).one()
        household = db.get(Household, case.household_id)
        entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "report.cadre"))
        assert household is not None and entry is not None
        assert (case.number, case.discovery, case.area_code) == (number, ReporterKind.CADRE, MEIHUA)
        assert case.risks == ["01"] and case.guarantees == ["A23"]
        assert report.reporter_kind == ReporterKind.CADRE and report.channel == "telegram"
        assert report.parsed["reported_by_staff_id"] == world.cadre_id and report.parsed["amounts"] == [30000]
        assert report.raw_text == WHAT and report.contact_id is None
        assert (household.head_name, household.size, household.village_code) == ("张三", 4, MEIHUA)
        assert household.group_name == "3组"
        assert world.vault.decrypt(household.phone_enc or "") == "13912345678"
        assert world.vault.decrypt(household.id_number_enc or "") == ID_ZHANG
        assert entry.actor == f"staff:{world.cadre_id}" and entry.actor_staff_id == world.cadre_id
        assert entry.entity_id == str(case.id) and entry.area_code == MEIHUA
        assert entry.detail == {"case": number, "joined": False, "report_id": report.id}
    assert state_of(world.factory(), "telegram", "cadre-chat", world.vault).get("flow") is None
    assert cadre.send("待办").startswith("您的待办")  # the chat is the cadre's commands again


def test_a_village_outside_the_cadres_area_is_refused(world: World) -> None:
    cadre = bound_cadre(world)
    assert "这户在哪个村？" in up_to_village(cadre)
    out = cadre.send("石狮村")  # the same township, not the cadre's village
    assert "西渡镇石狮村不在您的辖区，只能上报本辖区的农户。" in out and "1 西渡镇梅花村（本村）" in out
    assert "台源镇和平村不在您的辖区" in cadre.send("台源镇和平村")
    assert "没有这个村" in cadre.send("幸福村")  # known nowhere
    assert "是哪个村民小组？" in cadre.send("梅花")  # the cadre's own, by its bare name
    assert cases(world) == []


def test_a_township_lists_its_villages_and_files_any_of_them(world: World) -> None:
    township = bound_staff(world, role=Role.TOWNSHIP, area=XIDU, user_key="xidu-chat", username="xidu")
    out = up_to_village(township)
    assert "1 西渡镇梅花村" in out and "2 西渡镇石狮村" in out and "本村" not in out
    assert "和平村" not in out  # another township's
    assert "台源镇和平村不在您的辖区" in township.send("和平村")
    assert "是哪个村民小组？" in township.send("石狮村")
    assert "几口人" in township.send("不清楚")
    township.send("3")
    township.send(WHAT)
    out = township.send("1")
    assert "该村暂无联系人，由乡镇指派。" in out  # 石狮村 has no contact cadre
    (case,) = cases(world)
    assert case.area_code == SHISHI and case.discovery == ReporterKind.CADRE


def test_the_id_number_of_a_household_with_an_open_case_joins_it(world: World) -> None:
    number = signed_case(world, Chat(world))  # 张三 reported and signed from the household's chat
    cadre = bound_cadre(world)
    up_to_village(cadre)
    cadre.send("1")
    cadre.send("3组")
    cadre.send("4")
    cadre.send("儿子务工受伤，没有收入")
    out = cadre.send("1")
    assert f"这户已有在办案件 {number}，本次上报已并入该案件。" in out
    assert "附件1" not in out  # signed already
    (case,) = cases(world)
    with world.factory() as db:
        kinds = list(db.scalars(select(Report.reporter_kind).where(Report.case_id == case.id)
                                .order_by(Report.id)))
        entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "report.cadre"))
    assert kinds == [ReporterKind.SELF, ReporterKind.CADRE] and case.discovery == ReporterKind.SELF
    assert entry is not None and entry.detail["joined"] is True and entry.detail["case"] == number


def test_an_invalid_id_number_is_asked_again_kindly(world: World) -> None:
    cadre = bound_cadre(world)
    cadre.send("排查")
    cadre.send("李四")
    out = cadre.send(ID_LI[:-1])
    assert "身份证号码是 18 位，您输入了 17 位。请核对后再输一次。" in out and "0 返回" in out
    wrong = ID_LI[:-1] + ("0" if ID_LI[-1] != "0" else "1")
    assert "最后一位" in cadre.send(wrong)
    assert "需要身份证号" in cadre.send("不知道")
    assert "不是身份证号码" in cadre.send("身份证在他儿子那里")
    assert "户主手机号" in cadre.send(ID_LI.lower())  # the x of a number is read as X
    assert cases(world) == []


def test_an_id_and_a_phone_typed_with_the_name_are_not_asked_again(world: World) -> None:
    cadre = bound_cadre(world)
    cadre.send("排查")
    assert "这户在哪个村？" in cadre.send(f"张三 {ID_ZHANG} 13912345678")


def test_cancel_mid_way_files_nothing_and_keeps_what_was_typed(world: World) -> None:
    cadre = bound_cadre(world)
    cadre.send("排查")
    cadre.send("张三")
    cadre.send(ID_ZHANG)
    assert "已取消，没有上报。填过的先留着：发“排查”可接着填。" in cadre.send("取消")
    assert cases(world) == []
    assert cadre.send("待办").startswith("您目前没有待办")  # a command again, not an answer
    out = cadre.send("排查")
    assert "您排查上报的张三户还没填完。" in out and "1 接着填上次的" in out and "2 重新报一户" in out
    assert "户主手机号" in cadre.send("1")  # the first question not answered
    cadre.send("1")
    cadre.send("1")
    cadre.send("3组")
    cadre.send("4")
    cadre.send(WHAT)
    cadre.send("取消")  # at the read-back
    cadre.send("排查")
    out = cadre.send("1")
    assert "请核对排查上报" in out and "户主：张三" in out  # asked again where it was set aside
    assert "已上报" in cadre.send("1")
    assert len(cases(world)) == 1
    out = cadre.send("排查")  # nothing set aside any more: a new report
    assert out.startswith("排查上报：户主姓名？")
    assert cadre.send("取消") == "已取消，没有上报。"


def test_0_goes_back_a_step_and_before_the_first_question_stops(world: World) -> None:
    cadre = bound_cadre(world)
    up_to_village(cadre)
    assert "户主手机号" in cadre.send("0")
    assert "张三的身份证号" in cadre.send("0")
    assert "户主姓名" in cadre.send("返回")
    assert "已取消" in cadre.send("0")
    assert cadre.send("0").startswith("干部指令")  # no report under way: the command list
    assert cases(world) == []


def test_a_change_from_the_read_back_comes_back_to_it(world: World) -> None:
    cadre = bound_cadre(world)
    up_to_village(cadre)
    cadre.send("1")
    cadre.send("3组")
    cadre.send("五六个")  # two sizes: which one
    assert "请只回复一个数字" in cadre.send("五六个")
    cadre.send("5")
    cadre.send(WHAT)
    out = cadre.send("2")
    assert "要改哪一项？" in out and "3 电话" in out and "6 困难" in out
    assert "户主手机号" in cadre.send("3")
    out = cadre.send("没有")
    assert "请核对排查上报" in out and "电话：无" in out and "家庭人口：5人" in out
    cadre.send("改")
    cadre.send("6")
    out = cadre.send("家里遭了灾，庄稼全毁了")  # a disaster of no kind said: which (A27a)
    assert "是什么灾害？" in out
    out = cadre.send("1")
    assert "困难：因自然灾害" in out and "因病" not in out
    cadre.send("1")
    with world.factory() as db:
        report = db.scalars(select(Report)).one()
        assert report.risks == ["04"] and report.disasters == ["01"] and report.household_size == 5


def test_a_command_meanwhile_is_answered_and_the_question_asked_again(world: World) -> None:
    cadre = bound_cadre(world)
    cadre.send("排查")
    cadre.send("张三")
    out = cadre.send("待办")
    assert out.startswith("您目前没有待办") and out.endswith(ID_QUESTION)
    question = ID_QUESTION
    out = cadre.send("帮助")
    assert out.startswith("回答下面的问题即可。回复 0 返回上一步") and out.endswith(question)
    assert "户主手机号" in cadre.send(ID_ZHANG)  # still the report's answers


def test_nothing_typed_is_lost_when_the_dialogue_times_out(world: World) -> None:
    cadre = bound_cadre(world)
    cadre.send("排查")
    cadre.send("张三")
    cadre.send(ID_ZHANG)
    world.clock.advance(hours=25)  # past the dialogue's timeout (24 hours)
    out = cadre.send("待办")
    assert out.startswith("您排查上报的张三户还没填完，填过的已保留。发“排查”接着填。")
    assert "您目前没有待办" in out
    assert "您排查上报的张三户还没填完" in cadre.send("排查")
    assert "户主手机号" in cadre.send("1")
    for said in ("没有", "1", "3组", "4", WHAT):
        cadre.send(said)
    assert "已上报" in cadre.send("1")
    with world.factory() as db:
        household = db.scalars(select(Household)).one()
        assert household.head_name == "张三" and household.phone_enc is None
        assert world.vault.decrypt(household.id_number_enc or "") == ID_ZHANG


def test_a_hotline_or_an_inactive_account_cannot_file(world: World) -> None:
    hotline = bound_staff(world, role=Role.HOTLINE, area="430421000000", user_key="hotline-chat",
                          username="hotline")
    assert hotline.send("排查") == "您的账号不能上报走访排查户：排查户由村、乡镇、县干部上报。"
    assert hotline.send("张三").startswith("干部指令")  # no dialogue was started

    cadre = bound_cadre(world)
    up_to_read_back(cadre)
    with world.factory() as db, db.begin():
        staff = db.get(Staff, world.cadre_id)
        assert staff is not None
        staff.active = False  # deactivated before the confirmation
    assert cadre.send("1") == "此工作人员账号已停用，请联系乡镇。"
    assert cadre.send("排查") == "此工作人员账号已停用，请联系乡镇。"
    assert cases(world) == []
    with world.factory() as db:
        assert db.scalar(select(func.count()).select_from(Report)) == 0


def test_another_cadres_chat_files_only_in_their_own_village(world: World) -> None:
    """The village question of 和平村's cadre offers 和平村 alone: 梅花村 (two of them) is refused."""
    with world.factory() as db:
        heping = db.scalar(select(Staff.id).where(Staff.area_code == HEPING))
    assert heping is not None
    with world.factory() as db, db.begin():
        code = issue_code(db=db, vault=world.vault, staff_id=heping, now=world.clock())
    chat = Chat(world, user_key="heping-chat")
    chat.send(f"绑定 {code}")
    out = up_to_village(chat)
    assert "1 台源镇和平村（本村）" in out and "梅花村" not in out
    assert "梅花村不在您的辖区" in chat.send("梅花村")  # both 梅花村 are others'
    assert "是哪个村民小组？" in chat.send("1")


def test_the_command_list_names_the_screening_report() -> None:
    assert "排查 — 上报走访排查发现的农户" in help_text(translator("conversations", "zh_CN"))


def test_a_long_list_of_villages_comes_in_pages(world: World) -> None:
    """A township of ten villages: eight a page and 9 the next; a keyboard's '2 西渡镇白沙村' or '0 返回' is
    read as its number."""
    names = ["东山村", "西山村", "南岭村", "北岭村", "青石村", "白沙村", "红星村", "新华村"]
    with world.factory() as db, db.begin():
        for n, name in enumerate(names, start=3):
            db.add(Area(code=f"430421100{200 + n}", name=name, level=AreaLevel.VILLAGE, parent_code=XIDU))
    township = bound_staff(world, role=Role.TOWNSHIP, area=XIDU, user_key="xidu-chat", username="xidu")
    out = up_to_village(township)
    assert "（第 1 页，共 2 页）" in out and "8 西渡镇白沙村" in out and "9 下一页" in out
    out = township.send("9 下一页")
    assert "（第 2 页，共 2 页）" in out and "1 西渡镇红星村" in out and "2 西渡镇新华村" in out
    assert "是哪个村民小组？" in township.send("2 西渡镇新华村")
    assert "这户在哪个村" in township.send("0 返回")
    assert "是哪个村民小组？" in township.send("青石")  # a village the parser's list lacks, by its name
    assert "几口人" in township.send("2组")
    township.send("3")
    township.send(WHAT)
    township.send("1 对，上报")
    (case,) = cases(world)
    assert case.area_code == "430421100207"


def test_a_question_a_command_asked_is_dropped_by_the_report(world: World) -> None:
    """改期 <task> asks for the days; 排查 meanwhile drops that question, as any other command does, so an
    answer typed after the report is not taken for the days."""
    signed_case(world, Chat(world))
    cadre = bound_cadre(world)
    cadre.send("待办")
    with world.factory() as db:
        ack = db.scalar(select(Task.id).where(Task.kind == "acknowledge"))
    assert ack is not None
    assert "几个工作日" in cadre.send(f"改期 {ack}")
    cadre.send("排查")
    cadre.send("取消")
    assert cadre.send("3").startswith("干部指令")
    with world.factory() as db:
        task = db.get(Task, ack)
        assert task is not None and task.postponed_reason is None


def test_the_filing_checks_the_area_again(world: World) -> None:
    """The cadre's area changed between the village question and the 1 (moved to 和平村): the filing is
    refused as POST /api/cases refuses it, the village asked again, and the read-back comes back."""
    cadre = bound_cadre(world)
    up_to_read_back(cadre)
    with world.factory() as db, db.begin():
        staff = db.get(Staff, world.cadre_id)
        assert staff is not None
        staff.area_code = HEPING
    out = cadre.send("1")
    assert "这个村不在您的辖区，只能上报本辖区的农户。" in out and "1 台源镇和平村（本村）" in out
    assert cases(world) == []
    assert "是哪个村民小组？" in cadre.send("1")  # another village: its group too
    out = cadre.send("不清楚")
    assert "请核对排查上报" in out and "住址：台源镇和平村" in out
    assert "已上报" in cadre.send("1")
    (case,) = cases(world)
    assert case.area_code == HEPING


def test_a_household_named_as_cadres_name_it_files_the_heads_name(world: World) -> None:
    """户主姓名？ answered 张三户 (X户, X's household, as cadres write it) was kept as the head's name 张三户:
    the household, signing later as 张三, or reporting with its ID number and 张三, was not the name on
    record."""
    cadre = bound_cadre(world)
    cadre.send("排查")
    assert "张三的身份证号" in cadre.send("张三户")
    cadre.send(ID_ZHANG)
    cadre.send("1")
    cadre.send("1")
    cadre.send("3组")
    cadre.send("4")
    assert "户主：张三\n" in cadre.send(WHAT)
    cadre.send("1")
    with world.factory() as db:
        assert db.scalars(select(Household.head_name)).one() == "张三"


def test_a_photo_sent_during_the_report_goes_with_the_case_it_files(world: World) -> None:
    """A photo of the house sent while 排查 asked for the ID number: the cadre was asked which case number it
    was for (the report had none yet), the ID question was not asked again, and the photo stayed with no
    case after the filing."""
    from cases.models import Attachment as AttachmentRow
    from conversations.messages import Attachment

    from .test_conv_flows import JPEG

    cadre = bound_cadre(world)
    cadre.send("排查")
    cadre.send("张三")
    photo = Attachment(kind="photo", content_type="image/jpeg", data=JPEG)
    out = cadre.send(None, (photo,))
    assert "案件号" not in out and "上报后" in out, out
    assert out.endswith(ID_QUESTION)
    cadre.send(ID_ZHANG)
    cadre.send("1")
    cadre.send("1")
    cadre.send("3组")
    cadre.send("4")
    cadre.send(WHAT)
    out = cadre.send("1")
    number = case_number(out)
    assert f"已存到案件 {number}：1 个文件" in out
    (case,) = cases(world)
    with world.factory() as db:
        rows = db.scalars(select(AttachmentRow)).all()
        assert [(r.case_id, r.sent_by_staff_id) for r in rows] == [(case.id, world.cadre_id)]

    # a photo sent before a report began waits for its own case number: not the report's case
    assert "哪个案件" in cadre.send(None, (photo,))
    up_to_village(cadre, name="李四", id_number=ID_LI)
    cadre.send(None, (photo,))
    for said in ("1", "3组", "4", WHAT):
        cadre.send(said)
    second = case_number(cadre.send("1"))
    assert second != number
    with world.factory() as db:
        by_case = {r.id: r.case_id for r in db.scalars(select(AttachmentRow).order_by(AttachmentRow.id))}
        numbers = {c.id: c.number for c in db.scalars(select(Case))}
    assert [numbers.get(c) if c else None for c in by_case.values()] == [number, None, second]
    assert f"已存到案件 {number}：1 个文件" in cadre.send(number)  # the one still waiting


def test_the_group_typed_with_the_village_is_kept(world: World) -> None:
    """梅花村3组 at the village question: the village was taken and the group dropped (annex 1's address goes
    down to the 村民小组); a report keeps it so. Also when the name matched two villages and one is picked."""
    cadre = bound_cadre(world)
    up_to_village(cadre)
    assert "几口人" in cadre.send("梅花村3组")
    cadre.send("4")
    assert "住址：西渡镇梅花村3组" in cadre.send(WHAT)
    cadre.send("1")
    county = bound_staff(world, role=Role.COUNTY, area="430421000000", user_key="county-chat",
                         username="county")
    up_to_village(county, name="李四", id_number=ID_LI)
    assert "是哪一个" in county.send("梅花村第五组")
    county.send("2")  # 台源镇梅花村
    county.send("3")
    assert "住址：台源镇梅花村5组" in county.send(WHAT)
    county.send("1")
    with world.factory() as db:
        rows = db.execute(select(Household.head_name, Household.group_name).order_by(Household.id)).all()
    assert [tuple(r) for r in rows] == [("张三", "3组"), ("李四", "5组")]


def test_a_photo_goes_only_with_the_household_it_was_sent_for(world: World) -> None:
    """A photo sent during 排查 of 李四, the report set aside by 取消, then 2 (another household) at 排查: the
    photo went with the case of the next household filed within half an hour (王五's). It stays with 李四's
    report while that is set aside (a case number typed meanwhile does not take it), goes with 李四's case
    if the report goes on, and once the report is given up it waits for a case number, and the cadre is
    told so."""
    from cases.models import Attachment as AttachmentRow
    from conversations.messages import Attachment

    from .conftest import ID_WANG
    from .test_conv_flows import JPEG

    def case_of_files() -> list[str | None]:
        with world.factory() as db:
            numbers = {c.id: c.number for c in db.scalars(select(Case))}
            return [numbers.get(r.case_id) if r.case_id else None
                    for r in db.scalars(select(AttachmentRow).order_by(AttachmentRow.id))]

    photo = Attachment(kind="photo", content_type="image/jpeg", data=JPEG)
    other = signed_case(world, Chat(world))  # 张三's, from the household's chat
    cadre = bound_cadre(world)
    cadre.send("排查")
    cadre.send("李四")
    assert "上报后" in cadre.send(None, (photo,))  # for 李四's household
    cadre.send(ID_LI)
    cadre.send("取消")
    assert "收到 1 个文件" in cadre.send(None, (photo,))  # another photo, for a case named next
    assert f"已存到案件 {other}：1 个文件" in cadre.send(other)  # that one alone
    assert case_of_files() == [None, other]

    out = cadre.send("排查")
    assert "李四户还没填完" in out
    out = cadre.send("2")  # another household: 李四's photo does not go with it
    assert "为李四户发的 1 个文件不存到这一户" in out and "户主姓名？" in out, out
    up_to_village(cadre, name="王五", id_number=ID_WANG)
    for said in ("1", "3组", "4", WHAT):
        cadre.send(said)
    out = cadre.send("1")
    wang = case_number(out)
    assert "还有 1 个文件在等案件号" in out, out
    assert case_of_files() == [None, other]  # not 王五's
    assert f"已存到案件 {wang}：1 个文件" not in out
    assert "这些文件没有存" in cadre.send("取消")  # the cadre's choice, said
    assert case_of_files() == [other]


def test_a_photo_of_a_report_set_aside_goes_with_its_case_when_it_goes_on(world: World) -> None:
    """The photo of a report set aside by 取消 waits for it, past the half hour a photo waits for a case
    number, and goes with its case when the report goes on and is filed."""
    from cases.models import Attachment as AttachmentRow
    from conversations.messages import Attachment

    from .test_conv_flows import JPEG

    cadre = bound_cadre(world)
    cadre.send("排查")
    cadre.send("李四")
    cadre.send(None, (Attachment(kind="photo", content_type="image/jpeg", data=JPEG),))
    cadre.send(ID_LI)
    cadre.send("取消")
    world.clock.advance(minutes=45)
    cadre.send("排查")
    assert "户主手机号" in cadre.send("1")
    for said in ("1", "1", "3组", "4", WHAT):
        cadre.send(said)
    out = cadre.send("1")
    number = case_number(out)
    assert f"已存到案件 {number}：1 个文件" in out, out
    with world.factory() as db:
        (row,) = db.scalars(select(AttachmentRow)).all()
        case = db.scalars(select(Case)).one()
        assert row.case_id == case.id


def test_a_household_with_no_id_number_at_hand_is_filed_without_one(world: World) -> None:
    """POST /api/cases files a household without an ID number; the chat asked for it again and again ('the
    ID number is needed'), so a cadre at a door with no card and no 户口本 could not file. 1 (or 跳过, 没有)
    files without it, said plainly: the report cannot find a case the household already has."""
    cadre = bound_cadre(world)
    cadre.send("排查")
    out = cadre.send("张三")
    assert "张三的身份证号？（18位）手头没有就回复 1。" in out and "1 先不填身份证号" in out, out
    out = cadre.send("不知道")  # asked again, with the way to go on without it
    assert "需要身份证号" in out and "回复 1" in out and "1 先不填身份证号" in out, out
    out = cadre.send("1")
    assert "不填身份证号也能上报，但查不到这户已有的案件，会新开一个案件。" in out, out
    assert "户主手机号" in out
    assert "张三的身份证号" in cadre.send("0")  # back to it
    assert "户主手机号" in cadre.send("跳过")
    for said in ("1", "1", "3组", "4"):
        cadre.send(said)
    out = cadre.send(WHAT)
    assert "身份证：未填" in out, out
    number = case_number(cadre.send("1"))
    with world.factory() as db:
        case = db.scalars(select(Case)).one()
        household = db.get(Household, case.household_id)
        report = db.scalars(select(Report)).one()
        assert household is not None and case.number == number
        assert household.id_number_enc is None and household.id_hash is None and report.id_number_enc is None
        assert household.head_name == "张三"

    # a number found later is put in from the read-back
    cadre.send("排查")
    cadre.send("李四")
    cadre.send("没有")
    for said in ("1", "1", "3组", "4", WHAT):
        cadre.send(said)
    cadre.send("2")
    assert "身份证号" in cadre.send("2")
    assert "身份证：430421********456X" in cadre.send(ID_LI)


def test_joining_a_case_still_unsigned_reminds_the_cadre_of_annex_1(world: World) -> None:
    """A cadre's 排查 joined the open case of a household that had not signed annex 1 (it said no to it in
    its own chat): the cadre was told only the case number, and nothing of the signature the case waits for
    (a home visit is refused without it). The answer now says so, naming who signs."""
    from .test_conv_dialogues import report_until_annex

    household = Chat(world)
    report_until_annex(household)
    number = case_number(household.send("2"))  # not signed
    cadre = bound_cadre(world)
    up_to_village(cadre)
    for said in ("1", "3组", "4", "儿子务工受伤，没有收入"):
        cadre.send(said)
    out = cadre.send("1")
    assert f"这户已有在办案件 {number}，本次上报已并入该案件。" in out
    assert "这户还没签申请及承诺授权书（附件1）：入户时请张三签字。" in out, out


def test_a_head_name_other_than_the_records_is_asked_about_before_filing(world: World) -> None:
    """The ID number of a household on record with the head's name typed otherwise (张山 for 张三's number,
    or a member's number given as the head's): the report was filed into that household all the same, under
    a name the record does not have. The cadre is told (names masked) and chooses: 1 file all the same
    (audited as such), 2 change the name, 3 change the ID number, 0 back to the read-back."""
    from cases.intake import add_member

    from .conftest import ID_WANG

    number = signed_case(world, Chat(world))  # 张三, ID_ZHANG, from the household's chat
    cadre = bound_cadre(world)
    up_to_village(cadre, name="张山")
    for said in ("1", "3组", "4", "儿子务工受伤，没有收入"):
        cadre.send(said)
    out = cadre.send("1")
    assert "身份证号 430421********1234 登记的户主是张*，不是张山。" in out, out
    for choice in ("1 没错，照样上报", "2 改户主姓名", "3 改身份证号", "0 返回"):
        assert choice in out, (choice, out)
    with world.factory() as db:
        assert db.scalar(select(func.count()).select_from(Report)) == 1  # nothing filed yet
    assert "请核对排查上报" in cadre.send("0")  # back to the read-back
    assert "登记的户主是张*" in cadre.send("1")  # asked again
    assert "户主姓名" in cadre.send("2")
    assert "户主：张三" in cadre.send("张三")  # the read-back again, the name put right
    assert f"这户已有在办案件 {number}" in cadre.send("1")  # no question: the name is the record's

    up_to_village(cadre, name="张山")  # again, and this time filed as typed
    for said in ("1", "3组", "4", "房子漏雨"):
        cadre.send(said)
    assert "登记的户主是张*" in cadre.send("1")
    assert f"这户已有在办案件 {number}" in cadre.send("1 没错，照样上报")
    with world.factory() as db:
        names = list(db.scalars(select(Report.head_name).order_by(Report.id)))
        entries = list(db.scalars(select(AuditEntry.detail).where(AuditEntry.action == "report.cadre")
                                  .order_by(AuditEntry.id)))
        household = db.scalars(select(Household)).one()
        assert household.head_name == "张三"  # the record is not changed by a report
        add_member(db=db, vault=world.vault, household=household, name="张小三", relation="子",
                   id_number=ID_WANG)
        db.commit()
    assert names == ["张三", "张三", "张山"]
    assert [e.get("name_differs") for e in entries] == [None, True]

    up_to_village(cadre, name="张小三", id_number=ID_WANG)  # a member's number, as the head's
    for said in ("1", "3组", "4", "房子漏雨"):
        cadre.send(said)
    out = cadre.send("1")
    assert "身份证号 430421********0015 登记在户主张*家，不是户主本人的。" in out, out
    assert "身份证号" in cadre.send("3")  # the ID number is changed
    out = cadre.send(ID_LI)
    assert "身份证：430421********456X" in out and "户主：张小三" in out
    out = cadre.send("1")  # a new household: nothing on record to differ from
    assert "已上报：案件号" in out and number not in out


def test_a_county_account_chooses_the_township_then_the_village_and_its_group(world: World) -> None:
    """A county account's village question listed every village of the county, page after page (a county
    has hundreds): it asks the township first (numbered; 0 goes back), then lists that township's villages;
    a village typed at either list is taken as before. And the village group (组) is asked, as the
    household's report asks it, unless it came with the village."""
    from .conftest import COUNTY

    county = bound_staff(world, role=Role.COUNTY, area=COUNTY, user_key="county-chat", username="county")
    out = up_to_village(county)
    assert "这户在哪个乡镇？" in out and "1 西渡镇" in out and "2 台源镇" in out and "0 返回" in out, out
    assert "梅花村" not in out
    out = county.send("2")
    assert "1 台源镇梅花村" in out and "2 台源镇和平村" in out and "石狮村" not in out, out
    assert "这户在哪个乡镇？" in county.send("0")  # the townships again
    assert "户主手机号" in county.send("0")  # and a step back
    assert "这户在哪个乡镇？" in county.send("139 1234 5678")
    out = county.send("西渡镇")  # the township by its name
    assert "1 西渡镇梅花村" in out and "2 西渡镇石狮村" in out and "台源镇" not in out, out
    assert "是哪个村民小组？" in county.send("2")  # 石狮村: its group
    assert "2 西渡镇石狮村" in county.send("0")  # back: the township's villages
    assert "几口人" in county.send("石狮村3组")  # the group typed with it: not asked
    county.send("4")
    assert "住址：西渡镇石狮村3组" in county.send(WHAT)
    county.send("2")
    assert "2 西渡镇石狮村" in county.send("4")  # 改 the village: the township's list
    assert "这户在哪个乡镇？" in county.send("0")
    assert "是哪个村民小组？" in county.send("和平村")  # typed at the townships; its group asked again
    out = county.send("不清楚")
    assert "请核对排查上报" in out and "住址：台源镇和平村\n" in out, out
    county.send("1")
    with world.factory() as db:
        household = db.scalars(select(Household)).one()
        assert (household.village_code, household.group_name) == (HEPING, None)


def test_a_village_account_is_asked_the_group_and_many_townships_come_in_pages(world: World) -> None:
    """A contact cadre (one village) goes from the village to its group; a county of ten townships lists
    them eight a page, 9 the next."""
    from .conftest import COUNTY

    cadre = bound_cadre(world)
    up_to_village(cadre)
    assert "是哪个村民小组？如：3组" in cadre.send("1")
    assert "只写村民小组就行" in cadre.send("我家门口那条路边上")  # a sentence: asked again
    assert "几口人" in cadre.send("第五组")
    cadre.send("4")
    assert "住址：西渡镇梅花村5组" in cadre.send(WHAT)

    with world.factory() as db, db.begin():
        for n in range(8):
            town = f"4304211{10 + n}000"
            db.add(Area(code=town, name=f"新{'一二三四五六七八'[n]}镇", level=AreaLevel.TOWNSHIP,
                        parent_code=COUNTY))
            db.add(Area(code=town[:9] + "201", name=f"新{'一二三四五六七八'[n]}村", level=AreaLevel.VILLAGE,
                        parent_code=town))
    county = bound_staff(world, role=Role.COUNTY, area=COUNTY, user_key="county-chat", username="county")
    out = up_to_village(county)
    assert "（第 1 页，共 2 页）" in out and "8 新六镇" in out and "9 下一页" in out, out
    out = county.send("9")
    assert "1 新七镇" in out and "2 新八镇" in out, out
    assert "1 新八镇新八村" in county.send("2")


def test_a_head_on_record_in_traditional_characters_is_not_another_name(world: World) -> None:
    """A head recorded as 張三 (as staff typed it over REST) and 张三 typed in 排查 (kept simplified): the
    name check asked the cadre whether 张三 was right, as if the record had another name."""
    number = signed_case(world, Chat(world))
    with world.factory() as db, db.begin():
        household = db.scalars(select(Household)).one()
        household.head_name = "張三"
    cadre = bound_cadre(world)
    up_to_village(cadre)
    for said in ("1", "3组", "4", "房子漏雨"):
        cadre.send(said)
    assert f"这户已有在办案件 {number}" in cadre.send("1")


def test_a_changed_area_asks_the_village_from_its_own_list(world: World) -> None:
    """A county account chose 台源镇 and its 和平村, then its area became 西渡镇 before the 1: the filing is
    refused as before, and the village asked again lists 西渡镇's villages (the township chosen is not one of
    the area's any more), not 'no village of your area is on record'."""
    from .conftest import COUNTY

    county = bound_staff(world, role=Role.COUNTY, area=COUNTY, user_key="county-chat", username="county")
    up_to_village(county)
    county.send("2")
    for said in ("2", "3组", "4", WHAT):
        county.send(said)
    with world.factory() as db, db.begin():
        staff = db.scalars(select(Staff).where(Staff.username == "county")).one()
        staff.area_code = XIDU
    out = county.send("1")
    assert "这个村不在您的辖区" in out and "1 西渡镇梅花村" in out and "2 西渡镇石狮村" in out, out
    assert cases(world) == []


def test_a_filing_that_fails_after_the_name_was_confirmed_offers_1_at_the_read_back() -> None:
    """1 at the name question (file all the same) files from the read-back's step: a filing that then fails
    says 'reply 1 to try again' at a question that still has its words (the name question's record was
    gone, and 帮助 there said '... is on record in the household of : ...')."""
    from datetime import UTC, datetime

    from conversations.commands import Result, SubmitReport
    from conversations.flows import screening
    from conversations.messages import InboundMessage
    from nlu.types import Parse

    now = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    facts = screening.ScreeningFacts(channel="telegram", now=now)
    state = {"flow": "screening", "step": "name_check", "history": ["name", "id", "summary"], "fails": {},
             "data": {"ref": "m1", "name": "张山", "id": ID_ZHANG, "phone": None, "size": 4,
                      "village": {"code": MEIHUA, "label": "西渡镇梅花村"}, "group": None, "text": WHAT,
                      "record": {"head": "张*", "heads_number": True}}}

    def message(text: str) -> InboundMessage:
        return InboundMessage(channel="telegram", user_key="c", external_id=text, text=text, received_at=now)

    step = screening.advance(state, message("1"), Parse(), facts)
    (command,) = step.commands
    assert isinstance(command, SubmitReport) and command.name_confirmed
    failed = screening.resume(step.state, command, Result(ok=False, reason="database_busy"), facts)
    assert failed.replies[-1].text == "抱歉，暂时没能上报。填的内容都在：回复 1 再试一次。"
    assert failed.replies[-1].choices == ("1 对，上报", "2 改", "0 返回")
    out = screening.advance(failed.state, message("帮助"), Parse(), facts).replies[-1]
    assert out.text.startswith("请核对排查上报") and "户主：张山" in out.text, out
    again = screening.advance(failed.state, message("1"), Parse(), facts)
    (command,) = again.commands
    assert isinstance(command, SubmitReport) and command.name_confirmed


def test_a_difficulty_typed_at_the_group_question_is_not_taken_for_the_group(world: World) -> None:
    """房子漏雨 (what is wrong, typed a question early) at 是哪个村民小组？ was kept as the group's name:
    the read-back's address said 西渡镇梅花村房子漏雨. The household's report asks again there, as 排查
    now does."""
    cadre = bound_cadre(world)
    up_to_village(cadre)
    assert "是哪个村民小组？" in cadre.send("1")
    for said in ("房子漏雨", "老伴住院"):
        out = cadre.send(said)
        assert "只写村民小组就行" in out and "几口人" not in out, (said, out)
    assert "几口人" in cadre.send("张家组")  # a group's name is still one
    cadre.send("4")
    assert "住址：西渡镇梅花村张家组" in cadre.send(WHAT)


def test_a_township_typed_in_traditional_characters_lists_its_villages(world: World) -> None:
    """西渡鎮 at a county account's township question was 'no village of that name in your area'; 西渡镇
    lists its villages (臺源鎮和平村, which the parser reads, was taken already)."""
    from .conftest import COUNTY

    county = bound_staff(world, role=Role.COUNTY, area=COUNTY, user_key="county-chat", username="county")
    assert "这户在哪个乡镇？" in up_to_village(county)
    out = county.send("西渡鎮")
    assert "1 西渡镇梅花村" in out and "2 西渡镇石狮村" in out and "没有这个村" not in out, out
    assert "是哪个村民小组？" in county.send("石獅村")
    assert "几口人" in county.send("第五組")
    county.send("4")
    assert "住址：西渡镇石狮村5组" in county.send(WHAT)


def test_none_at_hand_said_in_dialect_at_the_id_question_files_without_it(world: World) -> None:
    """冇得 or 没得 (Hunan for 没有) at the ID question was 'that does not look like an ID number, type the 18
    characters', though the phone question next takes them for none, and 没有 at the ID question goes on."""
    for i, said in enumerate(("冇得", "没得", "冇得身份证")):
        cadre = bound_staff(world, role=Role.VILLAGE, area=MEIHUA, user_key=f"village-{i}", username=f"v{i}")
        cadre.send("排查")
        cadre.send("张三")
        out = cadre.send(said)
        assert "不填身份证号也能上报" in out and "户主手机号" in out, (said, out)


def test_the_difficulty_said_again_after_0_takes_the_place_of_the_first(world: World) -> None:
    """0 at the read-back goes back to 这户有什么困难？; what was typed there was added to the first answer,
    so a difficulty read wrongly could not be taken back that way (困难：因病、住房安全 after 看病花钱 was
    said again as 房子塌了). It is said again from the start, as 2 改 then 6 困难 already says it."""
    cadre = bound_cadre(world)
    up_to_village(cadre)
    cadre.send("1")
    cadre.send("3组")
    cadre.send("4")
    assert "困难：因病" in cadre.send("看病花钱")
    assert "这户有什么困难？" in cadre.send("0")
    out = cadre.send("房子塌了，住不了人")
    assert "困难：住房安全" in out and "因病" not in out, out
    cadre.send("1")
    with world.factory() as db:
        report = db.scalars(select(Report)).one()
        assert "01" not in report.risks and report.guarantees == ["A23"]
        assert report.raw_text == "房子塌了，住不了人"


def test_a_household_on_record_outside_the_cadres_area_joins_its_case_there_unnamed(world: World) -> None:
    """The ID number is of a household on record in another village (it moved, or a relative's card):
    the report joins that household's open case as every report does, but the chat named the case and its
    contact cadre, which the cadre cannot open nor is theirs to follow. It now says only that."""
    from cases import intake
    from cases.models import Channel

    with world.factory() as db, db.begin():
        draft = intake.ReportDraft(channel=Channel.SMS, reporter_kind=ReporterKind.SELF, raw_text="老伴住院",
                                   risks=["01"], head_name="张三", id_number=ID_ZHANG, village_code=SHISHI,
                                   household_size=2)
        elsewhere = intake.submit_report(db=db, vault=world.vault, draft=draft, now=world.clock(),
                                         notifier=world.notifier).case.number
    cadre = bound_cadre(world)
    up_to_read_back(cadre, size="4口人")
    out = cadre.send("1")
    assert "您片区以外的村" in out and "已并入" in out, out
    assert elsewhere not in out and "联系干部：" not in out
    with world.factory() as db:
        case = db.scalars(select(Case)).one()
        reports = db.scalars(select(Report).where(Report.case_id == case.id)).all()
    assert case.number == elsewhere and len(reports) == 2  # nothing lost: it went with the case there
