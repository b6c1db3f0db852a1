"""The server's garbage collection: the long-lived heap is frozen once, after the first
page run, so the full collection Streamlit makes after every script run
(``runner.postScriptGC``) scans only what runs create.

A full collection walks every tracked object. After the first page run the process holds
the loaded events, Streamlit, pandas, altair and its JSON schema: hundreds of thousands of
objects that live as long as the process. Collecting them after each run of each session
cost about 150 ms of CPU per slider step, more than the step's own work. ``gc.freeze``
moves them into a permanent generation that collections skip; anything created later
(sessions' state, uploads, each run's temporaries) is collected as before, so memory is
still returned after every run.
"""

from __future__ import annotations

import gc
import threading

_lock = threading.Lock()
_frozen = False


def freeze_once() -> bool:
    """Collect, then freeze the heap, the first time it is called in the process.
    Returns whether this call froze it."""
    global _frozen
    with _lock:
        if _frozen:
            return False
        _frozen = True
    gc.collect()  # garbage left from start-up is freed first, not kept forever
    gc.freeze()
    return True
