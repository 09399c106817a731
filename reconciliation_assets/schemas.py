"""Column schemas of the published tables, shown in the Dagster UI (SPEC section 5)."""

from __future__ import annotations

import dagster as dg

# The divergence codes of SPEC 4, and the summary's count column for each (resumo_conciliacao.sql).
TIPOS_DIVERGENCIA = (
    "TIPO_1",
    "TIPO_2",
    "TIPO_3_VALOR",
    "TIPO_3_DATA",
    "TIPO_3_FORNECEDOR",
    "TIPO_3_ATIVO",
    "TIPO_3_NOME",
)
CONTAGENS_POR_TIPO = tuple(t.lower() for t in TIPOS_DIVERGENCIA)


def _schema(*columns: tuple[str, str, str, bool]) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name, kind, description=desc, constraints=dg.TableColumnConstraints(nullable=nullable)
            )
            for name, kind, desc, nullable in columns
        ]
    )


DIVERGENCIAS = _schema(
    ("fornecedor_id", "string", "do CSV; da base para TIPO_2", False),
    ("ordem_id", "string", "chave de casamento", False),
    ("nome", "string", "do CSV; da base para TIPO_2", False),
    ("ativo_id", "string", "do CSV; da base para TIPO_2", False),
    ("data", "date", "data do CSV; da base para TIPO_2", False),
    ("data_base", "date", "data na base interna (nula para TIPO_1)", True),
    ("valor_csv", "decimal(18,2)", "nulo para TIPO_2", True),
    ("valor_base", "decimal(18,2)", "nulo para TIPO_1", True),
    ("valor_diferenca", "decimal(19,2)", "valor_csv - valor_base quando ambos existem (19 dígitos)", True),
    ("tipo_divergencia", "string", "TIPO_1, TIPO_2, TIPO_3_VALOR|DATA|FORNECEDOR|ATIVO|NOME", False),
    ("detalhes", "string", "pares chave=valor; o primeiro é campo=<campo>", False),
    ("severidade", "string", "HIGH, MEDIUM, LOW", False),
    ("hash_linha", "string", "SHA-256 da forma canônica da linha de origem", False),
    ("timestamp", "timestamp(UTC)", "quando a execução calculou a linha", False),
    ("job_id", "string", "id da execução Dagster", False),
)

QUARENTENA = _schema(
    ("arquivo", "string", "arquivo de origem", False),
    ("linha", "int64", "linha física, 1 = cabeçalho", False),
    ("conteudo", "string", "texto original da linha", False),
    (
        "motivo",
        "string",
        "MALFORMED_ROW, MISSING_FIELD, INVALID_VALOR, INVALID_DATA, DATE_OUT_OF_RANGE, DUPLICATE_ORDEM_ID",
        False,
    ),
    ("detalhe", "string", "explicação legível", False),
)

VALIDADAS = _schema(
    ("fornecedor_id", "string", "normalizado (trim + NFC)", False),
    ("ordem_id", "string", "único no dia", False),
    ("nome", "string", "normalizado (trim + NFC)", False),
    ("ativo_id", "string", "normalizado (trim + NFC)", False),
    ("data", "date", "dia real, dentro da janela", False),
    ("valor", "decimal(18,2)", "arredondado half-even", False),
    ("arquivo", "string", "arquivo de origem", False),
    ("linha", "int64", "linha física", False),
)

BASE_INTERNA = _schema(
    ("fornecedor_id", "string", "normalizado", True),
    ("ordem_id", "string", "chave", True),
    ("nome", "string", "normalizado", True),
    ("ativo_id", "string", "normalizado", True),
    ("data", "date", "", True),
    ("valor", "decimal(18,2)", "arredondado half-even", True),
)

RESUMO = _schema(
    *[
        (name, kind, "", True)
        for name, kind in [
            ("job_id", "string"),
            ("started_at", "timestamp"),
            ("finished_at", "timestamp"),
            ("arquivos", "int64"),
            ("linhas_csv", "int64"),
            ("linhas_validas", "int64"),
            ("linhas_quarentena", "int64"),
            ("linhas_em_branco", "int64"),
            ("linhas_base_escopo", "int64"),
            ("conciliadas_sem_divergencia", "int64"),
            ("tipo_1", "int64"),
            ("tipo_2", "int64"),
            ("tipo_3_valor", "int64"),
            ("tipo_3_data", "int64"),
            ("tipo_3_fornecedor", "int64"),
            ("tipo_3_ativo", "int64"),
            ("tipo_3_nome", "int64"),
            ("taxa_divergencia", "double"),
            ("cobertura_inicio", "date"),
            ("cobertura_fim", "date"),
            ("arquivo_chegou_em", "timestamp"),
            ("sla_prazo", "timestamp"),
            ("sla_cumprido", "boolean"),
            ("total_csv", "decimal(38,2)"),
            ("total_base_escopo", "decimal(38,2)"),
            ("total_explicado", "decimal(38,2)"),
            ("diferenca_nao_explicada", "decimal(38,2)"),
            ("casadas", "int64"),
        ]
    ]
)

SITUACOES = ("NOVA", "RECORRENTE", "EM_ABERTO", "RESOLVIDA")
SITUACOES_ABERTAS = ("NOVA", "RECORRENTE", "EM_ABERTO")
FAIXAS_IDADE = ("0-1", "2-7", "8-30", ">30")

PENDENCIAS = _schema(
    (
        "pendencia_id",
        "string",
        "SHA-256 de ordem_id|tipo_divergencia: a identidade da pendência entre datas",
        False,
    ),
    ("ordem_id", "string", "chave de casamento", False),
    ("tipo_divergencia", "string", "código da divergência (SPEC 4)", False),
    ("fornecedor_id", "string", "como na última data em que esteve nas divergências", False),
    ("severidade", "string", "como na última data em que esteve nas divergências", False),
    ("valor_csv", "decimal(18,2)", "como na última data em que esteve nas divergências", True),
    ("valor_base", "decimal(18,2)", "como na última data em que esteve nas divergências", True),
    ("valor_diferenca", "decimal(19,2)", "como na última data em que esteve nas divergências", True),
    ("detalhes", "string", "como na última data em que esteve nas divergências", False),
    ("situacao", "string", "NOVA, RECORRENTE, EM_ABERTO, RESOLVIDA", False),
    ("aberta_em", "date", "data em que a pendência abriu", False),
    ("vista_em", "date", "última data em que esteve nas divergências", False),
    ("resolvida_em", "date", "data da resolução (nula salvo RESOLVIDA)", True),
    ("dias_em_aberto", "int32", "D - aberta_em, em dias corridos", False),
    ("faixa_idade", "string", "0-1, 2-7, 8-30, >30 por dias_em_aberto", False),
    ("job_id", "string", "id da execução Dagster", False),
    ("timestamp", "timestamp(UTC)", "quando a execução calculou a linha", False),
)
