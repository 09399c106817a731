"""The IO manager that hands each step's outputs to the next steps through D's local work folder."""

from __future__ import annotations

import dagster as dg

from reconciliation_assets.day_paths import DayPaths
from reconciliation_assets.work_area import OUTPUTS, WorkOutput
from resources.storage import ReconStorage


class WorkAreaIOManager(dg.ConfigurableIOManager):
    """Partition-aware: D's outputs live in ``<work_dir>/data_referencia=D``.

    A step writes its files itself (DuckDB streams them to Parquet); what passes through here is the
    typed output (``reconciliation_assets/work_area.py``): it is registered with its facts after the
    step, and loaded for any later step of the same date, in this run or another one. A step whose
    input was never produced (or changed since) stops with an explanation (``assets/common.py
    step_files``), not with a reader's stack trace.
    """

    storage: ReconStorage

    def handle_output(self, context: dg.OutputContext, obj: WorkOutput) -> None:
        if not isinstance(obj, WorkOutput):
            raise TypeError(
                f"{context.asset_key.to_user_string()}: saída sem tipo da área de trabalho: {obj!r}"
            )
        obj.register()

    def load_input(self, context: dg.InputContext) -> WorkOutput:
        asset = context.asset_key.to_user_string()
        root = DayPaths.for_date(self.storage.work_dir, context.asset_partition_key).root
        return OUTPUTS[asset].load(root)
