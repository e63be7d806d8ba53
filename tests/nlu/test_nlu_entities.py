"""Entities one kind at a time: ID numbers, phones, numerals and amounts, household size, relation."""

from __future__ import annotations

import json

import pytest

import nlu
from nlu.idnum import check_digit, check_id
from nlu.numbers import amounts, cn_number, numeral
from tests.conftest import shared_data


# -- ID numbers ------------------------------------------------------------------------------------
def _id_cases() -> list[dict[str, object]]:
    return json.loads(shared_data("id-cases.json").read_text(encoding="utf-8"))["cases"]  # type: ignore[no-any-return]


def test_id_cases_check_digit_agrees_with_the_reference() -> None:
    for case in _id_cases():
        raw = str(case["id"]).upper()
        if case["mod11_2_checksum_ok"] is None:
            continue
        assert (check_digit(raw[:17]) == raw[17]) is case["mod11_2_checksum_ok"], raw


def test_id_cases_valid_and_invalid() -> None:
    for case in _id_cases():
        raw, expect = str(case["id"]), str(case["expect"])
        result = check_id(raw)
        if expect.startswith("invalid in "):
            # history rules (a county code not yet or no longer in use) need the full code register;
            # GB 11643's own checks pass, so these are accepted (the case store re-checks numbers)
            assert result.valid, raw
        elif expect.startswith("valid") and len(raw) == 18:
            assert result.valid, raw
            assert result.normalized == raw.upper()
        elif "checksum" in expect or "month 13" in expect or "Feb 30" in expect or "format" in expect:
            assert not result.valid, raw
        elif "unknown birth-place" in expect:
            assert (result.valid, result.reason) == (False, "region")
        elif len(raw) == 15:
            assert not result.valid  # 15-digit numbers predate the check digit: never in id_numbers
            assert result.reason == ("legacy" if expect.startswith("valid") else "date")


def test_wrong_check_digit_goes_to_invalid_list() -> None:
    good = "11010519491231002X"
    bad = good[:17] + "3"
    p = nlu.parse(f"我的身份证{bad}")
    assert p.id_numbers == []
    assert p.invalid_id_numbers == [bad]


@pytest.mark.parametrize("raw", ["430422195802300013", "430422199913320017", "430422190002290011"])
def test_impossible_birth_dates_are_invalid(raw: str) -> None:
    fixed = raw[:17] + check_digit(raw[:17])  # a correct check digit: only the date is wrong
    assert check_id(fixed).reason == "date"
    assert nlu.parse(f"身份证号{fixed}").invalid_id_numbers == [fixed]


def test_id_with_spaces_lower_x_and_full_width_digits() -> None:
    assert nlu.parse("身份证 110105 1949 1231 002x").id_numbers == ["11010519491231002X"]
    full = "１１０１０５１９４９１２３１００２Ｘ"
    assert nlu.parse(f"身份证{full}").id_numbers == ["11010519491231002X"]


def test_legacy_15_digit_id_is_kept_apart() -> None:
    p = nlu.parse("老身份证610104620927690")
    assert p.id_numbers == [] and p.invalid_id_numbers == []
    assert p.legacy_id_numbers == ["610104620927690"]


# -- phones ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "phones"), [
    ("电话13907345678", ["13907345678"]),
    ("电话 139 0734 5678", ["13907345678"]),
    ("手机138-7345-6789", ["13873456789"]),
    ("+86 13574561234", ["13574561234"]),
    ("座机0734-8123456", ["07348123456"]),
    ("(0734)8123456", ["07348123456"]),
    ("长沙 0731 88123456", ["073188123456"]),
    ("手机１３８７４５６１２３４", ["13874561234"]),
    ("打12317热线", []),
    ("一共花了23000元", []),
])
def test_phones(text: str, phones: list[str]) -> None:
    assert nlu.parse(text).phones == phones


def test_phone_is_not_an_id_and_id_is_not_a_phone() -> None:
    p = nlu.parse("身份证11010519491231002X电话13907345678")
    assert p.id_numbers == ["11010519491231002X"]
    assert p.phones == ["13907345678"]
    assert p.amounts == []


# -- numerals and amounts --------------------------------------------------------------------------
def _cn2an_tables() -> dict[str, dict[str, object]]:
    return json.loads(shared_data("cn2an-cases.json").read_text(encoding="utf-8"))["cases"]  # type: ignore[no-any-return]


