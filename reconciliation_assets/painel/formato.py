"""Numbers as the business reads them (pt-BR): ``1.234`` rows, ``R$ 1.234,50``, ``9,70%``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def _pt(text: str) -> str:
    return text.replace(",", "X").replace(".", ",").replace("X", ".")


def inteiro(n: int | None) -> str:
    return "-" if n is None else _pt(f"{int(n):,}")


def reais(valor: Decimal | float | int | None) -> str:
    """Exact to the cent: a Decimal is formatted as is, never through a float."""
    if valor is None:
        return "-"
    return "R$ " + _pt(f"{Decimal(valor).quantize(Decimal('0.01')):,.2f}")


def percentual(taxa: float | None) -> str:
    return "-" if taxa is None else _pt(f"{taxa * 100:.2f}") + "%"


TAXA = "Taxa de divergência"


def indicadores(k: dict[str, Any]) -> list[tuple[str, str]]:
    """The eight KPIs of ``Saida.kpis`` as label and text, in order: the dashboard and the daily
    report show exactly these, so a figure reads the same wherever the business sees it."""
    return [
        ("Divergências", inteiro(k["total"])),
        (TAXA, percentual(k["taxa_divergencia"])),
        ("Pendências abertas", inteiro(k["pendencias_abertas"])),
        ("Valor em aberto", reais(k["valor_em_aberto"])),
        ("TIPO_1 (só no arquivo)", inteiro(k["tipo_1"])),
        ("TIPO_2 (só na base)", inteiro(k["tipo_2"])),
        ("TIPO_3 (campo difere)", inteiro(k["tipo_3"])),
        ("Severidade HIGH", inteiro(k["high"])),
    ]
