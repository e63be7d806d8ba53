"""Code tables of annexes 1, 2 and 6 (Hunan 2021): guarantees, risk types, disasters, measures, modes, and a
household member's relation and details (A8-A17).

Annex 1 numbers the items ①-⑭; annex 2 codes them A23-A27a; both numberings are kept in one table.
Source: policy-excerpt.md, 附件 1 "说明" and 附件 6 "（二）家庭成员信息", "（四）风险类型", "(六) 帮扶措施",
"（七）风险消除".
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

# Annex 6 "（二）家庭成员信息" A9-A17, a member's details as annex 2 records them: code -> the words the form
# writes (填写汉字). Every one is unknown (None) until a cadre records it.
# A9 民族, as annex 6 numbers it (its 02-11 are not GB/T 3304's: there 02 is 蒙古族 and 11 满族; the form
# writes the words). Annex 6 prints 32 as 佤族 a second time (21 is 佤族) and has no 仫佬族, GB/T 3304's 32.
ETHNICITIES: dict[str, str] = {
    "01": "汉族", "02": "满族", "03": "回族", "04": "蒙古族", "05": "藏族", "06": "维吾尔族",
    "07": "苗族", "08": "彝族", "09": "壮族", "10": "布依族", "11": "朝鲜族", "12": "侗族",
    "13": "瑶族", "14": "白族", "15": "土家族", "16": "哈尼族", "17": "哈萨克族", "18": "傣族",
    "19": "黎族", "20": "傈僳族", "21": "佤族", "22": "畲族", "23": "高山族", "24": "拉祜族",
    "25": "水族", "26": "东乡族", "27": "纳西族", "28": "景颇族", "29": "柯尔克孜族", "30": "土族",
    "31": "达斡尔族", "32": "仫佬族", "33": "羌族", "34": "布朗族", "35": "撒拉族", "36": "毛南族",
    "37": "仡佬族", "38": "锡伯族", "39": "阿昌族", "40": "普米族", "41": "塔吉克族", "42": "怒族",
    "43": "乌孜别克族", "44": "俄罗斯族", "45": "鄂温克族", "46": "德昂族", "47": "保安族", "48": "裕固族",
    "49": "京族", "50": "塔塔尔族", "51": "独龙族", "52": "鄂伦春族", "53": "赫哲族", "54": "门巴族",
    "55": "珞巴族", "56": "基诺族", "99": "其他",
}
POLITICAL_STATUSES: dict[str, str] = {  # A10 政治面貌
    "01": "中共党员", "02": "中共预备党员", "03": "共青团员", "04": "民主党派人士", "05": "无党派民主人士",
    "06": "群众",
}
EDUCATION_LEVELS: dict[str, str] = {  # A11 文化程度
    "01": "文盲或半文盲", "02": "小学", "03": "初中", "04": "高中", "05": "大专", "06": "本科及以上",
}
# A12 在校生情况. Annex 6's table has no 16, and after 21 本科一年级 and 23 本科二年级 prints 24
# twice (本科三年级, 本科四年级) before 25 本科五年级 and 26 硕士研究生及以上: read as 本科 one to five
# at 21-25, 本科二年级 is 22 and 本科三年级 23.
SCHOOLING: dict[str, str] = {
    "01": "学龄前儿童", "02": "学前教育", "03": "小学", "04": "七年级", "05": "八年级", "06": "九年级",
    "07": "普通高中一年级", "08": "普通高中二年级", "09": "普通高中三年级", "10": "中职一年级",
    "11": "中职二年级", "12": "中职三年级", "13": "高职高专一年级", "14": "高职高专二年级",
    "15": "高职高专三年级", "17": "技师学院一年级", "18": "技师学院二年级", "19": "技师学院三年级",
    "20": "技师学院四年级", "21": "本科一年级", "22": "本科二年级", "23": "本科三年级", "24": "本科四年级",
    "25": "本科五年级", "26": "硕士研究生及以上",
}
HEALTH: dict[str, str] = {"01": "健康", "02": "长期慢性病", "03": "大病", "04": "残疾"}  # A13 健康状况
LABOUR_SKILLS: dict[str, str] = {  # A14 劳动技能
    "01": "普通劳动力", "02": "技能劳动力", "03": "丧失劳动力", "04": "无劳动力", "05": "弱劳动力或半劳动力",
}
# A15 务工区域: annex 6 names the choices (县内、省内县外、省外; 其他 for farming at home, students,
# soldiers) but numbers none, so they are keyed in words as the elimination modes are; the place where
# (省、市、县、乡) is free text.
WORK_AREAS: dict[str, str] = {"county": "县内", "province": "省内县外", "outside": "省外", "other": "其他"}
WORK_MONTHS_MAX = 12  # A16 务工时间: months worked in the year, 0-12, halves as 3.5
YES_NO: dict[str, str] = {"01": "是", "02": "否"}  # 是否型 items (A17 ... A26)
YES, NO = "01", "02"


@dataclass(frozen=True)
class MemberField:
    """One of annex 2's coded member items: the Member column, its A-number, official name and code table."""

    column: str
    number: str
    name: str
    codes: dict[str, str]


MEMBER_CODED_FIELDS: tuple[MemberField, ...] = (
    MemberField("a9_ethnicity", "A9", "民族", ETHNICITIES),
    MemberField("a10_political_status", "A10", "政治面貌", POLITICAL_STATUSES),
    MemberField("a11_education", "A11", "文化程度", EDUCATION_LEVELS),
    MemberField("a12_schooling", "A12", "在校生情况", SCHOOLING),
    MemberField("a13_health", "A13", "健康状况", HEALTH),
    MemberField("a14_labour_skill", "A14", "劳动技能", LABOUR_SKILLS),
    MemberField("a15_work_area", "A15", "务工区域", WORK_AREAS),
    MemberField("a17_medical_insurance", "A17", "是否参加城乡居民（职工）基本医疗保险", YES_NO),
)
