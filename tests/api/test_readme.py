"""The README's settings table lists exactly the fields of Settings."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path

from api.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_in_the_readme_table() -> None:
    rows = re.findall(r"^\| `([A-Z_0-9]+)` \|", README.read_text(encoding="utf-8"), flags=re.MULTILINE)
    documented = {name.lower() for name in rows}
    assert len(rows) == len(documented), "a setting is listed twice"
    fields = set(Settings.model_fields)
    assert sorted(fields - documented) == [], "add these settings to the README table"
    assert sorted(documented - fields) == [], "the README lists settings that no longer exist"


def test_the_readme_defaults_are_the_code_defaults() -> None:
    """`unset` means None; a default in backticks is the field's default as one would type it."""
    table = README.read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([A-Z_0-9]+)` \| ([^|]+) \|", table, flags=re.MULTILINE)
    checked = 0
    for name, shown in rows:
        field = Settings.model_fields[name.lower()]
        if field.default_factory is not None or shown.strip() == "a placeholder":
            continue
        default = field.default
        if shown.strip() == "unset":
            assert default is None, name
        else:
            if isinstance(default, bool):
                typed = str(default).lower()
            elif isinstance(default, time):  # as the environment gives it: HH:MM
                typed = default.isoformat(timespec="minutes")
            else:
                typed = str(default)
            assert shown.strip() == f"`{typed}`", (name, shown, default)
        checked += 1
    assert checked >= 20
