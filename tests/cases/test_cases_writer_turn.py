"""The process's SQLite writer turn (cases.db.WriterTurn): reentrant, and a try without waiting (the event
loop's) gives way to threads already waiting, so a busy loop cannot keep the dispatcher out."""

from __future__ import annotations

import threading
from collections.abc import Callable

from cases.db import WriterTurn


def _until(check: Callable[[], bool]) -> None:
    """Wait (bounded) until `check()` holds: the other thread got where the test needs it."""
    tick = threading.Event()
    for _ in range(5000):
        if check():
            return
        tick.wait(0.001)
    raise AssertionError("the other thread never got there")


def _try_elsewhere(turn: WriterTurn) -> bool:
    got: list[bool] = []
    other = threading.Thread(target=lambda: got.append(turn.acquire(blocking=False)))
    other.start()
    other.join()
    return got[0]


def test_the_holder_takes_the_turn_again_and_gives_it_back_only_when_done() -> None:
    turn = WriterTurn()
    assert turn.acquire(blocking=False)
    assert turn.acquire(blocking=False)  # reentrant, even without waiting
    with turn:
        assert not _try_elsewhere(turn)
    turn.release()
    assert not _try_elsewhere(turn)  # still held once
    turn.release()
    assert _try_elsewhere(turn)


def test_a_try_without_waiting_gives_way_to_a_thread_that_waits() -> None:
    turn = WriterTurn()
    order: list[str] = []
    turn.acquire()

    def dispatcher() -> None:
        with turn:
            order.append("dispatcher")

    waiter = threading.Thread(target=dispatcher)
    waiter.start()
    _until(lambda: turn.waiting == 1)
    turn.release()  # free now, but a thread waits for it: the loop's next try must not jump the queue
    if turn.acquire(blocking=False):  # only possible once the waiter has had its turn
        order.append("loop")
        turn.release()
    waiter.join()
    assert order[0] == "dispatcher"
    assert turn.waiting == 0 and _try_elsewhere(turn)
