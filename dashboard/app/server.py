"""The dashboard's Streamlit server: the access gate on the server's own endpoints, uploads
within a memory budget, and the data loading while the first browser connects.

``python -m dashboard.app.server run dashboard/app/main.py --server.port ...`` is exactly
``streamlit run ...`` plus two things.

First, before the server starts, :func:`dashboard.app.guard.install` puts a guard in front
of Streamlit's app: uploads only from sessions the access gate admitted, within a per-session
and a per-server byte budget (``CONFLICTMAP_UPLOAD_SESSION_MB``,
``CONFLICTMAP_UPLOAD_SERVER_MB``); ``/_stcore/metrics`` and ``/media/...`` only with a
valid access cookie (a signed token the page gives admitted browsers) when a login or
password guards the page; websocket frames from browsers no larger than Streamlit accepts
(``server.maxWidgetStateSize``); and what an ended session held (its uploads, its state) is
released.

Second, as the process starts, a background thread loads the
configured dataset (``CONFLICTMAP_EVENTS`` / ``CONFLICTMAP_AREAS``, from the Parquet build
cache when it is current) into the process cache the page reads. The browser spends a few
seconds fetching Streamlit's front end before it asks for the first page run; at a million
events the load (about a second, imports included) is done by then, so the first page finds
the data in memory. The page still calls ``load_dataset`` itself: Streamlit's per-key lock
makes it wait for the thread's result instead of loading twice, and any error is the page's
to show, so the thread only logs.

Nothing is sent to any browser by the loading: access control (``auth.py``) still runs
first on every page run.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

log = logging.getLogger(__name__)
_THREAD = "conflictmap-preload"


def _warm() -> None:
    # Outside a page run Streamlit warns that this thread has no script context: expected
    # here, and the line would only confuse whoever reads the log. A filter (Streamlit
    # resets its loggers' levels when it reads its config) drops just that warning, just
    # for this thread.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
        lambda record: record.threadName != _THREAD
    )
    try:
        from dashboard.app.loaders import (
            configured_db,
            configured_read,
            configured_sources,
            load_dataset,
        )

        if configured_db():  # the database store is loaded by the page
            return
        events, areas = configured_sources()
        load_dataset(events, areas, read=configured_read())
    except Exception:  # the page loads the data again and shows the error
        log.debug("loading the data at start failed", exc_info=True)


def main() -> None:
    """Install the guard, start the loading thread, then hand the command line to
    ``streamlit``."""
    from dashboard.app.guard import install, upload_budgets
    from dashboard.app.runslots import slot_count
    from dashboard.app.viewcache import budget_bytes

    try:
        upload_budgets(1, os.environ)  # the variables' form; the sizes need Streamlit's config
        budget_bytes(os.environ)
        slot_count(os.environ)
    except ValueError as exc:  # a BudgetError is one
        print(f"Error: {exc}", file=sys.stderr)
        sys.exit(2)
    install()
    # The guard's refusals and releases are the operator's to read, beside Streamlit's log.
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    package_log = logging.getLogger("dashboard")
    package_log.addHandler(handler)
    package_log.setLevel(logging.INFO)
    threading.Thread(target=_warm, name=_THREAD, daemon=True).start()
    from streamlit.web import cli as streamlit_cli

    sys.argv = ["streamlit", *sys.argv[1:]]
    streamlit_cli.main()


if __name__ == "__main__":
    main()
