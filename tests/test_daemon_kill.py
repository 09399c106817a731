"""The daemon SIGKILLed in the middle of a sensor tick: still exactly one run per file version.

A real ``dagster-daemon run`` on a temporary SQLite home watches a local ingress folder. As soon
as the ingress sensor's first tick is recorded (started, runs maybe requested, cursor maybe not yet
saved) the whole daemon process group is SIGKILLed, then started again. Dagster re-evaluates the
interrupted tick and skips run keys it already launched, so the file version gives one run — and a
replaced file exactly one more.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from reconciliation_assets.contract import AUDIT_JOB_NAME, JOB_NAME
from tests.receivers import matching_day, write_day
from tests.servers import wait_for
from tests.test_daemon_start import ROOT, _home, _stop

pytestmark = pytest.mark.slow  # a real dagster-daemon, killed mid-tick

DAY_OFFSET = 1  # yesterday in São Paulo: inside the sensor's look-back window


def _start(home: Path, env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster-daemon")), "run", "-w", str(ROOT / "workspace.yaml")],
        cwd=ROOT,
        env={**env, "DAGSTER_HOME": str(home)},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _sensor_ticks(instance: dg.DagsterInstance) -> list:
    states = [s for s in instance.all_instigator_state() if s.name == "ingresso_fornecedor"]
    if not states:
        return []
    return instance.get_ticks(states[0].instigator_origin_id, states[0].selector_id, limit=20)


def _runs_for(instance: dg.DagsterInstance, day: str, job: str = JOB_NAME) -> list:
    return instance.get_runs(filters=dg.RunsFilter(job_name=job, tags={"dagster/partition": day}))


def test_daemon_killed_mid_tick_gives_exactly_one_run_per_file_version(recon_env, tmp_path):
    day = (datetime.now(ZoneInfo("America/Sao_Paulo")).date() - timedelta(days=DAY_OFFSET)).isoformat()
    lines, base = matching_day(day, 20)
    write_day(recon_env, day, lines, base)
    home = _home(tmp_path)
    env = dict(os.environ)
    log = tmp_path / "daemon.log"
    subprocess.run(
        [str(Path(sys.executable).with_name("dagster")), "instance", "migrate"],
        env={**env, "DAGSTER_HOME": str(home)},
        check=True,
        capture_output=True,
    )
    instance = dg.DagsterInstance.from_config(str(home))
    daemon = _start(home, env, log)
    try:
        wait_for(lambda: _sensor_ticks(instance), 120, "the first sensor tick", log)
        os.killpg(daemon.pid, signal.SIGKILL)  # mid-tick: the tick exists, its outcome may not
        daemon.wait(10)
        daemon = _start(home, env, log)
        wait_for(
            lambda: [r for r in _runs_for(instance, day) if r.status == dg.DagsterRunStatus.SUCCESS],
            240,
            "the day's run to succeed",
            log,
        )
        # Another sensor tick after the run: nothing new for the same file version.
        seen = len(_sensor_ticks(instance))
        wait_for(lambda: len(_sensor_ticks(instance)) > seen, 90, "one more tick", log)
        runs = _runs_for(instance, day)
        assert len(runs) == 1, [(r.run_id, r.tags.get("dagster/run_key")) for r in runs]
        assert runs[0].tags["dagster/run_key"].startswith(f"{day}/transacoes.csv@")
        # Its publication gets one Great Expectations audit, in a run of its own, from the daemon.
        audits = wait_for(
            lambda: [
                r for r in _runs_for(instance, day, AUDIT_JOB_NAME) if r.status == dg.DagsterRunStatus.SUCCESS
            ],
            120,
            "the publication's audit run",
            log,
        )
        assert [r.tags["dagster/run_key"] for r in audits] == [f"{day}@{runs[0].run_id}"]

        # A replaced file is a new version: exactly one more run.
        csv = recon_env / "ingress" / day / "transacoes.csv"
        csv.write_text(csv.read_text() + lines[0].replace("F1;", "F7;", 1).replace(";O0", ";N0", 1) + "\n")
        wait_for(lambda: len(_runs_for(instance, day)) == 2, 120, "the replaced file's run", log)
        seen = len(_sensor_ticks(instance))
        wait_for(lambda: len(_sensor_ticks(instance)) > seen, 90, "one more tick", log)
        assert len(_runs_for(instance, day)) == 2
    finally:
        _stop(daemon)
        instance.dispose()
