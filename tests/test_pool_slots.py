"""A run worker SIGKILLed while it holds a ``base_interna`` pool slot: the slot is freed by the
monitoring daemon's logic because the instance sets ``run_monitoring.free_slots_after_run_end_seconds``.

Real pieces: the repo's ``dagster.yaml`` (its run_monitoring and concurrency sections), the
``DefaultRunLauncher``, a code server process, a run worker process that claims the slot through
the instance's concurrency API, SIGKILL, the code server marking the run FAILURE, and the
MONITORING daemon's slot iteration (``execute_concurrency_slots_iteration``, what
``MonitoringDaemon.run_iteration`` calls every ``poll_interval_seconds``). Only the delay is shortened.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.storage.dagster_run import DagsterRunStatus
from dagster._core.test_utils import create_run_for_test, create_test_daemon_workspace_context
from dagster._core.workspace.load_target import PythonFileTarget
from dagster._daemon.monitoring.concurrency import execute_concurrency_slots_iteration

from deploy import render_instance_config as render
from tests.pool_slot_job import hold_base_interna
from tests.servers import wait_for

ROOT = Path(__file__).resolve().parents[1]
POOL = "base_interna"


def test_both_instance_files_free_the_slots_of_dead_runs():
    local = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    assert local["run_monitoring"]["enabled"] is True
    assert local["run_monitoring"]["free_slots_after_run_end_seconds"] == 30
    production = render.render({})
    assert production["run_monitoring"]["free_slots_after_run_end_seconds"] == 30
    assert (
        render.render({"RECON_FREE_SLOTS_AFTER_RUN_END_SECONDS": "120"})["run_monitoring"][
            "free_slots_after_run_end_seconds"
        ]
        == 120
    )


@pytest.mark.slow  # a run worker process, killed
def test_a_killed_run_worker_gives_its_pool_slot_back(tmp_path):
    local = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    monitoring = {**local["run_monitoring"], "free_slots_after_run_end_seconds": 1}
    overrides = {"run_monitoring": monitoring, "concurrency": local["concurrency"]}
    pid_file = tmp_path / "worker.pid"
    (tmp_path / "home").mkdir()
    with dg.instance_for_test(overrides=overrides, temp_dir=str(tmp_path / "home")) as instance:
        target = PythonFileTarget(
            python_file=str(ROOT / "tests/pool_slot_job.py"),
            attribute="defs",
            working_directory=str(ROOT),
            location_name="pool_test",
        )
        with create_test_daemon_workspace_context(target, instance) as context:
            workspace = context.create_request_context()
            location = workspace.get_code_location("pool_test")
            remote_job = location.get_repository("__repository__").get_full_job("hold_base_interna")
            run = create_run_for_test(
                instance,
                job_name="hold_base_interna",
                job_snapshot=hold_base_interna.get_job_snapshot(),
                remote_job_origin=remote_job.get_remote_origin(),
                job_code_origin=remote_job.get_python_origin(),
                run_config={"ops": {"hold_base_interna_slot": {"config": {"pid_file": str(pid_file)}}}},
            )
            instance.launch_run(run.run_id, workspace)

            pid = int(wait_for(lambda: pid_file.exists() and pid_file.read_text(), 60, "the run worker"))
            info = instance.event_log_storage.get_concurrency_info(POOL)
            assert (info.slot_count, info.active_slot_count, info.active_run_ids) == (2, 1, {run.run_id})

            os.kill(pid, signal.SIGKILL)
            wait_for(
                lambda: instance.get_run_by_id(run.run_id).status == DagsterRunStatus.FAILURE,
                30,
                "the code server to mark the run failed",
            )
            # The bug: the dead run still holds its slot, and a retry would wait for it forever.
            assert instance.event_log_storage.get_concurrency_info(POOL).active_run_ids == {run.run_id}

            time.sleep(1.5)  # past free_slots_after_run_end_seconds
            list(execute_concurrency_slots_iteration(context, logging.getLogger("test")))
            info = instance.event_log_storage.get_concurrency_info(POOL)
            assert (info.slot_count, info.active_slot_count, info.active_run_ids) == (2, 0, set())
