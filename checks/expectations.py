"""The published divergence table's contract, written once and run by two executors.

``divergencias_contract`` / ``resumo_contract`` list the expectations (Great Expectations' own
vocabulary: ``expect_column_values_to_not_be_null``, ...). They are executed twice, for two jobs:

- **the gate** (``contract_gate``): DuckDB SQL over *every* row of the day's files, inside the
  divergences step, blocking: D is published only if the whole table honours the contract. It costs a
  scan of the divergences (about 1M rows at 10M), not an import.
- **the audit** (``ge_audit``): the same list translated into a Great Expectations suite, run on a
  reservoir sample of the *published* table by a separate, non-blocking check
  (``reconciliation_assets/assets/audit.py``) that a sensor launches after D is published. Importing
  GE and building its context costs ~2.5 s per process: it stays off the publication's critical path.

The two reports use the same row format (``lote``, ``expectativa``, ``coluna``, ``sucesso``,
``inesperados``, ``exemplos``), so a failure reads the same whichever executor found it.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

from reconciliation_assets import schemas
from reconciliation_assets.contract import CONTRATO_DIVERGENCIAS, EXPECTATIVAS_DIVERGENCIAS
from reconciliation_assets.engine.sql_models import EngineSettings, ModelRunner
from reconciliation_assets.observability import SEVERITY_OK, markdown_table, mask_record

DIVERGENCIAS_COLUMNS = [column.name for column in schemas.DIVERGENCIAS.columns]  # SPEC 5.2, in order
SEVERIDADES = ("HIGH", "MEDIUM", "LOW")
# Money is checked as exact text (a float view rounds 9999999999999999.99 up to 1e16): decimal(18,2)
# holds 16 integer digits, decimal(19,2) 17.
MONEY_DIGITS = {"valor_csv": 16, "valor_base": 16, "valor_diferenca": 17}
RESUMO_COUNTS = (
    "arquivos",
    "linhas_csv",
    "linhas_validas",
    "linhas_quarentena",
    "linhas_em_branco",
    "linhas_base_escopo",
    "conciliadas_sem_divergencia",
    *schemas.CONTAGENS_POR_TIPO,
)
GE_SAMPLE_ROWS = 20_000  # the audit's reservoir sample; the gate reads every row
EXAMPLES = 5


@dataclass(frozen=True)
class Expectation:
    """One rule of the contract, named as Great Expectations names it."""

    type: str
    column: str | None = None
    columns: tuple[str, ...] = ()
    value_set: tuple[str, ...] = ()
    regex: str | None = None
    min_value: float | None = None
    max_value: float | None = None
    value: int | None = None

    @property
    def label(self) -> str:
        return self.column or ",".join(self.columns[:3]) or "-"


def divergencias_contract(job_id: str) -> list[Expectation]:
    """The divergence table as SPEC 5.2 publishes it, written by the run ``job_id``."""
    money = [
        Expectation(
            "expect_column_values_to_match_regex",
            column=c,
            regex=rf"^-?(?:0|[1-9][0-9]{{0,{digits - 1}}})\.[0-9]{{2}}$",
        )
        for c, digits in MONEY_DIGITS.items()
    ]
    return [
        Expectation("expect_table_columns_to_match_ordered_list", columns=tuple(DIVERGENCIAS_COLUMNS)),
        *(
            Expectation("expect_column_values_to_not_be_null", column=c)
            for c in (
                "ordem_id",
                "tipo_divergencia",
                "severidade",
                "detalhes",
                "hash_linha",
                "timestamp",
                "job_id",
            )
        ),
        Expectation("expect_compound_columns_to_be_unique", columns=("ordem_id", "tipo_divergencia")),
        Expectation(
            "expect_column_values_to_be_in_set",
            column="tipo_divergencia",
            value_set=tuple(schemas.TIPOS_DIVERGENCIA),
        ),
        Expectation("expect_column_values_to_be_in_set", column="severidade", value_set=SEVERIDADES),
        Expectation("expect_column_values_to_be_in_set", column="job_id", value_set=(job_id,)),
        Expectation("expect_column_values_to_match_regex", column="hash_linha", regex=r"^[0-9a-f]{64}$"),
        Expectation("expect_column_values_to_match_regex", column="detalhes", regex=r"^campo="),
        *money,
    ]


def resumo_contract() -> list[Expectation]:
    """The one-row summary: one row, a rate in [0, 1], no negative count."""
    return [
        Expectation("expect_table_row_count_to_equal", value=1),
        Expectation(
            "expect_column_values_to_be_between", column="taxa_divergencia", min_value=0, max_value=1
        ),
        *(Expectation("expect_column_values_to_be_between", column=c, min_value=0) for c in RESUMO_COUNTS),
    ]


# ---- executor 1: SQL over every row (the blocking gate) ----------------------------------------------
def _violation(rule: Expectation, p: str) -> tuple[str, dict[str, Any]]:
    """SQL that is true for a row breaking ``rule`` (NULLs are only the not-null rule's business, as in
    GE), with its bound parameters named after ``p``."""
    col = f'"{rule.column}"'
    if rule.type == "expect_column_values_to_not_be_null":
        return f"{col} IS NULL", {}
    if rule.type == "expect_column_values_to_be_in_set":
        return f"{col} IS NOT NULL AND NOT list_contains(${p}, {col})", {p: list(rule.value_set)}
    if rule.type == "expect_column_values_to_match_regex":
        return f"{col} IS NOT NULL AND NOT regexp_matches(CAST({col} AS VARCHAR), ${p})", {p: rule.regex}
    if rule.type == "expect_column_values_to_be_between":
        bounds, params = [], {}
        if rule.min_value is not None:
            bounds.append(f"{col} < ${p}_min")
            params[f"{p}_min"] = rule.min_value
        if rule.max_value is not None:
            bounds.append(f"{col} > ${p}_max")
            params[f"{p}_max"] = rule.max_value
        return f"{col} IS NOT NULL AND ({' OR '.join(bounds)})", params
    raise ValueError(f"expectativa sem tradução para SQL: {rule.type}")


def _row(batch: str, rule: Expectation, unexpected: Any, examples: list[Any]) -> dict[str, Any]:
    shown = [mask_record(e) if isinstance(e, dict) else str(e)[:60] for e in examples[:EXAMPLES]]
    return {
        "lote": batch,
        "expectativa": rule.type,
        "coluna": rule.label,
        "sucesso": unexpected == 0,  # a text (e.g. "coluna ausente") is a failure
        "inesperados": unexpected,
        "exemplos": ", ".join(str(s) for s in shown) or "-",
    }


def _sql_results(
    runner: ModelRunner, relation: str, batch: str, rules: list[Expectation]
) -> tuple[int, list[dict[str, Any]]]:
    """Evaluate ``rules`` on every row of ``relation``: one scan for the row rules (it also counts the
    rows, returned first), one grouping per uniqueness rule, a bounded read of examples for the rules
    that failed."""
    columns = [name for (name,) in runner.query(f"SELECT column_name FROM (DESCRIBE {relation})")]
    # A rule on a column the file lacks fails on its own line (the column-order rule says why)
    # instead of breaking the query of every other rule.
    missing = {
        i
        for i, r in enumerate(rules)
        if r.type != "expect_table_columns_to_match_ordered_list"
        and not {c for c in (r.column, *r.columns) if c} <= set(columns)
    }
    row_rules = {
        i: _violation(r, f"p{i}")
        for i, r in enumerate(rules)
        if i not in missing
        and r.type
        not in (
            "expect_table_columns_to_match_ordered_list",
            "expect_compound_columns_to_be_unique",
            "expect_table_row_count_to_equal",
        )
    }
    params = {k: v for _, p in row_rules.values() for k, v in p.items()}
    counts_sql = ", ".join(["count(*)", *(f"coalesce(count_if({sql}), 0)" for sql, _ in row_rules.values())])
    total, *violations = runner.query(f"SELECT {counts_sql} FROM {relation}", params)[0]
    unexpected = dict(zip(row_rules, violations, strict=True))
    results = []
    for i, rule in enumerate(rules):
        examples: list[Any] = []
        if i in missing:
            results.append(_row(batch, rule, "coluna ausente", []))
            continue
        if rule.type == "expect_table_columns_to_match_ordered_list":
            bad = 0 if columns == list(rule.columns) else 1
            if bad:
                examples = [f"colunas={columns}"]
            results.append(_row(batch, rule, bad, examples))
            continue
        if rule.type == "expect_table_row_count_to_equal":
            bad = 0 if total == rule.value else 1
            results.append(_row(batch, rule, bad, [f"linhas={total}"] if bad else []))
            continue
        if rule.type == "expect_compound_columns_to_be_unique":
            key = ", ".join(f'"{c}"' for c in rule.columns)
            repeated = runner.query_dicts(
                f"SELECT {key}, count(*) AS n FROM {relation} GROUP BY ALL HAVING count(*) > 1 ORDER BY {key}"
            )
            bad = sum(int(r.pop("n")) for r in repeated)
            results.append(_row(batch, rule, bad, repeated[:EXAMPLES]))
            continue
        bad = int(unexpected[i])
        if bad:
            sql, p = row_rules[i]
            examples = [
                v
                for (v,) in runner.query(
                    f'SELECT "{rule.column}" FROM {relation} WHERE {sql} LIMIT {EXAMPLES}', p
                )
            ]
        results.append(_row(batch, rule, bad, examples))
    return int(total), results


def _report(
    check_name: str, rows: list[dict[str, Any]], blocking_words: str, **metadata: Any
) -> dg.AssetCheckResult:
    failed = [r for r in rows if not r["sucesso"]]
    passed = not failed
    return dg.AssetCheckResult(
        check_name=check_name,
        asset_key=dg.AssetKey("divergencias"),
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            f"{len(rows) - len(failed)} de {len(rows)} expectativas atendidas {blocking_words}"
            + (
                ""
                if passed
                else ": falharam " + "; ".join(f"{r['expectativa']}({r['coluna']})" for r in failed[:5])
            )
        ),
        metadata={
            "expectativas": len(rows),
            "atendidas": len(rows) - len(failed),
            "falhas": len(failed),
            "resultados": dg.MetadataValue.md(markdown_table(rows)),
            "falhas_detalhe": dg.MetadataValue.json(failed),
            **metadata,
            "severidade_alerta": SEVERITY_OK if passed else "HIGH",
        },
    )


def contract_gate(
    divergencias: Path, resumo: Path, job_id: str, engine: EngineSettings
) -> dg.AssetCheckResult:
    """Blocking: every row of D's divergence table and its summary against the contract."""
    with ModelRunner(engine) as runner:
        runner.register_parquet("divergencias_dia", divergencias)
        runner.register_parquet("resumo_dia", resumo)
        total, rows = _sql_results(runner, "divergencias_dia", "divergencias", divergencias_contract(job_id))
        rows += _sql_results(runner, "resumo_dia", "resumo", resumo_contract())[1]
    return _report(CONTRATO_DIVERGENCIAS, rows, "em todas as linhas", linhas_verificadas=total)


