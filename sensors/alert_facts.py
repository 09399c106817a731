"""What the alerts say, read from Dagster: the instance's run records, a run's event log, a checkpoint.

Every reader here turns Dagster objects into plain frozen dataclasses of facts (strings, numbers,
plain dicts of metadata values); :mod:`sensors.alert_messages` turns facts into an ``Alert`` without
touching Dagster, and :mod:`sensors.alerts` wires the two into sensors. Nothing here decides what
a message says, and nothing in the messages reads the instance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg

from reconciliation_assets import clock
from reconciliation_assets.contract import (
    ARRIVAL_TAG,
    IN_PROGRESS_STATUSES,
    JOB_NAME,
    ORIGIN_TAG,
    PARTITION_TAG,
    TIMEZONE,
    WILL_RETRY_TAG,
)
from sensors.events import run_events

IN_PROGRESS = [dg.DagsterRunStatus(status) for status in IN_PROGRESS_STATUSES]
MAX_RUNNING_RUNS = 50  # runs in progress looked at per SLA tick
# Dagster's own wrappers around the error that really happened (a retried step ends in
# "RetryRequested: Exceeded max_retries of 3", whose cause chain holds the real error).
WRAPPER_ERRORS = {
    None,
    "RetryRequested",
    "DagsterExecutionStepExecutionError",
    "DagsterUserCodeExecutionError",
    "DagsterMaxRetriesExceededError",
    "DagsterExecutionInterruptedError",
}


# ---- plain values ---------------------------------------------------------------------------------
def local_time(timestamp: float | None) -> str | None:
    """A POSIX timestamp as the local (``TIMEZONE``) ISO time the messages show; None when absent."""
    if not timestamp:
        return None
    return datetime.fromtimestamp(timestamp, tz=ZoneInfo(TIMEZONE)).isoformat(timespec="seconds")


def first_line(text: str | None) -> str:
    """The first line of an error message, without a dotted exception-class prefix."""
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    # "dagster._core.definitions.events.Failure: msg" -> "msg"
    head, sep, rest = line.partition(": ")
    return rest if sep and "." in head and " " not in head else line


def metadata_value(value: Any) -> Any:
    """The plain value of a Dagster ``MetadataValue`` (a plain value is returned as it is)."""
    return getattr(value, "value", value)


def plain_metadata(metadata: Any) -> dict[str, Any]:
    return {k: metadata_value(v) for k, v in metadata.items()}


# ---- facts ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunFacts:
    """A run as the messages name it: id, job, tags, local start/end times."""

    run_id: str
    job_name: str = JOB_NAME
    tags: dict[str, str] = field(default_factory=dict)
    start: str | None = None  # local ISO time
    end: str | None = None

    @property
    def day(self) -> str | None:
        """The partition (reference date) the run processed."""
        return self.tags.get(PARTITION_TAG)

    @property
    def origin(self) -> str | None:
        return self.tags.get(ORIGIN_TAG)


@dataclass(frozen=True)
class StepError:
    step_key: str
    error_type: str  # the root cause's class, e.g. InternalBaseError
    message: str  # the root cause's first line
    chain: tuple[str, ...]  # every message of the chain, outermost first (first lines)
    user_failure: bool  # raised as dg.Failure (a deliberate, descriptive failure)

    @property
    def cause(self) -> str:
        return f"{self.error_type}: {self.message}" if self.error_type else self.message


@dataclass(frozen=True)
class CheckFacts:
    """One asset-check evaluation (metadata as plain values)."""

    check_name: str
    asset: str
    description: str
    severity: str  # ERROR | WARN
    blocking: bool
    metadata: dict[str, Any]
    passed: bool = False
    partition: str | None = None


@dataclass(frozen=True)
class FailureFacts:
    """Everything a failure alert says, gathered from the run, its event log and its checkpoint."""

    run: RunFacts
    run_failure_message: str = ""
    step_errors: tuple[StepError, ...] = ()
    failed_checks: tuple[CheckFacts, ...] = ()
    checkpoint: dict[str, Any] | None = None  # the run's checkpoint.json, as read


@dataclass(frozen=True)
class SuccessFacts:
    """A successful run that published a day: the summary's, the breaks' and the report's metadata."""

    run: RunFacts
    summary: dict[str, Any]  # resumo_conciliacao's materialization metadata
    breaks: dict[str, Any] | None = None  # pendencias' materialization metadata
    report: str | None = None  # relatorio_diario's dagster/uri
    checks: tuple[CheckFacts, ...] = ()  # every check evaluation of the run, in event order


@dataclass(frozen=True)
class SlaFacts:
    """Minutes from a file's arrival to the divergences' publication (or to now, while running)."""

    run: RunFacts
    arrival: datetime  # aware
    minutes: float
    published: bool  # the divergences were published (by the measured run, or already in this run)


@dataclass(frozen=True)
class MaterializationFacts:
    timestamp: float
    partition: str | None
    run_id: str