def test_fast_numerals_agree_with_cn2an_tables() -> None:
    """Where the fast path answers it agrees with cn2an's own tests; what it refuses, cn2an answers."""
    tests = _cn2an_tables()["cn2an/cn2an_test.py"]
    checked = 0
    for table in ("strict_data_dict", "normal_data_dict", "smart_data_dict"):
        for text, value in tests[table].items():  # type: ignore[union-attr]
            got = cn_number(text)
            if got is not None and "点" not in text and "负" not in text:
                assert got == pytest.approx(value), text
                checked += 1
            full = numeral(text)
            if full is not None:
                assert full == pytest.approx(value), text
    assert checked >= 60


def test_an2cn_round_trip_through_the_fast_path() -> None:
    tests = _cn2an_tables()["cn2an/an2cn_test.py"]["input_data"]
    for number, forms in tests.items():  # type: ignore[union-attr]
        for form in forms[:2]:
            if "负" in form or "点" in form:
                continue
            assert cn_number(form) == pytest.approx(float(number)), form


@pytest.mark.parametrize(("text", "expected"), [
    ("花了三万五", [35000]),
    ("住院花了3.5万元", [35000]),
    ("欠了两千来块", [2000]),
    ("借了一万多", [10000]),
    ("一个月工资才八百", [800]),
    ("收入才５千", [5000]),
    ("十块三毛", [10.3]),
    ("三五百块", [500]),  # a range is one amount, its upper bound (approximate: test_nlu_exploratory.py)
    ("损失两三万", [30000]),
    ("看病花了１２０００元", [12000]),
    ("借了3万5", [35000]),
    ("一年挣一万二", [12000]),
    ("欠了十来万", [100000]),
    ("家里五口人，七十多岁", []),
    ("2023年5月住院10天", []),
    ("养了两百只鸭子", []),
    ("花了壹万贰仟元", [12000]),
    ("医药费12,500元", [12500]),
    ("我们家，3口人", []),
])
def test_amounts(text: str, expected: list[float]) -> None:
    assert nlu.parse(text).amounts == pytest.approx(expected)


def test_amount_needs_a_unit_or_a_money_word() -> None:
    assert amounts("今年三万", []) == []
    assert amounts("今年三万", [(0, 2)]) == [30000]


def test_cn2an_fallback_for_forms_the_fast_path_refuses() -> None:
    assert cn_number("一百点五") is None
    assert numeral("一百点五") == pytest.approx(100.5)


def test_jionlp_money_cases_that_fit_a_farmers_message() -> None:
    """JioNLP's money cases in yuan without decimals or foreign currency: same value."""
    cases = json.loads(shared_data("jionlp-cases.json").read_text(encoding="utf-8"))["cases"]
    checked = 0
    for text, want in cases["test/test_money_parser.py"]:
        if want is None or want.get("case") != "元" or want.get("definition") != "accurate":
            continue
        if any(c in text for c in ",，.角分整圆") or not any(c in text for c in "元块"):
            continue
        got = nlu.parse("花了" + text).amounts
        assert got and got[0] == pytest.approx(float(want["num"])), text
        checked += 1
    assert checked >= 2


# -- household size, relation ----------------------------------------------------------------------
@pytest.mark.parametrize(("text", "size"), [
    ("家里五口人", 5), ("一家七口", 7), ("我们家4口人", 4), ("家里3个人", 3), ("五口之家", 5),
    ("一家三口都靠我", 3), ("我一个人住", 1), ("就剩我一个老婆子", 1), ("老两口过日子", 2),
    ("我今年七十岁", None), ("三个孩子读书", None), ("家里有六口人", 6), ("全家8口人", 8),
])
def test_household_size(text: str, size: int | None) -> None:
    assert nlu.parse(text).household_size == size


@pytest.mark.parametrize(("text", "relation"), [
    ("我帮邻居申报，他家老人瘫痪了", "邻居"),
    ("我叔叔生病住院了", "叔叔"),
    ("隔壁王奶奶冇得饭吃了", "邻居"),
    ("我是村支书，有户人家房子塌了", "村干部"),
    ("他家孩子不读书了", "他人"),
    ("我们没房子住，借住在亲戚家", None),
    ("看病借了亲戚两万五", None),
    ("我老伴生病了", None),
])
def test_relation(text: str, relation: str | None) -> None:
    assert nlu.parse(text).relation == relation
