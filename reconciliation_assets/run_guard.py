"""The run's deadline and retry rules, applied the same way by every step, whatever launched it.

* Deadline (the design's "if the file appeared at 07:00, processing must stop at 07:20"): for a
  run started by a file's arrival (the sensor's ``recon/arquivo_chegou_em`` tag, kept by automatic
  run retries) it is arrival + ``sla_minutes``; for a manual run, a re-execution or a backfill it is
  the run's own start + ``sla_minutes``. It is *enforced*: a step does not start past it, a
  watchdog interrupts DuckDB queries and Postgres extractions that are running when it falls, and
  the publication checks it once more right before it commits. The step then fails with
  ``DeadlineExceeded`` (checkpoint status ``TIMEOUT``), never retried.
* Retries: only transient faults (network, database connection, S3 5xx/throttling) are retried,
  on the design's schedule (30 s, 1 min, 2 min: ``retry_base_seconds`` doubling, at most
  ``max_retries``), and only if the retry would start before the deadline. Bad input and bugs fail
  at once with their own message.

The watchdog is thread-based because both engines offer a thread-safe cancel:
``DuckDBPyConnection.interrupt()`` and psycopg2's ``connection.cancel()``. Connections register
themselves with ``on_deadline`` (see ``ModelRunner``); outside a guarded step it does nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from reconciliation_assets import clock
from reconciliation_assets.contract import ARRIVAL_TAG
from reconciliation_assets.engine.cancellation import ACTIVE_WATCHDOG, Watchdog

BASIS_ARRIVAL = "chegada_do_arquivo"
BASIS_RUN_START = "inicio_da_execucao"


@dataclass(frozen=True)
class RunDeadline:
    at: datetime
    basis: str  # BASIS_ARRIVAL or BASIS_RUN_START
    sla_minutes: int

    def describe(self) -> str:
        origin = "chegada do arquivo" if self.basis == BASIS_ARRIVAL else "início da execução"
        return f"{self.at.isoformat(timespec='seconds')} ({self.sla_minutes} min após a {origin})"


def run_deadline(tags: Mapping[str, str], run_started_at: datetime, sla_minutes: int) -> RunDeadline:
    """The deadline of a run, from its tags and start (module docstring for the rule)."""
    arrival = tags.get(ARRIVAL_TAG)
    manual_reexecution = "dagster/parent_run_id" in tags and "dagster/retry_number" not in tags
    if arrival and not manual_reexecution and "dagster/backfill" not in tags:
        at = datetime.fromisoformat(arrival)
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        return RunDeadline(at + timedelta(minutes=sla_minutes), BASIS_ARRIVAL, sla_minutes)
    return RunDeadline(run_started_at + timedelta(minutes=sla_minutes), BASIS_RUN_START, sla_minutes)


class DeadlineExceeded(dg.Failure):
    """The run's deadline passed: the step stopped and nothing more of D is published by this run."""


class TransientFault(RuntimeError):
    """A fault worth retrying (network, connection, a server's 5xx): raised by resources."""


TRANSIENT_NAMES = frozenset(
    {
        "InternalBaseUnavailable",  # resources: the internal base's network/connection faults
        "IncompleteUpload",  # resources/storage.py: the object store kept fewer bytes than sent
        "EndpointConnectionError",  # botocore: S3 unreachable
        "ConnectTimeoutError",
        "ReadTimeoutError",
        "ConnectionClosedError",
        "ProtocolError",
        "IncompleteReadError",
        "ResponseStreamingError",
    }
)
NOT_TRANSIENT_NAMES = frozenset({"InternalBaseError", "HeaderError", "Failure", "ValueError"})
S3_RETRYABLE_CODES = frozenset(
    {"SlowDown", "Throttling", "RequestTimeout", "InternalError", "ServiceUnavailable"}
)


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is a network/server fault rather than bad input or a bug.

    Walks the cause chain; the first exception that says what it is decides: a class named in
    ``TRANSIENT_NAMES`` or a Python connection/timeout error (transient), a config/input error class
    (not), an S3 answer with a 5xx status or a throttling code (transient).
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        name = type(current).__name__
        if name in TRANSIENT_NAMES or isinstance(current, TransientFault | ConnectionError | TimeoutError):
            return True
        if name in NOT_TRANSIENT_NAMES or isinstance(current, dg.Failure):
            return False
        response = getattr(current, "response", None)
        if isinstance(response, dict) and "Error" in response:  # botocore ClientError
            status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
            return status >= 500 or response["Error"].get("Code", "") in S3_RETRYABLE_CODES
        current = current.__cause__ or current.__context__
    return False