@dataclass(frozen=True)
class FreshnessFacts:
    """A freshness state change of an asset, and that asset's latest materialization."""

    asset: str
    previous_state: str  # PASS | WARN | FAIL | UNKNOWN | NOT_APPLICABLE
    new_state: str
    changed_at: float  # POSIX timestamp of the change
    latest: MaterializationFacts | None = None

    @property
    def recovered(self) -> bool:
        return self.new_state == "PASS" and self.previous_state in ("FAIL", "WARN")

    @property
    def relevant(self) -> bool:
        """Worth a message: late (FAIL/WARN) or back in time; not the first evaluation's noise."""
        return self.new_state in ("FAIL", "WARN") or self.recovered


# ---- readers: the instance and the event log -------------------------------------------------------
def run_times(instance: dg.DagsterInstance, run_id: str) -> tuple[str | None, str | None]:
    record = instance.get_run_record_by_id(run_id)
    if record is None:
        return None, None
    return local_time(record.start_time or record.create_timestamp.timestamp()), local_time(record.end_time)


def read_run_facts(instance: dg.DagsterInstance, run: dg.DagsterRun) -> RunFacts:
    start, end = run_times(instance, run.run_id)
    return RunFacts(run_id=run.run_id, job_name=run.job_name, tags=dict(run.tags), start=start, end=end)


def about_to_retry(run: dg.DagsterRun, instance: dg.DagsterInstance) -> bool:
    """True when Dagster will launch another attempt of this failed run (alert the last one only)."""
    tag = run.tags.get(WILL_RETRY_TAG)
    if tag is not None:
        return tag.lower() == "true"
    if not instance.run_retries_enabled:
        return False
    try:  # older runs carry no tag: ask the same function the retry daemon uses
        from dagster._daemon.auto_run_reexecution.auto_run_reexecution import should_retry

        return bool(should_retry(run, instance))
    except Exception:  # pragma: no cover - internal API moved: alert rather than stay silent
        return False


def check_facts_of(evaluation: Any) -> CheckFacts:
    """An ``AssetCheckEvaluation`` as facts."""
    return CheckFacts(
        check_name=evaluation.check_name,
        asset=evaluation.asset_key.to_user_string(),
        description=evaluation.description or "",
        severity=evaluation.severity.value,
        blocking=bool(evaluation.blocking),
        metadata=plain_metadata(evaluation.metadata),
        passed=bool(evaluation.passed),
        partition=evaluation.partition,
    )


