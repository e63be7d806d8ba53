"""The one-way import rule of design.md: a wrong arrow fails this test."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("api", "bot", "nlu", "conversations", "cases")
ALLOWED: dict[str, set[str]] = {
    "api": {"bot", "conversations", "cases", "nlu"},
    "bot": {"conversations", "cases"},
    "conversations": {"nlu", "cases"},
    "cases": set(),
    "nlu": set(),
}


def imported_packages(path: Path) -> set[tuple[str, int]]:
    """Top-level names of our packages imported by a module, with line numbers."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[tuple[str, int]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.add((alias.name.split(".")[0], node.lineno))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add((node.module.split(".")[0], node.lineno))
    return {(name, line) for name, line in found if name in PACKAGES}


def violations(root: Path) -> list[str]:
    wrong = []
    for package in PACKAGES:
        for module in sorted((root / package).rglob("*.py")):
            for name, line in imported_packages(module):
                if name != package and name not in ALLOWED[package]:
                    wrong.append(f"{module.relative_to(root)}:{line} imports {name}")
    return sorted(wrong)


def test_import_arrows_point_one_way() -> None:
    assert violations(ROOT) == []


def test_a_wrong_arrow_is_caught(tmp_path: Path) -> None:
    for package in PACKAGES:
        (tmp_path / package).mkdir()
    (tmp_path / "cases" / "bad.py").write_text("from api.settings import Settings\n", encoding="utf-8")
    (tmp_path / "nlu" / "bad.py").write_text("import conversations.engine\n", encoding="utf-8")
    assert violations(tmp_path) == ["cases/bad.py:1 imports api", "nlu/bad.py:1 imports conversations"]


@pytest.mark.parametrize("package", PACKAGES)
def test_package_exists(package: str) -> None:
    assert (ROOT / package / "__init__.py").exists()
