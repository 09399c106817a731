"""Time and peak RSS of the divergences step alone, on a date's work folder left by a run.

``python -m bench.divergence_step --work <work_dir> --date D [--buckets N] [--memory-limit 512MB]``
runs what the ``divergencias`` asset computes (divergences, summary, breaks with no earlier state)
in this process and prints one JSON line: seconds per part and the process's peak RSS (``ru_maxrss``;
nothing else ran in the process). The bucket folder is removed first unless ``--keep-buckets``.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import time
from datetime import UTC, datetime
from decimal import Decimal


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", required=True)
    parser.add_argument("--date", required=True)
    parser.add_argument("--buckets", type=int, default=0)
    parser.add_argument("--memory-limit", default="512MB")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--temp-dir", default="recon_data/tmp")
    parser.add_argument("--keep-buckets", action="store_true")
    args = parser.parse_args(argv)

    from reconciliation_assets.breaks import PreviousState, compute_breaks
    from reconciliation_assets.day_paths import DayPaths
    from reconciliation_assets.divergence import compute_divergences
    from reconciliation_assets.engine.sql_models import EngineSettings

    paths = DayPaths.for_date(args.work, args.date)
    baldes = paths.root / "baldes"
    if baldes.exists() and not args.keep_buckets:
        shutil.rmtree(baldes)
    fields = EngineSettings.__dataclass_fields__
    extra = {"buckets": args.buckets} if "buckets" in fields else {}
    engine = EngineSettings(
        memory_limit=args.memory_limit, threads=args.threads, temp_dir=args.temp_dir, **extra
    )
    now = datetime.now(tz=UTC)
    t0 = time.perf_counter()
    resumo = compute_divergences(
        paths,
        job_id="bench",
        started_at=now,
        arrived_at=now,
        severity_high=Decimal("1000.00"),
        severity_medium=Decimal("1.00"),
        sla_minutes=20,
        engine=engine,
    )
    t1 = time.perf_counter()
    facts = compute_breaks(paths, args.date, PreviousState(), job_id="bench", engine=engine)
    t2 = time.perf_counter()
    print(
        json.dumps(
            {
                "divergencias_e_resumo_s": round(t1 - t0, 2),
                "pendencias_s": round(t2 - t1, 2),
                "total_s": round(t2 - t0, 2),
                "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "divergencias": sum(int(resumo[k]) for k in resumo if k.startswith("tipo_")),
                "diferenca_nao_explicada": str(resumo["diferenca_nao_explicada"]),
                "pendencias": int(facts["pendencias"]),
                "baldes": sorted(p.name for p in (baldes / "divergencias").glob("parte-*"))
                if baldes.exists()
                else [],
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
