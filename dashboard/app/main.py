"""Streamlit entry script: ``streamlit run dashboard/app/main.py`` (or ``conflictmap serve``).

Data comes from ``CONFLICTMAP_EVENTS`` / ``CONFLICTMAP_AREAS`` when set, else the bundled
files. The page itself lives in ``dashboard.app.page``.
"""

from __future__ import annotations

from dashboard.app.page import main

main()
