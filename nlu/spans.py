"""Text spans (start, end) asked about a position in O(log n), not by a walk over all of them: a message
that repeats a phrase has as many spans as candidates, and a walk for each made its cost grow with the
square of its length."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from itertools import accumulate


class Spans:
    """Spans sorted by start, with the furthest end among each prefix."""

    def __init__(self, spans: Iterable[tuple[int, int]] = ()) -> None:
        ordered = sorted(spans)
        self._starts = [a for a, _b in ordered]
        self._furthest = list(accumulate((b for _a, b in ordered), max))

    def overlaps(self, start: int, end: int) -> bool:
        """Whether a span overlaps [start, end): one that starts before `end` and ends after `start`."""
        count = bisect_left(self._starts, end)
        return count > 0 and self._furthest[count - 1] > start

    def ended_near(self, at: int, reach: int) -> bool:
        """Whether a span starts at or before `at` and ends at most `reach` characters before it."""
        count = bisect_right(self._starts, at)
        return count > 0 and at - self._furthest[count - 1] <= reach
