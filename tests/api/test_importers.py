"""The importers: good files land whole, a bad file lands nothing and names its lines."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.cli import main
from api.settings import Settings
from cases.importers import ImportRefused, import_areas
from cases.models import Area, AreaLevel
from tests.conftest import shared_data

VILLAGES = """village_code,province,city_code,city,county_code,county,town_code,town,village
430421100201,湖南省,4304,衡阳市,430421,衡阳县,430421100,西渡镇,梅花村村委会
430421100202,湖南省,4304,衡阳市,430421,衡阳县,430421100,西渡镇,杉桥村村委会
430421101203,湖南省,4304,衡阳市,430421,衡阳县,430421101,三湖镇,三湖村村委会
"""

SIMPLE = """code,name,level,parent_code
43,湖南省,province,
4304,衡阳市,city,43
430421,衡阳县,county,4304
430421100,西渡镇,township,430421
430421100201,梅花村,village,430421100
"""


def write(tmp_path: Path, text: str, name: str = "areas.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Area)) or 0


def test_village_format_builds_the_hierarchy_with_padded_codes(db: Session, tmp_path: Path) -> None:
    result = import_areas(db=db, path=write(tmp_path, VILLAGES))
    db.commit()
    assert result.inserted == 8 and result.by_level == {
        "province": 1,
        "city": 1,
        "county": 1,
        "township": 2,
        "village": 3,
    }
    village = db.get(Area, "430421100202")
    assert (
        village is not None and village.level == AreaLevel.VILLAGE and village.parent_code == "430421100000"
    )
    town = db.get(Area, "430421100000")
    assert town is not None and town.name == "西渡镇" and town.parent_code == "430421000000"
    assert db.get(Area, "430400000000").parent_code == "430000000000"  # type: ignore[union-attr]


def test_reimport_is_idempotent_and_renames(db: Session, tmp_path: Path) -> None:
    import_areas(db=db, path=write(tmp_path, VILLAGES))
    db.commit()
    again = import_areas(db=db, path=write(tmp_path, VILLAGES.replace("杉桥村村委会", "杉桥村")))
    db.commit()
    assert (again.inserted, again.updated, again.unchanged) == (0, 1, 7)
    assert db.get(Area, "430421100202").name == "杉桥村"  # type: ignore[union-attr]


def test_simple_format(db: Session, tmp_path: Path) -> None:
    result = import_areas(db=db, path=write(tmp_path, SIMPLE))
    db.commit()
    assert result.inserted == 5
    assert db.get(Area, "430421100201").parent_code == "430421100000"  # type: ignore[union-attr]


def test_simple_format_may_hang_under_areas_already_stored(db: Session, tmp_path: Path) -> None:
    import_areas(db=db, path=write(tmp_path, SIMPLE))
    db.commit()
    more = "code,name,level,parent_code\n430421100202,杉桥村,village,430421100\n"
    assert import_areas(db=db, path=write(tmp_path, more, "more.csv")).inserted == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            VILLAGES + "43042110020,湖南省,4304,衡阳市,430421,衡阳县,430421100,西渡镇,短码村\n",
            ["line 5: village_code must be 12 digits, got '43042110020'"],
        ),
        (
            VILLAGES + "430422100201,湖南省,4304,衡阳市,430421,衡阳县,430421100,西渡镇,错村\n",
            ["line 5: codes do not nest: 4304 > 430421 > 430421100 > 430422100201"],
        ),
        (
            VILLAGES + "430421100204,湖南省,4304,衡阳市,430421,衡阳县,430421100,演陂镇,别名村\n",
            ["line 5: township 430421100000 '演陂镇' contradicts line 2 ('西渡镇', township)"],
        ),
        (
            VILLAGES + "430421100205,湖南省,4304,衡阳市,430421,衡阳县,430421100,西渡镇,\n",
            ["line 5: village is empty"],
        ),
        (
            SIMPLE + "430421100202,杉桥村,hamlet,430421100\n",
            ["line 7: level must be one of province, city, county, township, village, got 'hamlet'"],
        ),
        (
            SIMPLE + "430421100202,杉桥村,village,430421999\n",
            ["line 7: parent 430421999000 of 430421100202 is neither in the file nor in the database"],
        ),
        (
            SIMPLE + "430421200202,杉桥村,village,430421100\n",
            ["line 7: code 430421200202 does not start with its parent's 430421100"],
        ),
        (SIMPLE + "430421100202,杉桥村,village,\n", ["line 7: a village needs a parent_code"]),
        (
            SIMPLE + "4304211,杉桥村,county,4304\n",
            ["line 7: code 430421100000 has digits below its level (county)"],
        ),
        (
            "name,code\n梅花村,1\n",
            [
                "line 1: unknown header: expected code,name,level,parent_code or "
                "village_code,province,city_code,city,county_code,county,town_code,town,village"
            ],
        ),
        ("code,name,level,parent_code\n", ["line 1: the file has no rows"]),
    ],
)
def test_a_bad_file_imports_nothing(db: Session, tmp_path: Path, text: str, expected: list[str]) -> None:
    with pytest.raises(ImportRefused) as refused:
        import_areas(db=db, path=write(tmp_path, text))
    db.rollback()
    assert [str(e) for e in refused.value.errors] == expected
    assert count(db) == 0


def test_cli_reports_lines_and_imports_nothing(
    settings: Settings, db: Session, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = VILLAGES + "x,湖南省,4304,衡阳市,430421,衡阳县,430421100,西渡镇,坏村\n"
    assert main(["import", "areas", str(write(tmp_path, bad))], settings) == 1
    err = capsys.readouterr().err
    assert "nothing imported: 1 invalid row(s)" in err and "line 5: village_code must be 12 digits" in err
    assert count(db) == 0
    assert main(["import", "areas", str(write(tmp_path, VILLAGES, "good.csv"))], settings) == 0
    assert "8 added, 0 updated, 0 unchanged" in capsys.readouterr().out
    assert count(db) == 8


def test_all_hunan_villages(db: Session, capsys: pytest.CaptureFixture[str]) -> None:
    """The real list: 29,534 villages with their townships, counties, cities and the province."""
    path = shared_data("hunan-villages.csv")
    started = time.perf_counter()
    result = import_areas(db=db, path=path)
    db.commit()
    elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(
            f"\nimported {result.inserted} Hunan areas ({result.by_level}) on "
            f"{db.get_bind().dialect.name} in {elapsed:.1f} s"
        )
    assert result.by_level["village"] == 29534 and result.by_level["province"] == 1
    assert result.by_level["city"] == 14
    assert count(db) == result.inserted
    hengyang = db.get(Area, "430421000000")
    assert hengyang is not None and hengyang.name == "衡阳县" and hengyang.level == AreaLevel.COUNTY
