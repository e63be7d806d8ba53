"""The importers: good files land whole, a bad file lands nothing and names its lines."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.cli import main
from api.settings import Settings
from cases.clock import FrozenClock
from cases.crypto import Vault
from cases.importers import ImportRefused, import_areas, import_staff
from cases.models import Area, AreaLevel, Staff
from cases.passwords import verify_password
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


def test_excel_encodings_bom_and_gbk(db: Session, tmp_path: Path) -> None:
    """Excel writes "CSV UTF-8" with a BOM, and plain "CSV" in GBK on Chinese Windows: both import."""
    bom = tmp_path / "bom.csv"
    bom.write_bytes(VILLAGES.encode("utf-8-sig"))
    assert import_areas(db=db, path=bom).inserted == 8
    db.rollback()
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(VILLAGES.replace("\n", "\r\n").encode("gbk"))
    assert import_areas(db=db, path=gbk).inserted == 8
    db.commit()
    assert db.get(Area, "430421101000").name == "三湖镇"  # type: ignore[union-attr]


def test_undecodable_file_names_its_line_and_imports_nothing(db: Session, tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    lines = VILLAGES.encode("utf-8").split(b"\n")
    lines[2] = lines[2].replace("杉桥".encode(), b"\xff\xfe")  # neither UTF-8 nor GB18030
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(ImportRefused) as refused:
        import_areas(db=db, path=path)
    assert [e.line for e in refused.value.errors] == [3]
    assert "UTF-8" in str(refused.value.errors[0])
    assert count(db) == 0


def test_every_bad_row_is_reported(db: Session, tmp_path: Path) -> None:
    bad = SIMPLE + "430421100202,杉桥村,hamlet,430421100\n430421100203,,village,430421100\n"
    with pytest.raises(ImportRefused) as refused:
        import_areas(db=db, path=write(tmp_path, bad))
    assert [e.line for e in refused.value.errors] == [7, 8]
    assert count(db) == 0


def test_cli_missing_file(settings: Settings, db: Session, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "areas", "/nonexistent/areas.csv"], settings) == 1
    assert main(["import", "staff", "/nonexistent/staff.csv"], settings) == 1
    err = capsys.readouterr().err
    assert err.count("nothing imported: cannot read /nonexistent/") == 2


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


# --- staff -------------------------------------------------------------------------------------

STAFF = """username,name,role,area_code,phone,password
zhao.q,赵强,cadre,430421100201,139 0734 5678,
li.zz,李镇长,township,430421100,,a-long-password
"""


@pytest.fixture
def vault(settings: Settings) -> Vault:
    return Vault(settings.secret_key)


@pytest.fixture
def areas(db: Session, tmp_path: Path) -> Session:
    import_areas(db=db, path=write(tmp_path, SIMPLE, "simple.csv"))
    db.commit()
    return db


def staff_count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Staff)) or 0


def test_staff_import_hashes_passwords_encrypts_phones(
    areas: Session, tmp_path: Path, vault: Vault, clock: FrozenClock
) -> None:
    result = import_staff(db=areas, path=write(tmp_path, STAFF, "staff.csv"), vault=vault, now=clock())
    areas.commit()
    assert (result.inserted, result.updated) == (2, 0)
    [(username, generated)] = result.generated_passwords
    zhao = areas.scalars(select(Staff).where(Staff.username == "zhao.q")).one()
    assert username == "zhao.q" and verify_password(generated, zhao.password_hash)
    assert zhao.phone_enc is not None and vault.decrypt(zhao.phone_enc) == "13907345678"
    assert zhao.phone_hash == vault.lookup_hash("13907345678") and "1390734" not in zhao.phone_enc
    li = areas.scalars(select(Staff).where(Staff.username == "li.zz")).one()
    assert li.area_code == "430421100000" and li.role == "township" and li.phone_enc is None
    assert verify_password("a-long-password", li.password_hash)


def test_staff_reimport_updates_without_new_passwords(
    areas: Session, tmp_path: Path, vault: Vault, clock: FrozenClock
) -> None:
    import_staff(db=areas, path=write(tmp_path, STAFF, "staff.csv"), vault=vault, now=clock())
    areas.commit()
    moved = STAFF.replace("zhao.q,赵强,cadre,430421100201", "zhao.q,赵强,village,430421100201")
    again = import_staff(db=areas, path=write(tmp_path, moved, "staff2.csv"), vault=vault, now=clock())
    areas.commit()
    assert (again.inserted, again.updated, again.generated_passwords) == (0, 2, [])
    assert areas.scalars(select(Staff).where(Staff.username == "zhao.q")).one().role == "village"


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            "x,短名,cadre,430421100201,,",
            "line 4: username must be 2-64 letters, digits, '_', '.' or '-', got 'x'",
        ),
        ("zhao.q,又一个,cadre,430421100201,,", "line 4: username 'zhao.q' repeats line 2"),
        (
            "wang,王,mayor,430421100201,,",
            "line 4: role must be one of hotline, cadre, village, township, county, admin, got 'mayor'",
        ),
        ("wang,王,cadre,430421999201,,", "line 4: area 430421999201 is unknown: import areas first"),
        ("wang,王,cadre,43042x,,", "line 4: area_code must be up to 12 digits, got '43042x'"),
        ("wang,王,cadre,430421100201,12345,", "line 4: phone is not a mainland mobile number"),
        ("wang,王,cadre,430421100201,,short", "line 4: password must have at least 8 characters"),
        ("wang,,cadre,430421100201,,", "line 4: name must be 1-64 characters"),
    ],
)
def test_a_bad_staff_file_imports_nothing(
    areas: Session, tmp_path: Path, vault: Vault, clock: FrozenClock, row: str, expected: str
) -> None:
    path = write(tmp_path, STAFF + row + "\n", "staff.csv")
    with pytest.raises(ImportRefused) as refused:
        import_staff(db=areas, path=path, vault=vault, now=clock())
    areas.rollback()
    assert [str(e) for e in refused.value.errors] == [expected]
    assert staff_count(areas) == 0


def test_staff_header_is_checked(areas: Session, tmp_path: Path, vault: Vault, clock: FrozenClock) -> None:
    with pytest.raises(ImportRefused, match="header must have username,name,role,area_code"):
        import_staff(db=areas, path=write(tmp_path, "user,name\nx,y\n", "s.csv"), vault=vault, now=clock())


def test_cli_import_staff_prints_generated_password_once(
    settings: Settings, areas: Session, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", "staff", str(write(tmp_path, STAFF, "staff.csv"))], settings) == 0
    out = capsys.readouterr().out
    assert (
        "staff: 2 added, 0 updated" in out and "zhao.q\t" in out and "li.zz" not in out.split("shown once")[1]
    )
    assert main(["import", "staff", str(write(tmp_path, STAFF + "bad,,x,1,,\n", "bad.csv"))], settings) == 1
    assert "line 4:" in capsys.readouterr().err
    changed = STAFF.replace("赵强", "赵大强") + "bad,,x,1,,\n"  # a good change beside a bad row
    assert main(["import", "staff", str(write(tmp_path, changed, "bad2.csv"))], settings) == 1
    areas.expire_all()
    assert staff_count(areas) == 2
    assert areas.scalars(select(Staff).where(Staff.username == "zhao.q")).one().name == "赵强"