# ---- executor 2: Great Expectations on a sample of the published table (the audit) ----------------------
GE_CLASSES = {
    "expect_table_columns_to_match_ordered_list": ("ExpectTableColumnsToMatchOrderedList", "column_list"),
    "expect_column_values_to_not_be_null": ("ExpectColumnValuesToNotBeNull", None),
    "expect_compound_columns_to_be_unique": ("ExpectCompoundColumnsToBeUnique", "column_list"),
    "expect_column_values_to_be_in_set": ("ExpectColumnValuesToBeInSet", None),
    "expect_column_values_to_match_regex": ("ExpectColumnValuesToMatchRegex", None),
    "expect_column_values_to_be_between": ("ExpectColumnValuesToBeBetween", None),
    "expect_table_row_count_to_equal": ("ExpectTableRowCountToEqual", None),
}


def _ge_context() -> tuple[Any, Any]:
    """An in-memory GX context: no files, no docs site, no usage statistics, no progress bars."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )
    for noisy in ("great_expectations", "py4j", "pyspark"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return gx, context


def ge_suite(gx: Any, name: str, rules: list[Expectation]) -> Any:
    """The contract as a GE suite: one GE expectation per rule, with the rule's own arguments."""
    suite = gx.ExpectationSuite(name=name)
    for rule in rules:
        class_name, list_arg = GE_CLASSES[rule.type]
        kwargs: dict[str, Any] = {}
        if list_arg:
            kwargs[list_arg] = list(rule.columns)
        if rule.column:
            kwargs["column"] = rule.column
        if rule.value_set:
            kwargs["value_set"] = list(rule.value_set)
        if rule.regex:
            kwargs["regex"] = rule.regex
        if rule.type == "expect_column_values_to_be_between":
            kwargs["min_value"], kwargs["max_value"] = rule.min_value, rule.max_value
        if rule.value is not None:
            kwargs["value"] = rule.value
        suite.add_expectation(getattr(gx.expectations, class_name)(**kwargs))
    return suite


