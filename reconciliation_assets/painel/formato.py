"""Numbers as the business reads them (pt-BR): ``1.234`` rows, ``R$ 1.234,50``, ``9,70%``."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any


def _pt(text: str) -> str:
    return text.replace(",", "X").replace(".", ",").replace("X", ".")


def inteiro(n: int | None) -> str:
    return "-" if n is None else _pt(f"{int(n):,}")


def reais(valor: Decimal | float | int | None) -> str:
    """Exact to the cent: a Decimal is formatted as is, never through a float."""
    if valor is None:
        return "-"
    centavos = Decimal(valor).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    return ("-" if centavos < 0 else "") + "R$ " + _pt(f"{abs(centavos):,.2f}")


def reais_curto(valor: Decimal | float | int | None) -> str:
    """For a KPI card, where ``R$ 2.407.714.478,12`` does not fit: from a million on, ``R$ 2,41 bi`` /
    ``R$ 14,48 mi`` (half-even to the cent of the unit); the card's help shows the exact amount."""
    if valor is None:
        return "-"
    exato = Decimal(valor)
    for unidade, sufixo in ((Decimal(10**9), "bi"), (Decimal(10**6), "mi")):
        if abs(exato) >= unidade:
            curto = (abs(exato) / unidade).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
            return ("-" if exato < 0 else "") + "R$ " + _pt(f"{curto:,.2f}") + f" {sufixo}"
    return reais(exato)


def percentual(taxa: float | None) -> str:
    return "-" if taxa is None else _pt(f"{taxa * 100:.2f}") + "%"


TAXA = "Taxa de divergência"
VALOR_EM_ABERTO = "Valor em aberto"


def indicadores(k: dict[str, Any]) -> list[tuple[str, str]]:
    """The eight KPIs of ``Saida.kpis`` as label and text, in order: the dashboard and the daily
    report show exactly these, so a figure reads the same wherever the business sees it."""
    return [
        ("Divergências", inteiro(k["total"])),
        (TAXA, percentual(k["taxa_divergencia"])),
        ("Pendências abertas", inteiro(k["pendencias_abertas"])),
        (VALOR_EM_ABERTO, reais(k["valor_em_aberto"])),
        ("TIPO_1 (só no arquivo)", inteiro(k["tipo_1"])),
        ("TIPO_2 (só na base)", inteiro(k["tipo_2"])),
        ("TIPO_3 (campo difere)", inteiro(k["tipo_3"])),
        ("Severidade HIGH", inteiro(k["high"])),
    ]
