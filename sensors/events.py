"""Reading the instance after a cursor, and the alert sensors' cursor (DAGSTER_NOTES items 1 and 2).

* ``FRESHNESS_STATE_CHANGE`` events are paged by storage id with ``get_event_records`` (deprecated
  for 2.0, no public replacement in 1.13). They are asset events, mirrored in the index shard, so
  this works on every storage, SQLite included.
* ``ASSET_CHECK_EVALUATION`` events are *not* pageable that way on the run-sharded SQLite storage of
  the local default (it raises "cursor that is not run-aware"). Check evaluations always come from
  runs, so the check and SLA sensors page over *finished runs* by update time instead and read each
  run's evaluations; the keys they already sent make the overlap harmless.

Every such call lives here, so a Dagster upgrade touches one module.
"""

from __future__ import annotations

import json
import time
import warnings
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import dagster as dg

MAX_EVENTS_PER_TICK = 500
MAX_RUNS_PER_TICK = 100
RESCAN_OVERLAP_S = 2.0  # re-read runs updated this close to the cursor (same-second updates)
FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]
MAX_KEYS = 1000  # dedup keys kept in a cursor; oldest dropped first
MAX_PENDING = 50  # undelivered alerts kept for a later tick; oldest dropped first
PENDING_MAX_AGE_S = 24 * 3600  # an alert still undelivered after this is dropped (and logged)
FIRST_TICK_LOOKBACK_S = 24 * 3600  # an empty cursor (new sensor, reset cursor) replays at most this


def event_records_after(
    instance: dg.DagsterInstance,
    event_type: dg.DagsterEventType,
    after_storage_id: int | None,
    limit: int = MAX_EVENTS_PER_TICK,
) -> list[Any]:
    """Event records of ``event_type`` after a storage id, oldest first (bounded by ``limit``)."""
    kwargs: dict[str, Any] = {"event_type": event_type}
    if after_storage_id is not None:
        kwargs["after_cursor"] = after_storage_id
    else:
        kwargs["after_timestamp"] = time.time() - FIRST_TICK_LOOKBACK_S
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return list(instance.get_event_records(dg.EventRecordsFilter(**kwargs), ascending=True, limit=limit))


def finished_runs_after(
    instance: dg.DagsterInstance, after_timestamp: float | None, limit: int = MAX_RUNS_PER_TICK
) -> list[Any]:
    """Run records that finished (or were updated) after ``after_timestamp``, oldest update first."""
    since = after_timestamp if after_timestamp is not None else time.time() - FIRST_TICK_LOOKBACK_S
    return list(
        instance.get_run_records(
            filters=dg.RunsFilter(
                statuses=FINISHED, updated_after=datetime.fromtimestamp(since - RESCAN_OVERLAP_S, tz=UTC)
            ),
            order_by="update_timestamp",
            ascending=True,
            limit=limit,
        )
    )


def run_events(instance: dg.DagsterInstance, run_id: str, *types: dg.DagsterEventType) -> list[Any]:
    """The dagster events of one run (a run has a few hundred at most)."""
    wanted = set(types)
    return [
        entry.dagster_event
        for entry in instance.all_logs(run_id, of_type=wanted or None)
        if entry.dagster_event is not None
    ]


@dataclass
class AlertCursor:
    """A high-water mark (a storage id, or a run update time), the keys of alerts already sent, and
    the alerts a channel has not accepted yet (``pending``: alert, channels still owed, first try).

    An alert is marked sent on its first try; a channel that failed keeps it in ``pending`` and
    later ticks try that channel again (once per tick), so each channel gets it exactly once.
    """

    after: float | None = None
    sent: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_KEYS))
    pending: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, text: str | None) -> AlertCursor:
        if not text:
            return cls()
        try:
            doc = json.loads(text)
        except ValueError:
            return cls()
        if isinstance(doc, int | float):  # a plain storage-id cursor
            return cls(after=doc)
        if not isinstance(doc, dict):
            return cls()
        return cls(
            after=doc.get("after"),
            sent=deque(doc.get("sent", []), maxlen=MAX_KEYS),
            pending=list(doc.get("pending", []))[-MAX_PENDING:],
        )

    def dump(self) -> str:
        doc: dict[str, Any] = {"after": self.after, "sent": list(self.sent)}
        if self.pending:
            doc["pending"] = self.pending
        return json.dumps(doc, ensure_ascii=False)

    def seen(self, key: str) -> bool:
        return key in self.sent

    def mark(self, key: str) -> None:
        if key not in self.sent:
            self.sent.append(key)

    def _owe(self, notifier: Any, alert: Any, outcome: dict[str, str], since: float) -> None:
        failed = sorted(c for c, v in outcome.items() if v != "ok")
        if failed:
            self.pending.append(
                {"alert": notifier.redacted(alert).to_json(), "channels": failed, "since": since}
            )
            del self.pending[:-MAX_PENDING]

    def send_once(self, notifier: Any, alert: Any, log: Any) -> bool:
        """Send ``alert`` unless its key was already sent; remember it. True when it went out."""
        if self.seen(alert.chave):
            return False
        self._owe(notifier, alert, notifier.send(alert, log=log), time.time())
        self.mark(alert.chave)
        return True

    def retry_pending(self, notifier: Any, log: Any, now: float | None = None) -> int:
        """One more try of each undelivered alert on the channels that still owe it.

        A channel that fails again is not tried for the rest of this tick (it is still down).
        Returns how many channel deliveries succeeded.
        """
        from resources.notify import Alert

        now = time.time() if now is None else now
        down: set[str] = set()
        delivered = 0
        kept: list[dict[str, Any]] = []
        for entry in self.pending:
            if now - float(entry.get("since", now)) > PENDING_MAX_AGE_S:
                log.error(
                    f"alerta {entry['alert'].get('chave')} não entregue em {entry['channels']} após 24 h; descartado"
                )
                continue
            owed = [c for c in entry["channels"] if c not in down]
            if not owed:
                kept.append(entry)
                continue
            outcome = notifier.send(Alert.from_json(entry["alert"]), log=log, channels=owed, attempts=1)
            still = [c for c in entry["channels"] if c in down or outcome.get(c, "ok") != "ok"]
            down.update(c for c in owed if outcome.get(c, "ok") != "ok")
            delivered += sum(1 for c in owed if outcome.get(c) == "ok")
            if still:
                kept.append({**entry, "channels": still})
        self.pending = kept
        return delivered
