"""Run one date's job in this process and SIGKILL it at a chosen point (used by tests/test_trust.py).

    python tests/kill_run.py <point> <YYYY-MM-DD>

Points: ``validacao`` (as validation starts), ``staging`` (after the first table is staged),
``journal`` (right before the publication journal is written), ``promote-N`` (right after the
N-th table of the publication was swapped in). The environment carries the RECON_* settings.
"""

from __future__ import annotations

import os
import signal
import sys

import dagster as dg


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def arm(point: str) -> None:
    from reconciliation_assets.assets import validated
    from resources.storage import ReconStorage

    if point == "validacao":
        validated.validate_day = lambda *a, **k: die()
    elif point == "staging":
        original_stage = ReconStorage.stage

        def stage(self, *args, **kwargs):
            staged = original_stage(self, *args, **kwargs)
            die()
            return staged

        ReconStorage.stage = stage
    elif point == "journal":
        original_write = ReconStorage.write_json

        def write_json(self, uri, document):
            if uri.endswith("pendente.json"):
                die()
            return original_write(self, uri, document)

        ReconStorage.write_json = write_json
    elif point.startswith("promote-"):
        after = int(point.split("-")[1])
        original_promote = ReconStorage.promote
        calls = []

        def promote(self, *args, **kwargs):
            original_promote(self, *args, **kwargs)
            calls.append(1)
            if len(calls) == after:
                die()

        ReconStorage.promote = promote
    else:
        raise SystemExit(f"ponto desconhecido: {point}")


def main() -> None:
    point, day = sys.argv[1], sys.argv[2]
    arm(point)
    from reconciliation_assets.definitions import build_defs

    with dg.instance_for_test() as instance:
        build_defs().resolve_job_def("daily_reconciliation").execute_in_process(
            partition_key=day, instance=instance, raise_on_error=False
        )
    raise SystemExit("o processo deveria ter sido morto antes do fim")


if __name__ == "__main__":
    main()
