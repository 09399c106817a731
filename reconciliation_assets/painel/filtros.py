"""The dashboard's filters, read from and written to the page's query string (SPEC 7).

``?inicio=YYYY-MM-DD&fim=YYYY-MM-DD&fornecedor=F&tipo=T&severidade=S``: each optional, several
values comma-separated, so a link reproduces the view. A bad value is a clear message, not a crash.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from reconciliation_assets.schemas import TIPOS_DIVERGENCIA

SEVERIDADES = ("HIGH", "MEDIUM", "LOW")


class FiltroInvalido(ValueError):
    """A query-string value the dashboard cannot use; the message says which and why."""


def _valores(params: Mapping[str, object], nome: str) -> tuple[str, ...]:
    raw = params.get(nome)
    if raw is None:
        return ()
    items = raw if isinstance(raw, list | tuple) else [raw]
    return tuple(dict.fromkeys(v.strip() for item in items for v in str(item).split(",") if v.strip()))


def _data(params: Mapping[str, object], nome: str) -> date | None:
    valores = _valores(params, nome)
    if not valores:
        return None
    try:
        return date.fromisoformat(valores[0])
    except ValueError:
        raise FiltroInvalido(f"{nome}={valores[0]!r} não é uma data AAAA-MM-DD") from None


def _conhecidos(valores: tuple[str, ...], nome: str, permitidos: tuple[str, ...]) -> tuple[str, ...]:
    desconhecidos = [v for v in valores if v not in permitidos]
    if desconhecidos:
        raise FiltroInvalido(f"{nome} desconhecido: {', '.join(desconhecidos)} (use {', '.join(permitidos)})")
    return valores


@dataclass(frozen=True)
class Filtro:
    inicio: date | None = None
    fim: date | None = None
    fornecedores: tuple[str, ...] = ()
    tipos: tuple[str, ...] = ()
    severidades: tuple[str, ...] = ()

    @classmethod
    def de_parametros(cls, params: Mapping[str, object]) -> Filtro:
        """Parse the query string; raises :class:`FiltroInvalido` with a Portuguese message."""
        inicio, fim = _data(params, "inicio"), _data(params, "fim")
        if inicio and fim and inicio > fim:
            raise FiltroInvalido(f"inicio ({inicio}) é depois de fim ({fim})")
        return cls(
            inicio=inicio,
            fim=fim,
            fornecedores=_valores(params, "fornecedor"),
            tipos=_conhecidos(_valores(params, "tipo"), "tipo", TIPOS_DIVERGENCIA),
            severidades=_conhecidos(
                tuple(v.upper() for v in _valores(params, "severidade")), "severidade", SEVERIDADES
            ),
        )

    def periodo(self) -> tuple[date, date]:
        """``(inicio, fim)`` of a filter whose period was resolved (the page's, the report's)."""
        if self.inicio is None or self.fim is None:
            raise FiltroInvalido("período não resolvido: inicio e fim são obrigatórios aqui")
        return self.inicio, self.fim

    def com_periodo(self, inicio: date, fim: date) -> Filtro:
        return Filtro(inicio, fim, self.fornecedores, self.tipos, self.severidades)

    def parametros(self) -> dict[str, str]:
        """The query string that reproduces this view (empty filters left out)."""
        out = {
            "inicio": self.inicio.isoformat() if self.inicio else "",
            "fim": self.fim.isoformat() if self.fim else "",
            "fornecedor": ",".join(self.fornecedores),
            "tipo": ",".join(self.tipos),
            "severidade": ",".join(self.severidades),
        }
        return {k: v for k, v in out.items() if v}

    def sql(self) -> dict[str, object]:
        """Bound parameters of the dashboard's SQL models (``dbt_like_sql/painel/``)."""
        return {
            "inicio": self.inicio,
            "fim": self.fim,
            "fornecedores": list(self.fornecedores),
            "tipos": list(self.tipos),
            "severidades": list(self.severidades),
        }

    def descricao(self) -> str:
        """What the page says it shows: the period and every active filter."""
        periodo = f"data {self.inicio}" if self.inicio == self.fim else f"período {self.inicio} a {self.fim}"
        partes = [periodo]
        for rotulo, valores in (
            ("fornecedor", self.fornecedores),
            ("tipo", self.tipos),
            ("severidade", self.severidades),
        ):
            partes.append(f"{rotulo}: {', '.join(valores) if valores else 'todos'}")
        return " · ".join(partes)


def link(base: str, filtro: Filtro) -> str:
    """The dashboard's address that reproduces ``filtro``'s view: ``<base>/?inicio=…&fim=…``.

    Used by the daily report and the success alert, so their links open exactly that view."""
    return f"{base.rstrip('/')}/?{urlencode(filtro.parametros(), safe=',')}"
