"""Code tables of annexes 1, 2 and 6 (Hunan 2021): guarantees, risk types, disasters, measures, modes.

Annex 1 numbers the items ①-⑭; annex 2 codes them A23-A27a; both numberings are kept in one table.
Source: policy-excerpt.md, 附件 1 "说明" and 附件 6 "（四）风险类型", "(六) 帮扶措施", "（七）风险消除".
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Item:
    """One annex 1 item: its ①-⑭ number, annex 2 field/code and official name."""

    annex1_no: int
    field: str  # "A23".."A26", "A27" or "income"
    code: str | None  # A27 code "01".."09"; None for the guarantee items
    name: str


ANNEX1_ITEMS: tuple[Item, ...] = (
    Item(1, "income", None, "监测户当年人均纯收入低于监测范围"),
    Item(2, "A23", None, "住房安全保障风险"),
    Item(3, "A24", None, "义务教育阶段适龄儿童少年失学辍学风险"),
    Item(4, "A25", None, "饮水安全风险"),
    Item(5, "A26", None, "家庭成员未参加城乡居民（职工）基本医疗保险风险"),
    Item(6, "A27", "01", "因病"),
    Item(7, "A27", "02", "因学"),
    Item(8, "A27", "03", "因残"),
    Item(9, "A27", "04", "因自然灾害"),
    Item(10, "A27", "05", "因意外事故"),
    Item(11, "A27", "06", "因产业项目失败"),
    Item(12, "A27", "07", "因务工就业不稳"),
    Item(13, "A27", "08", "缺劳动力"),
    Item(14, "A27", "09", "其他"),
)

# the guarantee items have no A27 code (a bare startswith("A2") also took "A27", named after its last item)
GUARANTEES: dict[str, str] = {
    i.field: i.name for i in ANNEX1_ITEMS if i.field.startswith("A2") and i.code is None
}
RISKS: dict[str, str] = {i.code: i.name for i in ANNEX1_ITEMS if i.code is not None}
DISASTERS: dict[str, str] = {
    "01": "洪涝灾害",
    "02": "地质灾害",
    "03": "旱灾",
    "04": "生物灾害（虫灾）",
    "05": "气象灾害",
    "06": "地震灾害",
    "07": "其他（森林草原火灾、海洋灾害等）",
}
RISK_OTHER = "09"
RISK_DISASTER = "04"
RISK_NO_LABOUR = "08"


@dataclass(frozen=True)
class MeasureType:
    code: str
    name: str
    group: str  # 增收类 | 三保障和饮水安全类 | 兜底保障类 | 其他类
    multiple: bool  # several sub-codes may be ticked
    sub_codes: dict[str, str]


_YES = {"01": "是则勾选"}

MEASURES: dict[str, MeasureType] = {
    m.code: m
    for m in (
        MeasureType(
            "A39",
            "产业帮扶",
            "增收类",
            True,
            {
                "01": "种植业",
                "02": "林果业",
                "03": "养殖业",
                "04": "加工业",
                "05": "乡村旅游",
                "06": "消费帮扶",
                "07": "其他",
            },
        ),
        MeasureType(
            "A40",
            "就业帮扶",
            "增收类",
            True,
            {
                "01": "技能培训",
                "02": "劳务输出",
                "03": "外出务工补贴",
                "04": "以工代赈",
                "05": "经营主体就业",
                "06": "其他",
            },
        ),
        MeasureType("A41", "金融帮扶", "增收类", True, {"01": "小额信贷", "02": "其他"}),
        MeasureType(
            "A42",
            "公益岗位帮扶",
            "增收类",
            False,
            {"01": "护林员", "02": "护草员", "03": "保洁员", "04": "其他"},
        ),
        MeasureType("A43", "住房安全保障", "三保障和饮水安全类", False, {"01": "危房改造", "02": "其他"}),
        MeasureType("A44", "饮水安全保障", "三保障和饮水安全类", False, _YES),
        MeasureType(
            "A45",
            "健康帮扶",
            "三保障和饮水安全类",
            True,
            {"01": "参加城乡居民基本医疗保险个人缴费补贴", "02": "大病保险", "03": "医疗救助", "04": "其他"},
        ),
        MeasureType(
            "A46",
            "义务教育保障",
            "三保障和饮水安全类",
            True,
            {"01": "劝返", "02": "送教上门", "03": "寄宿生生活补贴", "04": "其他"},
        ),
        MeasureType(
            "A47",
            "教育帮扶",
            "三保障和饮水安全类",
            True,
            {"01": "雨露计划", "02": "助学贷款", "03": "助学金", "04": "其他"},
        ),
        MeasureType(
            "A48",
            "综合保障",
            "兜底保障类",
            True,
            {
                "01": "低保",
                "02": "特困供养",
                "03": "临时救助",
                "04": "残疾人补贴",
                "05": "防贫保险",
                "06": "其他",
            },
        ),
        MeasureType("A49", "社会帮扶", "其他类", True, {"01": "社会捐助", "02": "其他"}),
        MeasureType("A50", "搬迁", "其他类", False, _YES),
        MeasureType("A51", "生产生活条件改善", "其他类", False, _YES),
        MeasureType("A52", "基础设施建设", "其他类", False, _YES),
    )
}

# A53 风险消除方式: 01 帮扶消除, 02 自然消除 (stored on Case.elimination_mode as the English key).
ELIMINATION_MODES: dict[str, tuple[str, str]] = {
    "assistance": ("01", "帮扶消除"),
    "natural": ("02", "自然消除"),
}

CATEGORIES: dict[int, str] = {1: "脱贫不稳定户", 2: "边缘易致贫户", 3: "突发严重困难户"}

# A8 与户主关系 (annex 2's member section): the code and the words the form writes. 01 is the head.
RELATION_HEAD = "01"
MEMBER_RELATIONS: dict[str, str] = {
    "01": "本人或户主", "02": "配偶", "03": "之子", "04": "之女", "05": "之儿媳", "06": "之女婿",
    "07": "之孙子", "08": "之孙女", "09": "之外孙子", "10": "之外孙女", "11": "之父", "12": "之母",
    "13": "之岳父", "14": "之岳母", "15": "之公公", "16": "之婆婆", "17": "之祖父", "18": "之祖母",
    "19": "之外祖父", "20": "之外祖母", "21": "之兄弟姐妹", "99": "其他",
}
