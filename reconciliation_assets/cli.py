"""``recon``: generate a day of data, or run a whole day end to end on the embedded default."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from reconciliation_assets.contract import AUDIT_JOB_NAME, EXPECTATIVAS_DIVERGENCIAS, PARTITION_TAG
from reconciliation_assets.generator import PRESETS, Scenario, generate, print_progress

DEFAULT_ROOT = Path("recon_data")


def _yesterday() -> date:
    return datetime.now(ZoneInfo("America/Sao_Paulo")).date() - timedelta(days=1)


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"data inválida {text!r}: use YYYY-MM-DD") from exc


def _scenario(args: argparse.Namespace) -> Scenario:
    preset = PRESETS[args.preset] if args.preset else {}
    rows = int(args.rows or preset.get("rows", 1_000_000))
    return Scenario(
        rows=rows,
        data_referencia=args.date,
        seed=args.seed,
        tipo1_pct=preset.get("tipo1_pct", 5.0),
        tipo2_pct=preset.get("tipo2_pct", 3.0),
        tipo3_pct=preset.get("tipo3_pct", 2.0),
    )


def _add_generate_args(p: argparse.ArgumentParser, default_rows: int | None) -> None:
    p.add_argument(
        "--date", type=_parse_date, default=_yesterday(), help="data de referência (padrão: ontem)"
    )
    p.add_argument("--rows", type=int, default=default_rows, help="linhas de dados no CSV (até 100M)")
    p.add_argument(
        "--preset", choices=sorted(PRESETS), help="cenário de carga: " + ", ".join(sorted(PRESETS))
    )
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--ingress", type=Path, default=DEFAULT_ROOT / "ingress", help="pasta de ingresso local")
    p.add_argument(
        "--base",
        type=Path,
        default=DEFAULT_ROOT / "base_interna.duckdb",
        help="arquivo DuckDB da base interna",
    )
    p.add_argument("--quiet", action="store_true", help="sem barra de progresso")


def _add_server_args(p: argparse.ArgumentParser) -> None:
    """Load the generated day into real servers too (issue 5): Postgres via COPY, the CSV to S3."""
    p.add_argument(
        "--postgres-url",
        nargs="?",
        const="$RECON_INTERNAL_DB_URL",
        default=None,
        metavar="URL",
        help="também acrescenta a data gerada à base interna neste Postgres via COPY (postgresql://…; só as linhas "
        "dessa data são substituídas); sem valor, usa "
        "RECON_INTERNAL_DB_URL (evita a senha na linha de comando)",
    )
    p.add_argument(
        "--postgres-table",
        default=os.environ.get("RECON_INTERNAL_TABLE") or "transacoes_internas",
        help="tabela (ou schema.tabela) no Postgres; padrão RECON_INTERNAL_TABLE ou transacoes_internas",
    )
    p.add_argument(
        "--s3-ingress",
        metavar="s3://bucket/prefixo",
        help="também envia o CSV do dia para <prefixo>/D/ (AWS_* e AWS_ENDPOINT_URL valem), depois da base",
    )


def _load_servers(args: argparse.Namespace, truth) -> dict[str, object]:
    """Postgres first, then S3: a sensor that fires on the upload finds the base already loaded."""
    loaded: dict[str, object] = {}
    if args.postgres_url:
        from reconciliation_assets.generator import export_base_to_postgres
        from resources.internal_base import POSTGRES_SCHEMES, InternalBase

        url = args.postgres_url
        if url == "$RECON_INTERNAL_DB_URL":
            url = os.environ.get("RECON_INTERNAL_DB_URL", "")
            if not url.startswith(POSTGRES_SCHEMES):
                raise SystemExit("erro: --postgres-url sem valor exige RECON_INTERNAL_DB_URL=postgresql://…")
        # Only this date's rows are replaced there: the dates loaded before stay (like the DuckDB base).
        rows = export_base_to_postgres(
            args.base, url, table=args.postgres_table, dates=[date.fromisoformat(truth.data_referencia)]
        )
        loaded["postgres"] = {
            "destino": InternalBase(db_url=url, table=args.postgres_table).describe(),
            "linhas": rows,
        }
    if args.s3_ingress:
        import dagster as dg

        from reconciliation_assets.resources_config import s3_resource
        from resources.env import env_or
        from resources.storage import ReconStorage

        if not args.s3_ingress.startswith("s3://"):
            raise SystemExit("erro: --s3-ingress deve ser s3://bucket/prefixo")
        storage = ReconStorage(
            ingress_uri=args.s3_ingress,
            s3=s3_resource(),
            s3_sse=env_or("RECON_S3_SSE", ""),
            s3_sse_kms_key_id=env_or("RECON_S3_SSE_KMS_KEY_ID", ""),
        )
        csv_path = Path(truth.csv_path)
        with dg.build_resources({"storage": storage}) as resources:
            loaded["s3_ingress"] = resources.storage.upload_ingress(
                csv_path, truth.data_referencia, csv_path.name
            )
    return loaded


def cmd_generate(args: argparse.Namespace) -> int:
    sc = _scenario(args)
    if not 1 <= sc.rows <= 100_000_000:
        print("erro: --rows deve estar entre 1 e 100000000", file=sys.stderr)
        return 2
    truth = generate(sc, args.ingress, args.base, progress=None if args.quiet else print_progress)
    truth.extra.update(_load_servers(args, truth))
    print(json.dumps(asdict(truth), indent=2, ensure_ascii=False))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    os.environ.setdefault("DAGSTER_HOME", str(Path.cwd()))
    sc = _scenario(args)
    print(f"1/3 gerando {sc.rows:,} linhas para {sc.data_referencia} em {args.ingress} ...", flush=True)
    truth = generate(sc, args.ingress, args.base, progress=None if args.quiet else print_progress)

    import dagster as dg

    from reconciliation_assets.definitions import defs

    print("2/3 materializando o job daily_reconciliation no Dagster ...", flush=True)
    started = time.perf_counter()
    instance = dg.DagsterInstance.get()
    result = defs.resolve_job_def("daily_reconciliation").execute_in_process(
        partition_key=sc.data_referencia.isoformat(),
        instance=instance,
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )
    elapsed = time.perf_counter() - started
    if not result.success:
        failures = [e.message for e in result.all_events if e.is_failure]
        print("a execução falhou:\n  " + "\n  ".join(str(f) for f in failures), file=sys.stderr)
        return 1
    import duckdb

    output = Path(os.environ.get("RECON_OUTPUT_URI", DEFAULT_ROOT / "output"))
    day = sc.data_referencia.isoformat()
    # The Great Expectations audit of what was just published: under the daemon the sensor
    # auditoria_apos_publicacao starts it; here it runs right after, in its own run.
    audit = defs.resolve_job_def(AUDIT_JOB_NAME).execute_in_process(
        instance=instance,
        raise_on_error=False,
        tags={PARTITION_TAG: day},
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )

    def relation(sql: str) -> duckdb.DuckDBPyRelation:
        rel = duckdb.sql(sql)
        assert rel is not None  # None only for statements without a result; these are queries
        return rel

    resumo = relation(
        f"SELECT * FROM read_parquet('{output}/resumo_conciliacao/data_referencia={day}/*.parquet')"
    ).fetchall()
    cols = [
        d[0]
        for d in relation(
            f"DESCRIBE SELECT * FROM read_parquet('{output}/resumo_conciliacao/data_referencia={day}/*.parquet')"
        ).fetchall()
    ]
    print(f"3/3 pronto em {elapsed:.1f}s (run {result.run_id}).")
    # What the UI shows in red for this run, said here too (e.g. yesterday's deadline, 07:20 local,
    # has passed when the demo runs later in the day: publicada_no_prazo fails, truthfully).
    if not audit.success:
        audit_failures = [str(e.message) for e in audit.all_events if e.is_failure]
        print("atenção: a auditoria Great Expectations não rodou: " + "; ".join(audit_failures)[:500])
    for event in [*result.all_events, *audit.all_events]:
        check = event.event_specific_data
        if isinstance(check, dg.AssetCheckEvaluation) and not check.passed:
            print(f"atenção: checagem {check.check_name} falhou: {check.description}")
        elif isinstance(check, dg.AssetCheckEvaluation) and check.check_name == EXPECTATIVAS_DIVERGENCIAS:
            print(f"auditoria Great Expectations (run {audit.run_id}): {check.description}")
    print(f"\nresumo_conciliacao {day}:")
    for name, value in zip(cols, resumo[0], strict=True):
        print(f"  {name:28} {value}")
    expected = truth.divergencias
    print("\nesperado pelo gerador:", json.dumps(expected))
    print(
        f"\nParquet publicado em {output}/{{divergencias,pendencias,quarentena,resumo_conciliacao}}/data_referencia={day}/"
    )
    query = (
        "SELECT tipo_divergencia, severidade, count(*) AS linhas "
        f"FROM read_parquet('{output}/divergencias/*/*.parquet', hive_partitioning = true) "
        f"WHERE data_referencia = DATE '{day}' GROUP BY ALL ORDER BY ALL"
    )
    print("Consulte com DuckDB (Python), por exemplo:")
    print(f'  .venv/bin/python -c "import duckdb; duckdb.sql(\\"{query}\\").show()"')
    relation(query).show()
    return 0


def cmd_painel(args: argparse.Namespace) -> int:
    from reconciliation_assets.painel.servidor import serve

    return serve(args.host, args.port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="recon", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser(
        "generate",
        help="gera o CSV do dia e acrescenta a data à base interna (só as linhas dessa data são "
        "substituídas), com contagens conhecidas",
    )
    _add_generate_args(gen, None)
    _add_server_args(gen)
    gen.set_defaults(func=cmd_generate)
    demo = sub.add_parser("demo", help="gera um dia e o concilia de ponta a ponta no Dagster, sem servidor")
    _add_generate_args(demo, 200_000)
    demo.set_defaults(func=cmd_demo)
    painel = sub.add_parser("painel", help="abre o painel web sobre as saídas publicadas (RECON_OUTPUT_URI)")
    painel.add_argument("--host", default="127.0.0.1", help="endereço de escuta (padrão 127.0.0.1)")
    painel.add_argument("--port", type=int, default=8501, help="porta (padrão 8501)")
    painel.set_defaults(func=cmd_painel)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
