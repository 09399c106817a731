"""Run the project's ``daily_reconciliation`` job for one date, in process, and print what it took.

Run as ``python -m bench.chain_runner --date D`` with the ``RECON_*`` variables already set by the
harness (the resources read them in ``build_defs()``). Prints one JSON line: the time spent inside
``execute_in_process`` (``work_s``: no interpreter, import or definitions start-up), the start-up
before it, and each stage's ``duracao_s`` as the asset put it on its materialization.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

T_START = time.perf_counter()

STAGES = (
    "arquivos_fornecedor",
    "transacoes_validadas",
    "base_interna_snapshot",
    "divergencias",
    "resumo_conciliacao",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--date", required=True)
    args = parser.parse_args(argv)

    import dagster as dg

    from reconciliation_assets.definitions import build_defs

    imported = time.perf_counter()
    job = build_defs().resolve_job_def("daily_reconciliation")
    instance = dg.DagsterInstance.ephemeral()
    ready = time.perf_counter()
    result = job.execute_in_process(partition_key=args.date, instance=instance, raise_on_error=False)
    done = time.perf_counter()

    stages: dict[str, float] = {}
    for event in result.get_asset_materialization_events():
        mat = event.materialization
        key = mat.asset_key.to_user_string()
        value = mat.metadata.get("duracao_s")
        if value is not None:
            stages[key] = float(value.value)
    failures = [str(e.message) for e in result.all_events if e.is_failure]
    checks = {
        e.asset_check_evaluation_data.check_name: bool(e.asset_check_evaluation_data.passed)
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }
    print(
        json.dumps(
            {
                "success": result.success,
                "run_id": result.run_id,
                "import_s": round(imported - T_START, 3),
                "defs_s": round(ready - imported, 3),
                "work_s": round(done - ready, 3),
                "stages": {s: stages.get(s) for s in STAGES},
                "checks": checks,
                "failures": failures[:5],
            }
        )
    )
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
