"""Drive every hostile case (tests/hostile/cases.py) through the real staging and validation steps.

Each case ends in exactly its stated outcome: a rejection naming the file, or exact line counts with
every line accounted for (linhas_csv = validas + quarentena; physical = headers + blank + data).
No case may crash with anything but ``HeaderError`` or take more than ``TIMEOUT_S``.
"""

from __future__ import annotations

import signal
from contextlib import contextmanager
from decimal import Decimal

import pytest

from reconciliation_assets.engine.header import HeaderError
from tests.chain import run_day
from tests.hostile.cases import CASES, FILE, Case, Counts, Rejected, big_line_case, big_single_line_file_case

TIMEOUT_S = 30


@contextmanager
def deadline(seconds: int):
    def expired(*_):
        raise TimeoutError(f"case took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def check(tmp_path, case: Case) -> None:
    files = case.content if isinstance(case.content, dict) else {FILE: case.content}
    expected = case.expected
    with deadline(TIMEOUT_S):
        if isinstance(expected, Rejected):
            with pytest.raises(HeaderError) as err:
                run_day(tmp_path, files)
            message = str(err.value)
            assert message.startswith(f"{expected.file}: "), message
            for word in expected.words:
                assert word in message, (word, message)
            for secret in expected.never:
                assert secret not in message, (secret, message)
            return
        result = run_day(tmp_path, files)
    assert isinstance(expected, Counts)
    s = result.stats
    got_motivos = {k: int(v) for k, v in s["por_motivo"].items()}
    assert (s["linhas_csv"], s["linhas_validas"], s["linhas_em_branco"], got_motivos) == (
        expected.linhas_csv,
        expected.validas,
        expected.em_branco,
        expected.motivos,
    )
    assert s["linhas_csv"] == s["linhas_validas"] + s["linhas_quarentena"]
    assert s["linhas_fisicas"] == s["linhas_cabecalho"] + s["linhas_em_branco"] + s["linhas_csv"]
    assert len(result.validadas) + len(result.quarentena) == s["linhas_csv"]
    # No line is lost or renumbered: validated and quarantined lines are exactly the data lines.
    lines = sorted([(r["arquivo"], r["linha"]) for r in result.validadas + result.quarentena])
    assert len(set(lines)) == len(lines)
    assert all(q["detalhe"] for q in result.quarentena)
    if expected.nomes is not None:
        assert tuple(r["nome"] for r in result.validadas) == expected.nomes
    if expected.valores is not None:
        assert [r["valor"] for r in result.validadas] == [Decimal(v) for v in expected.valores]


def test_the_corpus_is_large_enough():
    assert len(CASES) + 2 >= 40
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_case(tmp_path, case):
    check(tmp_path, case)


@pytest.mark.parametrize("make", [big_line_case, big_single_line_file_case], ids=lambda f: f.__name__)
def test_big_hostile_case(tmp_path, make):
    check(tmp_path, make())
