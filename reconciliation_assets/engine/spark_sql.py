"""The models of ``dbt_like_sql/`` (DuckDB's dialect) as Spark SQL, translated with sqlglot at run time.

The models stay written once, in DuckDB's dialect. For Spark each one is parsed, its calls of the
project's macros (``dbt_like_sql/macros/*.sql``, ``CREATE MACRO``) are replaced in the syntax tree
by the macros' bodies, and sqlglot writes it in Spark's dialect. sqlglot translates nearly all of
it; what it does not (checked on sqlglot 30, DuckDB 2, Spark 4.3) is rewritten here, on the tree,
each rule with the DuckDB behaviour it keeps:

- ``regexp_full_match(s, p)`` (RE2, whole string) -> ``s RLIKE '^(?:p)\\z'`` (Java, ``\\z`` and not
  ``$``, which would also match before a final line break);
- ``list[i]`` (1-based, NULL out of range) -> ``try_element_at(list, int(i))`` (1-based, NULL out of
  range; Spark's ``list[i]`` is 0-based and fails out of range under ANSI);
- ``try_strptime(s, '%Y-%m-%d')`` -> ``try_to_timestamp(s, 'yyyy-MM-dd')`` (NULL for a day that does
  not exist, like DuckDB);
- ``HUGEINT`` -> ``DECIMAL(38, 0)`` (exact integer arithmetic on cents either way).

``nfc_normalize`` has no Spark built-in: it stays a call, and the Spark runner registers a
vectorised function under that name (``spark_runner.py``). Model parameters ``$name`` become
Spark's named parameters ``:name``, bound by ``spark.sql(sql, args=...)``, never formatted in.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path
from typing import cast

import sqlglot
from sqlglot import exp

import dbt_like_sql

SQL_DIR = Path(dbt_like_sql.__file__).resolve().parent
MACRO_DIR = SQL_DIR / "macros"

# strptime's directives used by the models, as Java DateTimeFormatter patterns.
_STRPTIME_TO_JAVA = {"%Y": "yyyy", "%m": "MM", "%d": "dd", "%H": "HH", "%M": "mm", "%S": "ss"}


class UntranslatableModel(ValueError):
    """A model uses a DuckDB construct this translation does not handle (named in the message)."""


@cache
def macros() -> dict[str, tuple[tuple[str, ...], exp.Expression]]:
    """The project's DuckDB macros: name -> (parameter names, body)."""
    found: dict[str, tuple[tuple[str, ...], exp.Expression]] = {}
    quiet = logging.getLogger("sqlglot")
    level = quiet.level
    # Macros of the dashboard that sqlglot cannot parse (list_last) come back as commands: skipped.
    quiet.setLevel(logging.ERROR)
    try:
        statements = [
            s
            for path in sorted(MACRO_DIR.glob("*.sql"))
            for s in sqlglot.parse(path.read_text(encoding="utf-8"), read="duckdb")
        ]
    finally:
        quiet.setLevel(level)
    for statement in statements:
        if not isinstance(statement, exp.Create) or str(statement.args.get("kind")).upper() != "MACRO":
            continue
        signature = statement.this
        params = tuple(p.name.lower() for p in signature.expressions)
        found[signature.this.name.lower()] = (params, statement.expression)
    return found


def _inline(node: exp.Expression, depth: int = 0) -> exp.Expression:
    """``node`` with every macro call (at any depth, macros calling macros) replaced by its body."""
    if depth > 20:
        raise UntranslatableModel("macros aninhadas demais (recursão?)")
    known = macros()

    def expand(n: exp.Expression) -> exp.Expression:
        if isinstance(n, exp.Anonymous) and str(n.this).lower() in known:
            params, body = known[str(n.this).lower()]
            args = [_inline(a, depth + 1) for a in n.expressions]
            if len(args) != len(params):
                raise UntranslatableModel(
                    f"macro {n.this}: {len(params)} argumentos esperados, {len(args)} dados"
                )
            values = dict(zip(params, args, strict=True))

            def bind(b: exp.Expression) -> exp.Expression:
                if isinstance(b, exp.Column) and not b.table and b.name.lower() in values:
                    return exp.Paren(this=values[b.name.lower()].copy())
                return b

            # Parenthesised: sqlglot writes the tree as it is, so a body ``a + b`` replacing a call
            # inside ``s * <call>`` must stay one operand (``s * (a + b)``, not ``s * a + b``).
            return exp.Paren(this=_inline(body.copy().transform(bind), depth + 1))
        return n

    return node.transform(expand)


def _spark_rules(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.RegexpFullMatch):
        pattern = node.expression
        # A plain literal or an E'' one (sqlglot reads E'\t' as a ByteString holding the tab).
        if not (isinstance(pattern, exp.Literal) and pattern.is_string) and not isinstance(
            pattern, exp.ByteString
        ):
            raise UntranslatableModel("regexp_full_match com padrão que não é um literal")
        return exp.RegexpLike(
            this=exp.Paren(this=node.this), expression=exp.Literal.string(f"^(?:{pattern.this})\\z")
        )
    if isinstance(node, exp.Bracket):
        if len(node.expressions) != 1:
            raise UntranslatableModel("índice de lista com mais de uma posição")
        index = exp.Cast(this=node.expressions[0], to=exp.DataType.build("INT"))
        return exp.Anonymous(this="try_element_at", expressions=[node.this, index])
    if isinstance(node, exp.Anonymous) and str(node.this).lower() == "try_strptime":
        text, fmt = node.expressions
        if not (isinstance(fmt, exp.Literal) and fmt.is_string):
            raise UntranslatableModel("try_strptime com formato que não é um literal")
        java = fmt.this
        for directive, pattern in _STRPTIME_TO_JAVA.items():
            java = java.replace(directive, pattern)
        if "%" in java:
            raise UntranslatableModel(f"try_strptime: formato sem tradução: {fmt.this!r}")
        return exp.Anonymous(this="try_to_timestamp", expressions=[text, exp.Literal.string(java)])
    if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.INT128:
        return exp.DataType.build("DECIMAL(38, 0)")
    if isinstance(node, exp.Anonymous) and str(node.this).lower() == "hash":
        raise UntranslatableModel("hash() é o hash do DuckDB: sem equivalente com os mesmos valores no Spark")
    return node


def to_spark(sql: str) -> str:
    """One DuckDB statement of the project (a model or a small query) as Spark SQL."""
    tree = _inline(cast(exp.Expression, sqlglot.parse_one(sql, read="duckdb"))).transform(_spark_rules)
    return tree.sql(dialect="spark")


@cache
def model_to_spark(name: str) -> str:
    """Model ``dbt_like_sql/<name>.sql`` as Spark SQL (cached: models do not change while running)."""
    return to_spark((SQL_DIR / f"{name}.sql").read_text(encoding="utf-8"))
