"""Stop running queries when a run's deadline falls (a leaf module: no Dagster, no assets).

``run_guard.guarded_step`` starts a ``Watchdog`` for each step; engines register their
thread-safe cancel functions with ``on_deadline`` (DuckDB ``interrupt()``, psycopg2 ``cancel()``).
Outside a guarded step ``on_deadline`` does nothing, so tests and scripts are unaffected.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Callable


class Watchdog:
    """Calls every registered cancel function once, when the deadline falls."""

    def __init__(self, seconds: float):
        self.fired = threading.Event()
        self._cancels: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(seconds, 0.0), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        self.fired.set()
        with self._lock:
            cancels = list(self._cancels)
        for cancel in cancels:
            with contextlib.suppress(Exception):  # a connection already closed: nothing left to stop
                cancel()

    def register(self, cancel: Callable[[], None]) -> Callable[[], None]:
        with self._lock:
            self._cancels.append(cancel)
        if self.fired.is_set():
            cancel()

        def unregister() -> None:
            with self._lock:
                if cancel in self._cancels:
                    self._cancels.remove(cancel)

        return unregister

    def stop(self) -> None:
        self._timer.cancel()


ACTIVE_WATCHDOG: contextvars.ContextVar[Watchdog | None] = contextvars.ContextVar(
    "recon_watchdog", default=None
)


def on_deadline(cancel: Callable[[], None]) -> Callable[[], None]:
    """Register ``cancel`` with the running step's watchdog; returns the function that unregisters it."""
    watchdog = ACTIVE_WATCHDOG.get()
    return watchdog.register(cancel) if watchdog is not None else (lambda: None)
