"""Round 3 of exploratory testing: what the first message says of the village, the household size said as
people say it, and 9 after backing out of a report."""

from __future__ import annotations

from nlu.types import Parse

from .conftest import ID_WANG, ID_ZHANG, MEIHUA2, SHISHI, Chat, World
from .test_conv_dialogues import DESCRIPTION, state_of_data
from .test_conv_engine import SCRIPT, joined, say


def test_a_size_given_as_two_numbers_says_why_it_is_asked_again_and_lia_and_sa_are_counts(
    world: World,
) -> None:
    """五到六个, 五、六个, 5 6个, 十五六个 were taken as their first number (or 2 for 二三十个); 俩 and 仨
    were asked again without a word of why, and 一家仨 was 1; 住院五六天了，家里4口人 was refused as a
    range."""
    said_and_size = [("五到六个", None), ("五、六个", None), ("5 6个", None), ("十五六个人", None),
                     ("二三十个", None), ("五个或者六个", None), ("俩仨", None), ("我家里五六个人吧", None),
                     ("俩", 2), ("仨", 3), ("我们俩", 2), ("我和老伴俩", 2), ("仨人", 3), ("一家仨", 3),
                     ("俩个", 2), ("老伴住院五六天了，家里4口人", 4)]
    for i, (said, size) in enumerate(said_and_size):
        chat = Chat(world, user_key=f"2000{i}")
        chat.script(DESCRIPTION, "1", "赵六", ID_WANG)
        out = chat.send(said)
        assert state_of_data(world, chat).get("size") == size, (said, out)
        if size is None:
            assert "请只回复一个数字" in out, (said, out)
        else:
            assert "哪个村" in out, (said, out)
    described = Chat(world, user_key="20099")  # a range in the first message is not taken as the size
    assert "几口人" in described.script("一家5到6口人，老伴住院了", "1", "赵六", ID_WANG)


def test_lia_and_sa_are_read_by_the_flow_whatever_the_parser_reads() -> None:
    """The parser may or may not count 俩 and 仨: the size question does, with no household size parsed."""
    state = None
    for text, parse in SCRIPT[:4]:
        state = say(state, text, parse).state
    for said, size in (("俩", 2), ("就我们仨", 3), ("我和老伴俩人", 2)):
        step = say(state, said, Parse())
        assert step.state["data"]["size"] == size and "哪个村" in joined(step), said


def test_9_after_backing_out_of_a_report_goes_on_where_the_household_had_got(world: World) -> None:
    """0 back past the first question, then 9, started from the description again and asked every answer
    kept once more; now 9 goes on at the first question not answered, and 0 still goes back through them."""
    chat = Chat(world)
    chat.script(DESCRIPTION, "1", "赵六", ID_WANG, "4")
    for _ in range(5):
        chat.send("0")
    assert "9 接着办刚才没办完的" in chat.send("0")
    assert "哪个村" in chat.send("9")
    data = state_of_data(world, chat)
    assert (data["name"], data["id"], data["size"]) == ("赵六", ID_WANG, 4)
    assert "几口人" in chat.send("0")  # the way back is kept
    assert "哪个村" in chat.send("4")
    words = Chat(world, user_key="20100")  # 继续, and 1 at 'a report is not finished' after new words
    words.script(DESCRIPTION, "1", "赵六", ID_WANG, "4", "西渡镇梅花村", "1", "3", *["0"] * 9)
    assert "手机号" in words.send("继续")
    words.script(*["0"] * 9)
    words.send("老伴又摔了一跤")
    out = words.send("1")
    assert "已加到您的申报里" in out and "手机号" in out
    proxy = Chat(world, user_key="20101")
    out = proxy.script("2", "他屋里遭了大水，房子冲垮了", "1", "1", "李四", "13900002222")
    assert "户主叫什么名字" in out
    assert "身份证号码" in proxy.send("王五")
    for _ in range(7):
        out = proxy.send("0")
    assert "9 接着办刚才没办完的" in out
    assert "身份证号码" in proxy.send("9")
    assert state_of_data(world, proxy)["name"] == "王五"


def test_the_village_and_group_the_first_message_names_are_offered_not_asked_again(world: World) -> None:
    """'我是石狮村三组的，老伴住院了' had the village and the group asked later as if never said; now they
    are offered at the village question, as a name, an ID or a phone number is at theirs."""
    first = "我是石狮村三组的，老伴住院了花了三万块"
    chat = Chat(world)
    out = chat.script(first, "1", "张三", ID_ZHANG, "4")
    assert "您说家住在衡阳县西渡镇石狮村3组，对吗？" in out and "1 是" in out and "2 不是" in out
    assert "手机号" in chat.send("1")  # the group came with it: not asked
    data = state_of_data(world, chat)
    assert data["village"] == {"code": SHISHI, "label": "衡阳县西渡镇石狮村"} and data["group"] == "3组"
    out = chat.send("139 1234 5678")
    assert "请核对" in out and "住址：衡阳县西渡镇石狮村3组" in out
    other = Chat(world, user_key="20200")  # 2: the questions as usual, neither offered again
    out = other.script(first, "1", "张三", ID_ZHANG, "4", "2")
    assert "哪个村" in out and "石狮村" not in out
    out = other.script("西渡镇梅花村", "1")
    assert "是哪个村民小组" in out and "您说村民小组是" not in out
    typed = Chat(world, user_key="20201")  # another village typed instead: read as the answer
    other_village = typed.script(first, "1", "张三", ID_ZHANG, "4", "不是，是西渡镇梅花村")
    assert "是衡阳县西渡镇梅花村吗" in other_village
    twice = Chat(world, user_key="20202")  # a name several villages have: which one, then the group
    out = twice.script("我是梅花村五组的，老伴住院了", "1", "张三", ID_ZHANG, "4")
    assert "1 衡阳县西渡镇梅花村" in out and "2 衡阳县台源镇梅花村" in out
    assert "您说村民小组是5组，对吗？" in twice.send("2")
    assert "手机号" in twice.send("1")
    data = state_of_data(world, twice)
    assert data["village"] == {"code": MEIHUA2, "label": "衡阳县台源镇梅花村"} and data["group"] == "5组"
    group = Chat(world, user_key="20203")  # the group alone: offered at its question
    group.script("我是三组的，老伴住院了", "1", "张三", ID_ZHANG, "4", "西渡镇石狮村")
    assert "您说村民小组是3组，对吗？" in group.send("1")
    group.send("1")
    assert state_of_data(world, group)["group"] == "3组"
    proxy = Chat(world, user_key="20204")
    out = proxy.script("我帮我娘报，她住石狮村，房子漏雨", "1", "1", "李四", "13900002222", "王五", "不知道",
                       "3")
    assert "您说那户人家住在衡阳县西渡镇石狮村，对吗？" in out