def _describe(result: Any, batch: str) -> dict[str, Any]:
    config = result.expectation_config
    kwargs = config.kwargs
    rule = Expectation(config.type, column=kwargs.get("column"), columns=tuple(kwargs.get("column_list", [])))
    details = result.result or {}
    examples = list(details.get("partial_unexpected_list") or [])
    if result.exception_info and result.exception_info.get("raised_exception"):
        examples = [str(result.exception_info.get("exception_message", ""))[:120]]
    unexpected = details.get("unexpected_count")
    if unexpected is None:
        observed = details.get("observed_value")
        unexpected = "-" if observed is None else str(observed)[:60]
    row = _row(batch, rule, unexpected, examples)
    row["sucesso"] = bool(result.success)
    return row


def ge_audit(
    divergencias: Path, resumo: Path, engine: EngineSettings, sample_rows: int = GE_SAMPLE_ROWS
) -> dg.AssetCheckResult:
    """The contract's GE suite on a reservoir sample of the published divergences and on the summary.

    The expected ``job_id`` is the published summary's: every published row must carry the run that
    published the date (the four tables are published together)."""
    with ModelRunner(engine) as runner:
        runner.register_parquet("divergencias_dia", divergencias)
        runner.register_parquet("resumo_dia", resumo)
        ((total, job_id),) = runner.query(
            "SELECT (SELECT count(*) FROM divergencias_dia), (SELECT any_value(job_id) FROM resumo_dia)"
        )
        # Money as exact text: pandas would turn decimals into floats (9999999999999999.99 -> 1e16).
        money = ", ".join(f"CAST({c} AS VARCHAR) AS {c}" for c in MONEY_DIGITS)
        sample = runner.con.execute(
            f"SELECT * REPLACE ({money}) FROM divergencias_dia "
            f"USING SAMPLE reservoir({int(sample_rows)} ROWS) REPEATABLE (42)"
        ).df()
        summary = runner.con.execute(
            "SELECT "
            + ", ".join(["CAST(taxa_divergencia AS DOUBLE) AS taxa_divergencia", *RESUMO_COUNTS])
            + " FROM resumo_dia"
        ).df()
    gx, context = _ge_context()
    source = context.data_sources.add_pandas("recon")
    rows: list[dict[str, Any]] = []
    for name, frame, rules in (
        ("divergencias", sample, divergencias_contract(str(job_id))),
        ("resumo", summary, resumo_contract()),
    ):
        batch_def = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(name)
        validation = batch_def.get_batch(batch_parameters={"dataframe": frame}).validate(
            context.suites.add(ge_suite(gx, f"{name}_contrato", rules))
        )
        rows += [_describe(r, name) for r in validation.results]
    return _report(
        EXPECTATIVAS_DIVERGENCIAS,
        rows,
        "na amostra (Great Expectations)",
        linhas_amostra=len(sample),
        linhas_total=int(total),
    )
