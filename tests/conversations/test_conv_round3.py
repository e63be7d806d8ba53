"""Round 3 of exploratory testing: what the first message says of the village, the household size said as
people say it, and 9 after backing out of a report."""

from __future__ import annotations

from nlu.types import Parse

from .conftest import ID_WANG, Chat, World
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
