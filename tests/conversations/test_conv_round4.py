"""Round 4 of exploratory testing: proxies, expiry, voice notes, traditional characters, the village group."""

from __future__ import annotations

from conversations.messages import Attachment

from .conftest import ID_ZHANG, Chat, World
from .test_conv_dialogues import DESCRIPTION, state_of_data


def test_cancel_said_twice_keeps_the_report_set_aside(world: World) -> None:
    """取消 at the menu after 取消 in a report dropped the report set aside: 9 was gone, and the name and
    ID typed with it."""
    chat = Chat(world)
    chat.script(DESCRIPTION, "1", "张三", ID_ZHANG, "取消")
    out = chat.send("取消")
    assert "9 接着办刚才没办完的" in out and "回复 9" in out
    assert "几口人" in chat.send("9")
    assert state_of_data(world, chat)["name"] == "张三" and state_of_data(world, chat)["id"] == ID_ZHANG


def test_a_name_in_traditional_characters_is_taken_and_kept_as_the_id_card_writes_it(world: World) -> None:
    """張三 was refused with 'please write the name in characters' (it is in characters); typed again it was
    kept as 張三, which the ID card and the name on record write 张三."""
    chat = Chat(world)
    chat.script(DESCRIPTION, "1")
    out = chat.send("張三")
    assert "身份证号码" in out and "张三" in out
    assert state_of_data(world, chat)["name"] == "张三"
    proxy = Chat(world, user_key="10002")
    proxy.script("我帮隔壁王奶奶报，她摔断了腿，一个人住", "1")
    assert "手机号" in proxy.send("陳桂蘭")
    assert state_of_data(world, proxy)["proxy_name"] == "陈桂兰"


def test_the_relation_to_the_family_may_be_said_in_words(world: World) -> None:
    """侄子, 我是她邻居, 隔壁的, 我是村里的会计 at 'how are you related' were 'reply 1 to 5' again and
    again, with no call-back offered, and an ID number typed there was lost."""
    said_and_code = [("侄子", "relative"), ("我是他侄儿", "relative"), ("我是她邻居", "neighbour"),
                     ("隔壁的", "neighbour"), ("我是村里的会计", "cadre"), ("我是她崽", "child"),
                     ("儿子", "child"), ("朋友", "other")]
    for i, (said, code) in enumerate(said_and_code):
        chat = Chat(world, user_key=f"3000{i}")
        chat.script("2", "他屋里发大水，房子冲垮了")
        assert "什么关系" in chat.send("1"), said
        assert "您的姓名" in chat.send(said), said
        assert state_of_data(world, chat)["relation"] == code, said
    lost = Chat(world, user_key="30099")
    lost.script("2", "他屋里发大水，房子冲垮了", "1")
    outs = [lost.send(ID_ZHANG) for _ in range(3)]
    assert "1 到 5" in outs[0] and "人工" in outs[-1]
    assert state_of_data(world, lost)["id_guess"] == ID_ZHANG


def test_the_village_typed_again_at_the_group_question_is_not_taken_as_the_group(world: World) -> None:
    """西渡镇梅花村 typed again at 'which village group' was kept as the group: annex 1, signed, read
    '衡阳县西渡镇梅花村西渡镇梅花村'."""
    for i, said in enumerate(("西渡镇梅花村", "梅花村", "在梅花村的", "西渡镇")):
        chat = Chat(world, user_key=f"4000{i}")
        chat.script(DESCRIPTION, "1", "张三", ID_ZHANG, "4", "西渡镇梅花村", "1")
        out = chat.send(said)
        assert "村民小组" not in out and "只写组" in out, (said, out)
        assert "group" not in state_of_data(world, chat), said
        assert "手机号" in chat.send("3组"), said
    named = Chat(world, user_key="40099")  # a group with a name of its own is still taken
    named.script(DESCRIPTION, "1", "张三", ID_ZHANG, "4", "西渡镇梅花村", "1", "张家组")
    assert state_of_data(world, named)["group"] == "张家组"


VOICE = Attachment(kind="voice", content_type="audio/ogg", file_id="tg-voice-1", size=20000)


def test_voice_notes_alone_lead_to_a_call_back(world: World) -> None:
    """Someone who only speaks: a voice note with no report was told to reply 4 (add to a case) and send it
    again; in a report each voice note was kept and the question asked again, for ever, with no word that
    voice is not understood nor of a call-back."""
    chat = Chat(world)
    out = chat.send(None, (VOICE,))
    assert "听不了" in out and "人工" in out and "回复 4" not in out and "1 申报困难" in out
    assert "电话" in chat.send("人工")
    reporting = Chat(world, user_key="10002")
    reporting.script(DESCRIPTION, "1")
    out = reporting.send(None, (VOICE,))
    assert "会和申报一起交给干部" in out and "姓名" in out  # kept, the question again
    assert "听不了语音" in out and "人工" in out
    photo = Attachment(kind="photo", content_type="image/png", data=b"\x89PNG" + b"\x00" * 64)
    assert "听不了" not in reporting.send(None, (photo,))


def test_a_greeting_a_day_later_asks_the_question_again_and_is_not_taken_as_the_answer(world: World) -> None:
    """你好 a day after the village question was read as the village ('没有找到这个村'), and the 9 typed next
    as another village."""
    chat = Chat(world)
    chat.script(DESCRIPTION, "1", "张三", ID_ZHANG, "4")
    world.clock.advance(hours=25)
    out = chat.send("你好")
    assert "好久没有回复" in out and "接着刚才的办" in out and "哪个村" in out
    assert "没有找到" not in out
    assert "是衡阳县西渡镇梅花村吗" in chat.send("西渡镇梅花村")


def test_a_report_answered_in_traditional_characters_goes_through(world: World) -> None:
    """An elderly household typing traditional characters (a phone set so) was stuck at the first question:
    對 at 对吗？ was 'please reply 1, 2 or 3', and so at every yes/no; 沒有 at the phone question was not
    'none'; 撤回授權 (withdraw the authorization) was read as 撤回 and asked to withdraw the whole case, and
    簽字 or 補充 were 'not understood'. The answers are read simplified, as names already were."""
    chat = Chat(world)
    assert "对吗" in chat.send("我老伴住院了，屋頂也漏雨")
    assert "您的姓名" in chat.send("對")  # not 'reply 1, 2 or 3'
    assert "身份证号码" in chat.send("張三")
    assert "几口人" in chat.send(ID_ZHANG)
    assert "哪个村" in chat.send("四個人")
    assert "是衡阳县西渡镇梅花村吗" in chat.send("西渡鎮梅花村")
    assert "村民小组" in chat.send("對")
    assert "手机号" in chat.send("三組")
    out = chat.send("沒有")
    assert "请核对" in out and "电话：无" in out and "住址：衡阳县西渡镇梅花村3组" in out, out
    assert "您同意并签字吗" in chat.send("對")
    chat.send("同意")
    assert "已签字" in chat.send("張三")
    out = chat.send("撤回授權")
    assert "要撤回授权吗" in out, out  # not 撤回, the case
    assert "您要办什么" in chat.send("0")
    assert "发文字、照片" in chat.send("補充")
