"""The 20-minute SLA, defined once: the summary's ``sla_cumprido``, the ``sla_publicacao`` check and
the alerts all read this verdict, so they can never disagree about the same publication.

D's divergences meet the SLA when their *first* publication at or after the file's arrival came
within ``sla_minutes`` of it. A re-run publishing later does not undo an earlier on-time
publication, and a publication from before the file arrived does not count for it. A run's own
publication instant is the moment its figures were final (the summary's ``finished_at``): the commit
follows within seconds and never after the run's deadline (run_guard).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from reconciliation_assets import clock


@dataclass(frozen=True)
class SlaStatus:
    arrived_at: datetime
    first_publication: datetime | None
    minutes: float  # arrival -> first publication (or -> now, when none yet)
    sla_minutes: int
    warn_minutes: int

    @property
    def deadline(self) -> datetime:
        return self.arrived_at + timedelta(minutes=self.sla_minutes)

    @property
    def met(self) -> bool:
        return self.first_publication is not None and self.minutes <= self.sla_minutes

    @property
    def level(self) -> str:
        """``ok`` (by the warning), ``aviso`` (after it, inside the SLA), ``estouro``, ``nao_publicada``."""
        if self.first_publication is None:
            return "nao_publicada"
        if self.minutes <= self.warn_minutes:
            return "ok"
        return "aviso" if self.minutes <= self.sla_minutes else "estouro"


def sla_status(
    *,
    arrived_at: datetime,
    publication: datetime | None,
    earlier: Iterable[datetime],
    sla_minutes: int,
    warn_minutes: int,
    now: datetime | None = None,
) -> SlaStatus:
    """The verdict for D given this run's ``publication`` instant (None: it publishes nothing) and
    D's ``earlier`` publications."""
    if arrived_at.tzinfo is None:  # a tag written without an offset is UTC
        arrived_at = arrived_at.replace(tzinfo=UTC)
    candidates = [t for t in earlier if t >= arrived_at] + ([publication] if publication else [])
    first = min(candidates) if candidates else None
    minutes = ((first or now or clock.now()) - arrived_at).total_seconds() / 60
    return SlaStatus(arrived_at, first, minutes, sla_minutes, warn_minutes)
