"""A one-op job that takes a ``base_interna`` pool slot and holds it: ``tests/test_pool_slots.py``
kills its run worker with SIGKILL while it holds the slot."""

import os
import time
from pathlib import Path

import dagster as dg


@dg.op(pool="base_interna", config_schema={"pid_file": str})
def hold_base_interna_slot(context) -> None:
    Path(context.op_config["pid_file"]).write_text(str(os.getpid()))
    time.sleep(120)


@dg.job(executor_def=dg.in_process_executor)  # the op runs in the run worker itself, as daily_reconciliation
def hold_base_interna():
    hold_base_interna_slot()


defs = dg.Definitions(jobs=[hold_base_interna])