def retry_wait_seconds(
    exc: BaseException,
    retry_number: int,
    now: datetime,
    deadline: RunDeadline,
    *,
    base_seconds: float,
    max_retries: int,
) -> float | None:
    """Seconds to wait before retrying the step, or None when it must fail now.

    The schedule doubles from ``base_seconds`` (30 s, 1 min, 2 min, 4 min…), at most
    ``max_retries`` retries, and never a retry that would start after the deadline.
    """
    if not is_transient(exc) or retry_number >= max_retries:
        return None
    wait = base_seconds * (2**retry_number)
    if now + timedelta(seconds=wait) >= deadline.at:
        return None
    return wait


def _timeout(step: str, deadline: RunDeadline, now: datetime) -> DeadlineExceeded:
    return DeadlineExceeded(
        description=(
            f"Prazo estourado na etapa {step}: o limite era {deadline.describe()}; agora "
            f"{now.isoformat(timespec='seconds')}. A etapa foi interrompida e esta execução não publica nada. "
            "Retome com Re-execute → From failure (as etapas concluídas não são refeitas)."
        ),
        allow_retries=False,
        metadata={
            "recon/status": "TIMEOUT",
            "prazo": deadline.at.isoformat(timespec="seconds"),
            "base_do_prazo": deadline.basis,
            "etapa": step,
        },
    )


@dataclass
class StepGuard:
    """Handed to the step body: ``check()`` raises once the deadline has passed."""

    step: str
    deadline: RunDeadline
    watchdog: Watchdog
    clock: Callable[[], datetime]

    def check(self) -> None:
        now = self.clock()
        if self.watchdog.fired.is_set() or now >= self.deadline.at:
            raise _timeout(self.step, self.deadline, now)


def utc_now() -> datetime:
    return clock.now()


@contextmanager
def guarded_step(
    step: str,
    deadline: RunDeadline,
    *,
    retry_number: int,
    base_seconds: float,
    max_retries: int,
    log: Callable[[str], None] = lambda _m: None,
    clock: Callable[[], datetime] = utc_now,
) -> Iterator[StepGuard]:
    """Run one step's body under the deadline and the retry rules (module docstring)."""
    now = clock()
    if now >= deadline.at:
        raise _timeout(step, deadline, now)
    watchdog = Watchdog((deadline.at - now).total_seconds())
    token = ACTIVE_WATCHDOG.set(watchdog)
    guard = StepGuard(step, deadline, watchdog, clock)
    try:
        yield guard
    except DeadlineExceeded:
        raise
    except (dg.Failure, dg.RetryRequested):
        if watchdog.fired.is_set():
            raise _timeout(step, deadline, clock()) from None
        raise
    except Exception as exc:
        if watchdog.fired.is_set():
            raise _timeout(step, deadline, clock()) from exc
        wait = retry_wait_seconds(
            exc, retry_number, clock(), deadline, base_seconds=base_seconds, max_retries=max_retries
        )
        message = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:500]
        if wait is not None:
            log(
                f"{step}: falha transitória ({message}); nova tentativa {retry_number + 1}/{max_retries} "
                f"em {wait:g} s (prazo {deadline.describe()})."
            )
            raise dg.RetryRequested(max_retries=max_retries, seconds_to_wait=wait) from exc
        transient = is_transient(exc)
        why = (
            f"falha transitória sem nova tentativa possível (tentativa {retry_number + 1}, "
            f"máximo {max_retries} novas tentativas, prazo {deadline.describe()})"
            if transient
            else "erro não transitório: não há nova tentativa automática"
        )
        raise dg.Failure(
            description=f"{step}: {message} ({why}).",
            allow_retries=False,
            metadata={
                "recon/status": "FAILED",
                "error_type": type(exc).__name__,
                "transitoria": transient,
                "tentativa": retry_number + 1,
            },
        ) from exc
    finally:
        watchdog.stop()
        ACTIVE_WATCHDOG.reset(token)


def run_started(context: dg.AssetExecutionContext) -> datetime:
    """When the run started (the instance's record), falling back to now for in-process tests."""
    record = context.instance.get_run_record_by_id(context.run_id)
    if record is not None and record.start_time:
        return datetime.fromtimestamp(record.start_time, tz=UTC)
    return utc_now()


def asset_step(context: dg.AssetExecutionContext, rules: Any, step: str) -> Any:
    """``guarded_step`` for an asset: the run's deadline from its tags and the rules' retry settings."""
    deadline = run_deadline(context.run.tags, run_started(context), rules.sla_minutes)
    return guarded_step(
        step,
        deadline,
        retry_number=context.retry_number,
        base_seconds=rules.retry_base_seconds,
        max_retries=rules.max_retries,
        log=context.log.warning,
    )
