"""The internal base's two errors, in a leaf both back-ends import (``internal_base.py`` dispatches
to ``postgres_snapshot.py``, which raises these): no cycle between the two modules.

``reconciliation_assets/run_guard.py`` classifies them by class name, so the names are the contract.
"""

from __future__ import annotations


class InternalBaseError(RuntimeError):
    """The internal base cannot be read and retrying will not help: a missing table, a bad URL,
    refused credentials or privileges, a wrong encoding. The message says what to fix."""


class InternalBaseUnavailable(InternalBaseError):
    """A transient fault, worth retrying: connection refused or timed out, the server closed the
    connection (also mid-COPY), the server starting up or shutting down, too many connections, the
    statement timeout or a cancelled query. Catch this one before ``InternalBaseError``."""
