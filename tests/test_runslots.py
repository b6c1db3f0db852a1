"""Page runs take turns in a few slots (``app/runslots.py``)."""

from __future__ import annotations

import threading

import pytest

from dashboard.app import runslots


def test_the_slot_count_comes_from_the_environment_and_a_bad_value_is_named():
    assert runslots.slot_count({}) == runslots.DEFAULT_SLOTS
    assert runslots.slot_count({runslots.SLOTS_ENV: "4"}) == 4
    for bad in ("0", "-1", "two", "1.5"):
        with pytest.raises(ValueError, match=runslots.SLOTS_ENV):
            runslots.slot_count({runslots.SLOTS_ENV: bad})


def test_a_run_waits_for_a_free_slot_and_a_fragment_inside_a_run_uses_the_runs(monkeypatch):
    one = runslots._Slots(1)
    monkeypatch.setattr(runslots, "_slots", lambda: one)
    inside, release, second_in = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        with runslots.run_slot(), runslots.run_slot():  # the fragment inside its page run
            inside.set()
            release.wait(timeout=30)

    def second() -> None:
        with runslots.run_slot():
            second_in.set()

    a = threading.Thread(target=first)
    a.start()
    assert inside.wait(timeout=30)  # not blocked by its own slot
    b = threading.Thread(target=second)
    b.start()
    assert not second_in.wait(timeout=0.3)  # waits while the only slot is held
    release.set()
    assert second_in.wait(timeout=30)  # and runs once it is free
    a.join(timeout=30)
    b.join(timeout=30)
    assert one.semaphore.acquire(blocking=False)  # every slot given back


def test_a_run_that_raises_gives_its_slot_back(monkeypatch):
    one = runslots._Slots(1)
    monkeypatch.setattr(runslots, "_slots", lambda: one)
    with pytest.raises(RuntimeError), runslots.run_slot():
        raise RuntimeError("st.stop() or st.rerun() end a run this way")
    assert one.semaphore.acquire(blocking=False)


def test_a_run_gives_its_slot_back_for_a_long_wait_and_takes_one_after(monkeypatch):
    one = runslots._Slots(1)
    monkeypatch.setattr(runslots, "_slots", lambda: one)
    with runslots.run_slot():
        with runslots.released():
            assert one.semaphore.acquire(blocking=False)  # another run may go meanwhile
            one.semaphore.release()
        assert not one.semaphore.acquire(blocking=False)  # held again
    assert one.semaphore.acquire(blocking=False)


def test_a_run_that_got_no_slot_back_gives_none_back(monkeypatch):
    """After a long job the run waits for a slot again; when the wait ends without one, it
    finishes without one and returns none (returning one it did not hold would let a third
    run in beside the two slots, or fail outright)."""
    one = runslots._Slots(1)
    monkeypatch.setattr(runslots, "_slots", lambda: one)
    monkeypatch.setattr(runslots, "WAIT_S", 0.05)
    taken, give_back = threading.Event(), threading.Event()

    def other() -> None:
        with runslots.run_slot():
            taken.set()
            give_back.wait(timeout=30)

    thread = threading.Thread(target=other)
    with runslots.run_slot():
        with runslots.released():
            thread.start()
            assert taken.wait(timeout=30)  # another run took the slot meanwhile
        assert not one.holding()  # the wait for it ended without it
    give_back.set()
    thread.join(timeout=30)
    assert one.semaphore.acquire(blocking=False)  # exactly one slot, free
    assert not one.semaphore.acquire(blocking=False)
