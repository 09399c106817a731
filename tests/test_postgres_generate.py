"""``recon generate --postgres-url``: the generated internal base, row for row, in a real Postgres."""

from __future__ import annotations

import json

import duckdb
import psycopg2
import pytest

from reconciliation_assets.cli import main as recon
from tests import servers

# The server fixtures (tests/servers.py), imported into this module.
pg_server, pg_url = servers.pg_server, servers.pg_url

COLUMNS = "fornecedor_id, ordem_id, nome, ativo_id, data, CAST(valor AS VARCHAR)"


def test_generate_loads_the_same_rows_into_postgres_reading_the_url_from_the_environment(
    tmp_path, monkeypatch, capsys, pg_url
):
    monkeypatch.setenv("RECON_INTERNAL_DB_URL", pg_url)
    base = tmp_path / "base.duckdb"
    argv = ["generate", "--date", "2024-03-10", "--rows", "1200", "--quiet"]
    argv += [
        "--ingress",
        str(tmp_path / "in"),
        "--base",
        str(base),
        "--postgres-url",
        "--postgres-table",
        "public.internas",
    ]
    assert recon(argv) == 0
    truth = json.loads(capsys.readouterr().out)
    assert truth["extra"] == {
        "postgres": {
            "destino": f"postgresql://socket{pg_url.split('@')[1].split('?')[0]}#public.internas",
            "linhas": truth["linhas_base"],
        }
    }

    con = duckdb.connect(str(base), read_only=True)
    expected = con.execute(f"SELECT {COLUMNS} FROM transacoes_internas ORDER BY ordem_id").fetchall()
    con.close()
    conn = psycopg2.connect(pg_url)
    with conn, conn.cursor() as cur:
        cur.execute(
            f'SELECT {COLUMNS.replace("CAST(valor AS VARCHAR)", "valor::text")} FROM public.internas ORDER BY ordem_id COLLATE "C"'
        )
        assert cur.fetchall() == expected and len(expected) == truth["linhas_base"]
        cur.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'internas' ORDER BY indexname")
        assert [r[0].split(" USING ")[1] for r in cur.fetchall()] == [
            "btree (data)",
            "btree (NORMALIZE(btrim(ordem_id, ((' '::text || chr(9)) || chr(160))), NFC))",
        ]
    conn.close()


def test_generate_without_a_postgres_url_in_the_environment_stops(tmp_path, monkeypatch):
    monkeypatch.delenv("RECON_INTERNAL_DB_URL", raising=False)
    argv = ["generate", "--rows", "200", "--quiet", "--ingress", str(tmp_path / "in")]
    argv += ["--base", str(tmp_path / "b.duckdb"), "--postgres-url"]
    with pytest.raises(SystemExit, match="--postgres-url sem valor exige RECON_INTERNAL_DB_URL"):
        recon(argv)


def test_a_second_date_is_added_to_postgres_and_regenerating_replaces_only_its_rows(tmp_path, pg_url):
    base = tmp_path / "base.duckdb"

    def gen(day: str, rows: int) -> dict:
        argv = ["generate", "--date", day, "--rows", str(rows), "--quiet", "--ingress", str(tmp_path / "in")]
        assert recon([*argv, "--base", str(base), "--postgres-url", pg_url]) == 0
        return json.loads((tmp_path / f"ground_truth_{day}.json").read_text())

    def pg_rows() -> list[tuple]:
        conn = psycopg2.connect(pg_url)
        with conn, conn.cursor() as cur:
            cur.execute(
                f"SELECT {COLUMNS.replace('CAST(valor AS VARCHAR)', 'valor::text')} FROM transacoes_internas "
                'ORDER BY ordem_id COLLATE "C"'
            )
            out = cur.fetchall()
        conn.close()
        return out

    def duck_rows() -> list[tuple]:
        con = duckdb.connect(str(base), read_only=True)
        out = con.execute(f"SELECT {COLUMNS} FROM transacoes_internas ORDER BY ordem_id").fetchall()
        con.close()
        return out

    first = gen("2024-03-10", 600)
    d1_rows = pg_rows()
    assert len(d1_rows) == first["linhas_base"]
    second = gen("2024-03-12", 900)
    both = pg_rows()
    assert both == duck_rows() and len(both) == second["linhas_base"] == first["linhas_base"] + len(
        [r for r in both if "20240312-" in r[1]]
    )
    assert [r for r in both if "20240310-" in r[1]] == d1_rows  # D1 untouched by D2
    gen("2024-03-10", 300)  # D1 again, smaller: only D1's rows change, in both bases
    again = pg_rows()
    assert again == duck_rows()
    assert [r for r in again if "20240312-" in r[1]] == [r for r in both if "20240312-" in r[1]]
    assert len([r for r in again if "20240310-" in r[1]]) < len(d1_rows)