def read_check_evaluations(instance: dg.DagsterInstance, run_id: str) -> list[CheckFacts]:
    """Every asset-check evaluation of one run, in event order."""
    return [
        check_facts_of(e.event_specific_data)
        for e in run_events(instance, run_id, dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    ]


def root_cause(error: Any) -> tuple[str, str, tuple[str, ...]]:
    """(type, first line, chain of first lines) of a SerializableErrorInfo's real error.

    Follows ``cause`` (``raise … from …``) to the deepest error; an implicit ``context`` is only
    followed out of Dagster's own wrappers, so a user's translated error stays the cause.
    """
    chain: list[Any] = []
    current = error
    while current is not None and len(chain) < 20:
        chain.append(current)
        nxt = current.cause
        if nxt is None and current.cls_name in WRAPPER_ERRORS:
            nxt = current.context
        current = nxt
    lines = tuple(first_line(e.message) for e in chain)
    real = [e for e in chain if e.cls_name not in WRAPPER_ERRORS]
    root = real[-1] if real else chain[-1]
    return root.cls_name or "", first_line(root.message), lines


def step_error_of(step_key: str, data: Any) -> StepError:
    if data.error is None:
        return StepError(step_key, "", "", (), data.user_failure_data is not None)
    kind, line, chain = root_cause(data.error)
    return StepError(step_key, kind, line, chain, data.user_failure_data is not None)


def read_checkpoint(storage: Any, run: dg.DagsterRun) -> dict[str, Any] | None:
    """The run's ``checkpoint.json`` (its own folder, else the root run's); None when absent/unreadable."""
    from reconciliation_assets.checkpoint import checkpoint_location

    for job_id in dict.fromkeys([run.run_id, run.tags.get("dagster/root_run_id") or run.run_id]):
        try:
            doc = storage.read_json(checkpoint_location(storage.checkpoint_uri, job_id))
        except Exception:  # unreadable (S3 down, half-written): the alert goes out without it
            doc = None
        if isinstance(doc, dict):
            return doc
    return None


def read_failure_facts(
    instance: dg.DagsterInstance, run: dg.DagsterRun, checkpoint: dict[str, Any] | None
) -> FailureFacts:
    events = run_events(
        instance,
        run.run_id,
        dg.DagsterEventType.STEP_FAILURE,
        dg.DagsterEventType.ASSET_CHECK_EVALUATION,
        dg.DagsterEventType.RUN_FAILURE,
    )
    steps, checks, run_message = [], [], ""
    for e in events:
        if e.event_type == dg.DagsterEventType.STEP_FAILURE:
            steps.append(step_error_of(e.step_key, e.event_specific_data))
        elif e.event_type == dg.DagsterEventType.RUN_FAILURE:
            run_message = e.message or run_message
        elif not e.event_specific_data.passed:
            checks.append(check_facts_of(e.event_specific_data))
    return FailureFacts(
        run=read_run_facts(instance, run),
        run_failure_message=run_message,
        step_errors=tuple(steps),
        failed_checks=tuple(checks),
        checkpoint=checkpoint,
    )


def read_success_facts(instance: dg.DagsterInstance, run: dg.DagsterRun) -> SuccessFacts | None:
    """The day a successful run published; None when it published no summary (no day to report)."""
    events = run_events(
        instance,
        run.run_id,
        dg.DagsterEventType.ASSET_MATERIALIZATION,
        dg.DagsterEventType.ASSET_CHECK_EVALUATION,
    )
    summary = None
    breaks = None
    report = None
    checks = []
    for e in events:
        if e.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            mat = e.event_specific_data.materialization
            if mat.asset_key == dg.AssetKey("resumo_conciliacao"):
                summary = plain_metadata(mat.metadata)
            elif mat.asset_key == dg.AssetKey("pendencias"):
                breaks = plain_metadata(mat.metadata)
            elif mat.asset_key == dg.AssetKey("relatorio_diario"):
                report = metadata_value(mat.metadata.get("dagster/uri"))
        elif e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            checks.append(check_facts_of(e.event_specific_data))
    if summary is None:
        return None
    return SuccessFacts(
        run=read_run_facts(instance, run),
        summary=summary,
        breaks=breaks,
        report=str(report) if report else None,
        checks=tuple(checks),
    )


def sla_facts_of_check(run: RunFacts, check: CheckFacts) -> SlaFacts:
    """The ``sla_publicacao`` check's measure: arrival and minutes to the publication."""
    return SlaFacts(
        run=run,
        arrival=datetime.fromisoformat(str(check.metadata["arquivo_chegou_em"])),
        minutes=float(check.metadata["minutos_ate_publicacao"]),
        published=True,
    )


def running_runs(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    """The daily job's runs in progress (queued, starting, started), newest first."""
    return list(
        instance.get_runs(
            filters=dg.RunsFilter(job_name=JOB_NAME, statuses=IN_PROGRESS), limit=MAX_RUNNING_RUNS
        )
    )


def read_arrival(instance: dg.DagsterInstance, run: dg.DagsterRun) -> tuple[datetime, bool]:
    """(the file's arrival, divergences already materialized in this run) of a run in progress.

    The arrival is the ingress tag, else the file step's ``arquivo_chegou_em``, else the run's
    creation time.
    """
    arrival = None
    published = False
    for e in run_events(instance, run.run_id, dg.DagsterEventType.ASSET_MATERIALIZATION):
        mat = e.event_specific_data.materialization
        if mat.asset_key == dg.AssetKey("divergencias"):
            published = True
        if mat.asset_key == dg.AssetKey("arquivos_fornecedor") and "arquivo_chegou_em" in mat.metadata:
            arrival = datetime.fromisoformat(str(metadata_value(mat.metadata["arquivo_chegou_em"])))
    if run.tags.get(ARRIVAL_TAG):
        arrival = datetime.fromisoformat(run.tags[ARRIVAL_TAG])
    if arrival is None:
        record = instance.get_run_record_by_id(run.run_id)
        arrival = record.create_timestamp if record else clock.now()
    if arrival.tzinfo is None:
        arrival = arrival.replace(tzinfo=UTC)
    return arrival, published


def read_running_sla_facts(instance: dg.DagsterInstance, run: dg.DagsterRun, now: datetime) -> SlaFacts:
    """A run in progress measured at ``now`` (the sensor's clock)."""
    arrival, published = read_arrival(instance, run)
    return SlaFacts(
        run=read_run_facts(instance, run),
        arrival=arrival,
        minutes=(now - arrival).total_seconds() / 60,
        published=published,
    )


def read_freshness_facts(instance: dg.DagsterInstance, change: Any) -> FreshnessFacts:
    """A ``FRESHNESS_STATE_CHANGE`` event's data, and the asset's latest materialization."""
    latest = instance.get_latest_materialization_event(change.key)
    last = None
    if latest:
        mat = latest.asset_materialization
        last = MaterializationFacts(
            timestamp=latest.timestamp,
            partition=mat.partition if mat and mat.partition else None,
            run_id=latest.run_id,
        )
    return FreshnessFacts(
        asset=change.key.to_user_string(),
        previous_state=change.previous_state.value,
        new_state=change.new_state.value,
        changed_at=change.state_change_timestamp,
        latest=last,
    )
