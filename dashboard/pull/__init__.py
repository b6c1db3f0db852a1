"""Pulling events from their sources' APIs into local copies that stay current.

* :mod:`~dashboard.pull.http`: JSON over ``urllib`` with bounded retries, back-off that
  honours ``Retry-After``, token renewal on a 401, secrets kept out of every message.
* :mod:`~dashboard.pull.secrets`: credentials from the environment or a secrets file.
* :mod:`~dashboard.pull.acled`: ACLED's OAuth token, read and deleted endpoints; a pull
  and an update by ``event_id_cnty``.
* :mod:`~dashboard.pull.ucdp`: UCDP GED by version (yearly or candidate) and country.
* :mod:`~dashboard.pull.merge`: the local copy written atomically, read back, merged by
  id, and its data version (newest timestamp, an order-independent content hash).
* :mod:`~dashboard.pull.todb`: a pull or an update straight into the PostGIS store
  (imported on its own: it needs the ``db`` extra).

Only the command line (``dashboard.cli.pulling``) talks to the user; everything here raises
:class:`~dashboard.errors.PullError` or :class:`~dashboard.errors.CredentialsError` with
one line that names what failed and never a secret.
"""

from __future__ import annotations

from dashboard.pull.acled import (
    AcledQuery,
    AcledSession,
    AcledToken,
    PullReport,
    UpdateReport,
    pull_acled,
    update_acled,
)
from dashboard.pull.http import Client, RetryPolicy, check_base_url
from dashboard.pull.merge import ContentHash, atomic_output, describe_timestamp, open_table
from dashboard.pull.secrets import Credentials, load_credentials
from dashboard.pull.ucdp import (
    UcdpQuery,
    UcdpReport,
    UcdpSession,
    UcdpToken,
    country_code,
    pull_ucdp,
)

__all__ = [
    "AcledQuery",
    "AcledSession",
    "AcledToken",
    "Client",
    "ContentHash",
    "Credentials",
    "PullReport",
    "RetryPolicy",
    "UcdpQuery",
    "UcdpReport",
    "UcdpSession",
    "UcdpToken",
    "UpdateReport",
    "atomic_output",
    "check_base_url",
    "country_code",
    "describe_timestamp",
    "load_credentials",
    "open_table",
    "pull_acled",
    "pull_ucdp",
    "update_acled",
]
