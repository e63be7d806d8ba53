"""A village the household cannot name (or the parser cannot find) is chosen from numbered lists instead:
township, then village, with 0 going up a level and 9 to the next page; never a dead end."""

from __future__ import annotations

from dataclasses import replace

import nlu
from cases import demo
from conversations.service import ServiceContext, state_of
from nlu.gazetteer import spoken_name
from tests.conftest import shared_data

from .conftest import AREAS, COUNTY, ID_WANG, SHISHI, XIDU, Chat, World
from .test_conv_dialogues import DESCRIPTION


def at_village_question(chat: Chat) -> str:
    return chat.script(DESCRIPTION, "1", "赵六", ID_WANG, "5")


def village_of(world: World, chat: Chat) -> object:
    with world.factory() as db:
        return state_of(db, chat.channel, chat.user_key, world.vault).get("data", {}).get("village")


def test_the_village_question_gives_a_village_that_exists_here_as_its_example(world: World) -> None:
    out = at_village_question(Chat(world))
    assert "哪个村" in out and "如：西渡镇梅花村" in out  # the first village by code, not a made-up one
    assert "黄土铺镇" not in out
    assert "1 从列表里选" in out and "0 返回" in out


def test_a_village_not_found_is_chosen_from_lists_township_then_village(world: World) -> None:
    chat = Chat(world)
    at_village_question(chat)
    out = chat.send("黄土铺镇长冲村")  # not in this county
    assert "没有找到这个村" in out and "回复 1 从列表里选" in out and "1 从列表里选" in out
    out = chat.send("1")  # one province, one city, one county: straight to the county's townships
    assert "衡阳县的哪个乡镇" in out and "1 西渡镇" in out and "2 台源镇" in out and "0 返回" in out
    out = chat.send("2")
    assert "台源镇的哪个村" in out and "1 梅花村" in out and "2 和平村" in out
    out = chat.send("0")  # up one level: the townships again
    assert "衡阳县的哪个乡镇" in out and "1 西渡镇" in out
    out = chat.send("3")  # not on the list: said once, with the list again in the same reply
    assert "请回复 1 到 2 的数字，或回复 0 返回" in out and "1 西渡镇" in out
    assert len(chat.results[-1].replies) == 1
    assert "石狮村" in chat.send("1")
    out = chat.send("2")
    assert out.startswith("已选：衡阳县西渡镇石狮村\n") and "村民小组" in out  # with the next question
    assert len(chat.results[-1].replies) == 1
    assert village_of(world, chat) == {"code": SHISHI, "label": "衡阳县西渡镇石狮村"}
    out = chat.send("0")  # back from the group question: the village question, not the list
    assert "哪个村" in out and "如：" in out


def test_0_at_the_top_of_the_list_goes_back_to_the_village_question(world: World) -> None:
    chat = Chat(world)
    at_village_question(chat)
    assert "衡阳县的哪个乡镇" in chat.send("1")
    out = chat.send("0")
    assert "您家在哪个村" in out and "1 从列表里选" in out
    with world.factory() as db:
        assert "browse" not in state_of(db, chat.channel, chat.user_key, world.vault)["data"]


def test_a_township_named_alone_lists_its_villages_and_0_goes_up_to_the_townships(world: World) -> None:
    chat = Chat(world)
    at_village_question(chat)
    out = chat.send("西渡镇")
    assert "西渡镇" in out and "哪个村" in out and "1 从列表里选" in out
    out = chat.send("1")
    assert "西渡镇的哪个村" in out and "1 梅花村" in out and "2 石狮村" in out and "和平村" not in out
    assert "衡阳县的哪个乡镇" in chat.send("0")


def test_a_long_list_is_paged_by_eight_and_9_turns_the_page(world: World) -> None:
    villages = [(f"4304211002{i:02d}", f"{name}村", "village", XIDU)
                for i, name in enumerate("东南西北前后左右上中下", start=1)]
    gazetteer = nlu.Gazetteer.from_areas([row for row in AREAS if row[3] != XIDU] + villages)
    chat = Chat(world)
    chat.ctx = replace(world.ctx, gazetteer=gazetteer)
    at_village_question(chat)
    chat.send("1")
    out = chat.send("1")  # 西渡镇: eleven villages
    assert "（第 1 页，共 2 页）" in out and "8 右村" in out and "上村" not in out and "9 下一页" in out
    out = chat.send("9")
    assert "（第 2 页，共 2 页）" in out and "1 上村" in out and "3 下村" in out and "4 " not in out
    out = chat.send("4")
    assert "1 到 3" in out
    assert "1 东村" in chat.send("9")  # past the last page: the first again
    chat.send("9")
    assert "村民小组" in chat.send("2")
    assert village_of(world, chat) == {"code": "430421100210", "label": "衡阳县西渡镇中村"}


