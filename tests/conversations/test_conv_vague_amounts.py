"""Vague amounts (好几万, 几十万, 几千) and a digit pair before 块 (三五块) reach the read-back as 约…元."""

from __future__ import annotations

from conversations.service import state_of

from .conftest import Chat, World


def _parsed(world: World, chat: Chat) -> dict[str, object]:
    with world.factory() as db:
        state = state_of(db, chat.channel, chat.user_key, world.vault)
        parsed: dict[str, object] = (state.get("data") or {}).get("parsed") or {}
        return parsed


def test_vague_amounts_are_read_back_as_about(world: World) -> None:
    out = Chat(world).send("我老伴住院了，花了好几万，还欠了两千五")
    assert "因病" in out and "您提到的钱数：约20,000元、2,500元" in out and "对吗" in out
    out = Chat(world, user_key="10002").send("厂里冇得事做，我在镇上帮人卸货，一车只给三五块钱")
    assert "您提到的钱数：约5元" in out  # a range, its upper bound: not 35元
    out = Chat(world, user_key="10003").send("种的油菜遭了冰雹，损失十几万块")
    assert "您提到的钱数：约100,000元" in out


def test_vague_amount_said_at_the_read_back_keeps_its_flag(world: World) -> None:
    chat = Chat(world)
    chat.send("我老伴住院了，花了两万，房子也漏雨")
    out = chat.send("还欠了亲戚几十万，每个月吃药要几千块")
    assert "您提到的钱数：20,000元、约200,000元、约2,000元" in out
    parsed = _parsed(world, chat)
    assert parsed["amounts"] == [20000, 200000, 2000]
    assert parsed["amounts_approximate"] == [False, True, True]
