"""nlu.spans answers as a walk over every span would."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from nlu.spans import Spans

SPAN = st.tuples(st.integers(0, 60), st.integers(1, 12)).map(lambda s: (s[0], s[0] + s[1]))


@given(st.lists(SPAN, max_size=20), st.integers(-2, 80), st.integers(0, 15), st.integers(0, 8))
def test_spans_answer_as_a_walk_over_all_of_them(spans: list[tuple[int, int]], at: int, width: int,
                                                   reach: int) -> None:
    index = Spans(spans)
    assert index.overlaps(at, at + width) == any(a < at + width and at < b for a, b in spans)
    assert index.ended_near(at, reach) == any(a <= at and at - b <= reach for a, b in spans)
