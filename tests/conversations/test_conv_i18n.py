"""The catalog loader, the formats, and the untranslated-string check (for this and every package)."""

from __future__ import annotations

import textwrap
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from conversations import i18n


def _write_package(root: Path, name: str, code: str, po: dict[str, str]) -> None:
    pkg = root / name
    pkg.mkdir()
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "mod.py").write_text(textwrap.dedent(code), encoding="utf-8")
    for loc, body in po.items():
        d = pkg / "locales" / loc / "LC_MESSAGES"
        d.mkdir(parents=True)
        (d / f"{name}.po").write_text(textwrap.dedent(body), encoding="utf-8")


HEADER = '''\
msgid ""
msgstr ""
"Content-Type: text/plain; charset=utf-8\\n"
"Plural-Forms: nplurals=1; plural=0;\\n"

'''

CODE = '''\
from conversations.i18n import N_
def f(_, ngettext):
    return _("Hello {name}."), ngettext("{n} day", "{n} days", 2), N_("Menu")
'''


@pytest.fixture
def demo_pkg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    name = "shenbao_demo_pkg"
    zh = HEADER + '''\
msgid "Hello {name}."
msgstr "你好，{name}。"

msgid "{n} day"
msgid_plural "{n} days"
msgstr[0] "{n}天"

msgid "Menu"
msgstr ""
'''
    en = HEADER.replace("nplurals=1; plural=0", "nplurals=2; plural=(n != 1)") + '''\
msgid "Hello {name}."
msgstr ""
'''
    _write_package(tmp_path, name, CODE, {"zh_CN": zh, "en": en})
    monkeypatch.syspath_prepend(str(tmp_path))
    i18n.clear_cache()
    yield name
    i18n.clear_cache()


def test_translator_loads_po_at_run_time(demo_pkg: str) -> None:
    t = i18n.translator(demo_pkg, "zh-CN")
    assert t.locale == "zh_CN"
    assert t.gettext("Hello {name}.").format(name="张三") == "你好，张三。"
    assert t.ngettext("{n} day", "{n} days", 3).format(n=3) == "3天"
    assert t.gettext("Menu") == "Menu"  # untranslated falls back to the msgid, never empty
    en = i18n.translator(demo_pkg, "en_US")
    assert en.gettext("Hello {name}.") == "Hello {name}."
    assert en.ngettext("{n} day", "{n} days", 1) == "{n} day"


def test_missing_translations_names_every_gap(demo_pkg: str) -> None:
    zh = i18n.missing_translations(demo_pkg, "zh_CN")
    assert len(zh) == 1 and "untranslated in zh_CN: 'Menu'" in zh[0] and "mod.py:3" in zh[0]
    en = i18n.missing_translations(demo_pkg, "en", require_text=False)
    assert sorted(p.split(": ", 1)[1] for p in en) == [
        "not in the en catalog: 'Menu'", "not in the en catalog: '{n} day'"]


def test_a_translation_that_drops_a_field_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = "shenbao_demo_fields"
    zh = HEADER + ('msgid "Case {number} created."\nmsgstr "案件已创建。"\n\n'
                   '#, fuzzy\nmsgid "Bye"\nmsgstr "再见"\n')
    _write_package(tmp_path, name, 'def f(_):\n    return _("Case {number} created."), _("Bye")\n',
                   {"zh_CN": zh})
    monkeypatch.syspath_prepend(str(tmp_path))
    problems = i18n.missing_translations(name, "zh_CN")
    assert any("fields [] != ['number']" in p for p in problems)
    assert any("fuzzy in zh_CN: 'Bye'" in p for p in problems)
    i18n.clear_cache()
    assert i18n.translator(name, "zh_CN").gettext("Bye") == "Bye"  # fuzzy is not used


def test_a_marked_string_in_an_f_string_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = "shenbao_demo_fstring"
    code = 'def f(t, n):\n    return f"{n} {t.gettext(\'Go on\')}"\n'
    _write_package(tmp_path, name, code, {"zh_CN": HEADER})
    monkeypatch.syspath_prepend(str(tmp_path))
    problems = i18n.missing_translations(name, "zh_CN")
    assert len(problems) == 1 and "mod.py:2: a marked string inside an f-string" in problems[0]


def test_update_catalogs_merges_new_msgids(demo_pkg: str) -> None:
    paths = i18n.update_catalogs(demo_pkg)
    assert [p.parent.parent.name for p in paths] == ["zh_CN", "en"]
    assert i18n.missing_translations(demo_pkg, "en", require_text=False) == []
    zh = i18n.missing_translations(demo_pkg, "zh_CN")
    assert len(zh) == 1 and "'Menu'" in zh[0]  # kept translations survive, the gap stays visible
    assert i18n.translator(demo_pkg, "zh_CN").gettext("Hello {name}.") == "你好，{name}。"


def test_the_cli_update_keeps_the_console_templates_msgids() -> None:
    """`python -m conversations.i18n update api` read only the Python and dropped the msgids that only the
    console's Jinja templates hold (its pages then showed English): the default extraction reads both."""
    found = {item.key: item.locations for item in i18n.extract("api")}
    assert "Next page" in found and all(path.endswith(".html") for path, _ in found["Next page"])


def test_dates_and_money_are_babel_formatted_in_shanghai_time() -> None:
    t = i18n.translator("conversations", "zh_CN")
    late_utc = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)  # already 2 March in Beijing
    assert t.format_date(late_utc) == "2026年3月2日"
    assert t.format_date(date(2026, 3, 9)) == "2026年3月9日"
    assert t.format_datetime(late_utc, "short").endswith("01:30")
    assert t.format_money(Decimal("6500")) == "¥6,500.00"
    en = i18n.translator("conversations", "en")
    assert en.format_date(date(2026, 3, 9)) == "March 9, 2026"
    assert "6,500.00" in en.format_money(6500)
    with pytest.raises(ValueError):
        t.format_date(datetime(2026, 3, 1, 17, 30))  # noqa: DTZ001 - the refusal under test


def test_locale_names_are_normalised() -> None:
    assert i18n.normalize_locale("zh-cn") == "zh_CN"
    assert i18n.normalize_locale("zh_Hans_CN") == "zh_CN"
    assert i18n.normalize_locale("en_GB") == "en"
    assert i18n.normalize_locale(None) == "zh_CN"


@pytest.mark.parametrize("locale,require_text", [("zh_CN", True), ("en", False)])
def test_conversations_catalogs_are_complete(locale: str, require_text: bool) -> None:
    """Every user-facing string of conversations/ has its zh_CN translation (and is in the en catalog)."""
    assert i18n.missing_translations("conversations", locale, require_text=require_text) == []