def test_without_a_directory_the_question_offers_no_list(world: World) -> None:
    chat = Chat(world)
    chat.ctx = ServiceContext(vault=world.ctx.vault, gazetteer=None, notifier=world.ctx.notifier)
    out = at_village_question(chat)
    assert "从列表里选" not in out and "如：黄土铺镇长冲村" in out
    out = chat.send("梅花村")  # no gazetteer: no place is found, and the re-ask still says how to answer
    assert "没有找到这个村" in out and "如：" in out and "从列表里选" not in out and "0 返回" in out


def test_the_gazetteer_lists_the_divisions_under_a_code_in_code_order() -> None:
    gazetteer = nlu.Gazetteer.from_areas(AREAS)
    assert [p.name for p in gazetteer.children(None)] == ["湖南省"]
    townships = [(p.name, p.level) for p in gazetteer.children(COUNTY)]
    assert townships == [("西渡镇", "township"), ("台源镇", "township")]
    assert [p.village_code for p in gazetteer.children(XIDU)] == ["430421100201", SHISHI]
    assert gazetteer.children(SHISHI) == [] and gazetteer.children("999999999999") == []


def test_official_names_are_shown_as_people_say_them(world: World) -> None:
    """The demo county's villages are 村委会 in the register: the example and the list say 村."""
    gazetteer = nlu.Gazetteer.from_areas(
        [(a.code, a.name, a.level.value, a.parent_code) for a in demo.AREAS])
    chat = Chat(world)
    chat.ctx = replace(world.ctx, gazetteer=gazetteer)
    assert "如：西渡镇西渡村" in at_village_question(chat)
    assert "1 西渡镇" in chat.send("1")
    out = chat.send("1")
    assert "1 西渡村\n2 赤水村\n3 梅花村\n0 返回" in out and "委会" not in out
    assert spoken_name("梅花村民委员会") == "梅花村" and spoken_name("村委会") == "村委会"
    assert spoken_name("张家村村委会") == "张家村"
    assert spoken_name("壕塘社区居委会") == "壕塘社区" and spoken_name("八一路社区") == "八一路社区"


def test_a_name_typed_at_the_list_is_read_as_the_answer(world: World) -> None:
    chat = Chat(world)
    at_village_question(chat)
    assert "衡阳县的哪个乡镇" in chat.send("1")
    out = chat.send("石狮村")
    assert "是衡阳县西渡镇石狮村吗" in out
    assert "村民小组" in chat.send("1")
    assert "是衡阳县西渡镇石狮村吗" in chat.send("0")
    assert "您家在哪个村" in chat.send("0")  # then the question: the list is left behind


def test_with_all_of_hunan_the_list_goes_city_county_township_village(world: World) -> None:
    gazetteer = nlu.Gazetteer.from_csv(shared_data("hunan-villages.csv"))
    chat = Chat(world)
    chat.ctx = replace(world.ctx, gazetteer=gazetteer)
    at_village_question(chat)
    out = chat.send("1")  # one province: its 14 cities, 8 a page
    assert "在哪个市（州）？（第 1 页，共 2 页）" in out and "1 长沙市" in out and "9 下一页" in out
    out = chat.send("4")
    assert "在哪个县（市、区）" in out and "衡阳县" in out
    county = next(line for line in out.splitlines() if line.endswith(" 衡阳县"))  # on the first page
    out = chat.send(county.split()[0])
    assert "是衡阳县的哪个乡镇" in out
    out = chat.send("1")
    assert "的哪个村" in out and "委会" not in out
    assert "村民小组" in chat.send("1")
    village = village_of(world, chat)
    assert isinstance(village, dict) and village["label"].startswith("衡阳县") and len(village["code"]) == 12
