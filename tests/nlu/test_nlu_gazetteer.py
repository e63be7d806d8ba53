"""The gazetteer on the real Hunan divisions: stems, suffixes, ambiguity, both CSV formats and areas rows."""

from __future__ import annotations

from pathlib import Path

import pytest

import nlu
from nlu.gazetteer import Gazetteer, level_of, stem_of
from nlu.types import Place
from tests.conftest import shared_data


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer.from_csv(shared_data("hunan-villages.csv"))


def _one(p: Place | list[Place] | None) -> Place:
    assert isinstance(p, Place), p
    return p


def test_builds_every_division(gaz: Gazetteer) -> None:
    villages = sum(1 for n in gaz.nodes if n.level == "village")
    assert villages == 29_534
    assert sum(1 for n in gaz.nodes if n.level == "township") >= 1900


def test_full_path_resolves_to_one_village(gaz: Gazetteer) -> None:
    p = _one(gaz.find("我是衡南县松江镇和平村的"))
    assert (p.level, p.code, p.county, p.township, p.village) == (
        "village", "430422122245", "衡南县", "松江镇", "和平村")
    assert p.county_code == "430422" and p.city == "衡阳市"


def test_name_written_as_x_cun_matches_cunweihui(gaz: Gazetteer) -> None:
    p = _one(gaz.find("耒阳市导子镇和平村"))
    assert p.name == "和平村委会"
    community = _one(gaz.find("衡阳县西渡镇壕塘社区"))
    assert community.name == "壕塘社区居委会"


def test_repeated_village_name_gives_candidates(gaz: Gazetteer) -> None:
    p = gaz.find("我在和平村")
    assert isinstance(p, list) and len(p) >= 30
    assert all(c.level == "village" and c.name.startswith("和平村") for c in p)


def test_repeated_township_name_gives_candidates(gaz: Gazetteer) -> None:
    p = gaz.find("龙潭镇")
    assert isinstance(p, list)
    assert {c.county for c in p} >= {"溆浦县", "桃源县", "嘉禾县", "花垣县", "渌口区"}
    narrowed = _one(gaz.find("溆浦县龙潭镇"))
    assert narrowed.county == "溆浦县"


@pytest.mark.parametrize("stem", ["衡阳", "长沙", "湘潭", "邵阳", "岳阳"])
def test_city_and_county_share_a_stem(gaz: Gazetteer, stem: str) -> None:
    both = gaz.find(f"我是{stem}的")
    assert isinstance(both, list) and {c.level for c in both} == {"city", "county"}
    assert _one(gaz.find(f"{stem}县")).level == "county"
    assert _one(gaz.find(f"{stem}市")).level == "city"


def test_bare_township_after_its_county(gaz: Gazetteer) -> None:
    p = _one(gaz.find("我是衡南县松江和平村的"))
    assert p.township == "松江镇"


def test_autonomous_county_short_forms(gaz: Gazetteer) -> None:
    assert _one(gaz.find("城步县")).name == "城步苗族自治县"
    assert _one(gaz.find("城步儒林镇龙凤冲村")).code == "430529100250"


def test_no_place_in_ordinary_text(gaz: Gazetteer) -> None:
    for text in ("我老伴生病住院了，花了三万五", "房子漏雨", "孩子不读书了", "你好", ""):
        assert gaz.find(text) is None, text


def test_parse_uses_the_gazetteer(gaz: Gazetteer) -> None:
    p = nlu.parse("祁东县粮市镇茶塘村，孩子辍学了", gaz)
    assert isinstance(p.place, Place) and p.place.code == "430426104218"
    assert p.contract()["place"]["village"] == "茶塘村委会"
    assert nlu.parse("祁东县粮市镇茶塘村").place is None


def test_code_name_parent_csv(tmp_path: Path) -> None:
    csv = tmp_path / "areas.csv"
    csv.write_text("code,name,parent\n430400000000,衡阳市,\n430422000000,衡南县,430400000000\n"
                   "430422122000,松江镇,430422000000\n430422122245,和平村,430422122000\n"
                   "430426000000,祁东县,430400000000\n430426110000,风石堰镇,430426000000\n"
                   "430426110233,和平村委会,430426110000\n", encoding="utf-8")
    gaz = Gazetteer.from_csv(csv)
    assert len(gaz) == 7
    assert _one(gaz.find("松江镇和平村")).code == "430422122245"
    assert isinstance(gaz.find("和平村"), list)
    assert _one(gaz.find("祁东")).level == "county"


def test_townships_and_counties_csv_formats() -> None:
    gaz = Gazetteer.from_csv(shared_data("hunan-townships.csv"))
    assert isinstance(gaz.find("龙潭镇"), list)
    counties = Gazetteer.from_csv(shared_data("cn-counties.csv"))
    assert _one(counties.find("衡南县")).code == "430422"


def test_from_areas_rows() -> None:
    rows = [("430000000000", "湖南省", "province", None), ("430400000000", "衡阳市", "city", "430000000000"),
            ("430421000000", "衡阳县", "county", "430400000000"),
            ("430421100000", "西渡镇", "township", "430421000000"),
            ("430421100013", "壕塘社区居委会", "village", "430421100000")]
    gaz = Gazetteer.from_areas(rows)
    p = _one(gaz.find("衡阳县西渡镇壕塘社区"))
    assert (p.code, p.county_code, p.township_code) == ("430421100013", "430421000000", "430421100000")
    with pytest.raises(ValueError):
        Gazetteer.from_areas([("1", "x", "hamlet", None)])


def test_levels_and_stems() -> None:
    assert [level_of(c) for c in ("43", "4304", "430422", "430422122", "430422122245")] == [
        "province", "city", "county", "township", "village"]
    assert level_of("430400000000") == "city"
    assert stem_of("和平村村委会", "village") == ("和平", "村村委会")
    assert stem_of("城步苗族自治县", "county") == ("城步", "苗族自治县")
    assert stem_of("攸县", "county") == ("攸", "县")
