"""The server's heap is frozen once, after the first page run (``app/gcpolicy.py``)."""

from __future__ import annotations

import gc

from dashboard.app import gcpolicy


def test_the_heap_is_frozen_once_per_process(monkeypatch):
    monkeypatch.setattr(gcpolicy, "_frozen", False)
    try:
        assert gcpolicy.freeze_once() is True
        frozen = gc.get_freeze_count()
        assert frozen > 0
        assert gcpolicy.freeze_once() is False  # the later runs leave it alone
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
