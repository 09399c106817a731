"""Numbers as the business reads them (pt-BR): ``1.234`` rows, ``R$ 1.234,50``, ``9,70%``."""

from __future__ import annotations

from decimal import Decimal


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
