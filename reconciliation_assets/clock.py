"""The project's one clock for the instants its rules compare: a file's age, a publication against the
20-minute SLA and the date's deadline, whether a run is late. Everything reads ``clock.now()`` (never
``datetime.now`` directly), so a test pins one instant (tests/conftest.py ``pinned_clock``) instead of
racing the wall clock inside minute-wide windows. Physical records (event and manifest timestamps,
durations) keep the wall clock."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The current instant, timezone-aware (UTC)."""
    return datetime.now(tz=UTC)
