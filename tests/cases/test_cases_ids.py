"""GB 11643 ID numbers against ../shared/data/id-cases.json and hand-made edge cases."""

from __future__ import annotations

import json
from datetime import date

import pytest

from cases.ids import check_id, normalize_phone
from tests.conftest import shared_data

TODAY = date(2026, 3, 2)


def _cases() -> list[dict[str, object]]:
    return list(json.loads(shared_data("id-cases.json").read_text(encoding="utf-8"))["cases"])


def test_reference_cases() -> None:
    """Every case of the shared list: the plain valid/invalid ones exactly; the historic-county ones
    (invalid only against a dated county table) are accepted by design, see cases/ids.py."""
    checked = 0
    for case in _cases():
        raw, expect = str(case["id"]), str(case["expect"])
        result = check_id(raw, today=TODAY)
        if expect.startswith("valid"):
            assert result.valid, (raw, result)
            assert result.normalized is not None and len(result.normalized) == 18
            assert result.legacy15 == (len(raw) == 15)
            if len(raw) == 18:
                assert result.normalized == raw.upper()
        elif expect.startswith("invalid in "):
            assert result.valid, (raw, "historic county rules are deliberately not applied")
        else:
            assert not result.valid, (raw, expect)
            assert result.normalized is None and result.reason
        checked += 1
    assert checked >= 28


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("36042619910102009X", "checksum"),
        ("440308199901101513", "checksum"),
        ("360426199113010079", "birth_date"),
        ("610104620932690", "birth_date"),
        ("990426199112010074", "region"),
        ("T60426199101010078", "format"),
        ("44030819990110", "length"),
        ("", "empty"),
        ("   ", "empty"),
    ],
)
def test_reasons(raw: str, reason: str) -> None:
    result = check_id(raw, today=TODAY)
    assert (result.valid, result.reason) == (False, reason)


def test_lower_case_x_and_full_width_digits_are_normalised() -> None:
    assert check_id("44011320141005001x", today=TODAY).normalized == "44011320141005001X"
    full_width = "１１０１０５１９４９１２３１００２ｘ"
    result = check_id(full_width, today=TODAY)
    assert result.valid and result.normalized == "11010519491231002X"
    assert result.birth_date == date(1949, 12, 31)
    assert check_id("110105 1949 1231 002X", today=TODAY).normalized == "11010519491231002X"


def test_legacy_15_digit_is_converted_with_computed_check_digit() -> None:
    # Hand computation: 61010419620927690 weighted sum 345, 345 mod 11 = 4 -> '8'.
    result = check_id("610104620927690", today=TODAY)
    assert result.valid and result.legacy15
    assert result.normalized == "610104196209276908"
    assert result.birth_date == date(1962, 9, 27)
    assert not check_id("11010519491231002X", today=TODAY).legacy15


def test_birth_date_in_the_future_is_refused() -> None:
    # 2026-03-03 is after TODAY; check digit computed by the same rule as any valid number.
    from cases.ids import check_digit

    body = "43042120260303001"
    raw = body + check_digit(body)
    assert check_id(raw, today=TODAY).reason == "future_birth_date"
    assert check_id(raw, today=date(2026, 3, 3)).valid


def test_normalize_phone() -> None:
    assert normalize_phone("+86 139-1234-5678") == "13912345678"
    assert normalize_phone("0086 13912345678") == "13912345678"
    assert normalize_phone("１３９１２３４５６７８") == "13912345678"
    assert normalize_phone("0731-84567890") == "073184567890"
    assert normalize_phone("12") is None
    assert normalize_phone(None) is None
