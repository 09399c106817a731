"""The shared contract: the names every layer agrees on, and nothing else.

Job, steps, run tags, check names and the timezone are read by the assets, the checks, the sensors,
the schedule and the checkpoint hooks. They live here, in a leaf that imports nothing from the
project (``tests/test_import_layers.py`` enforces it), so that sensors, schedules and checks depend on
this module and not on asset modules or on each other. The modules that used to define them
re-export them, so the old import paths keep working.
"""

from __future__ import annotations

TIMEZONE = "America/Sao_Paulo"  # the daily partitions, the deadlines and every local time shown

JOB_NAME = "daily_reconciliation"
# The Great Expectations audit of a published date: a checks-only job a sensor launches after D is
# published, so GE's import and context stay off the publication's critical path.
AUDIT_JOB_NAME = "auditoria_expectativas"

# The steps of one date, in chain order: the asset keys (``validacao`` is the multi-asset that
# writes transacoes_validadas + quarentena). They are also the units of the run checkpoint.
STEPS = (
    "arquivos_fornecedor",
    "validacao",
    "base_interna_snapshot",
    "divergencias",
    "resumo_conciliacao",
    "relatorio_diario",
)
# The resource key of the IO manager through which the steps hand their outputs on (resources/work_area.py).
WORK_AREA = "area_trabalho"
LINES_UNIT = "validacao"  # the line-consuming unit: once done, every line of the file was processed

# ---- run tags ----------------------------------------------------------------------------------
PARTITION_TAG = "dagster/partition"
BACKFILL_TAG = "dagster/backfill"
WILL_RETRY_TAG = "dagster/will_retry"
ARRIVAL_TAG = "recon/arquivo_chegou_em"  # set by the ingress sensor: the deadline counts from it
FILE_TAG = "recon/arquivo"
CHANGED_FILES_TAG = "recon/arquivos_alterados"
ORIGIN_TAG = "recon/origem"
SAFETY_NET_ORIGIN = "rede_de_seguranca"  # ORIGIN_TAG's value on runs the safety-net schedule starts
DEADLINE_TAG = "recon/prazo_arquivo"
RELEASE_TAG = "recon/publicar_mesmo_assim"  # an operator's deliberate release of a gated date
FAILURE_SENT_TAG = "recon/alerta_falha_enviado"
SUCCESS_SENT_TAG = "recon/alerta_sucesso_enviado"

# Run statuses of a run that is still going (``dagster.DagsterRunStatus`` values).
IN_PROGRESS_STATUSES = ("QUEUED", "NOT_STARTED", "STARTING", "STARTED")

# ---- asset check names -------------------------------------------------------------------------
# blocking invariants (checks/invariants.py)
CONTAGEM_LINHAS = "contagem_linhas"
ORDEM_ID_UNICO_BASE = "ordem_id_unico_base"
SALDO_EXPLICADO = "saldo_explicado"
CASAMENTO_CSV = "casamento_csv"
CASAMENTO_BASE = "casamento_base"
# the plausibility gate (checks/plausibility.py)
PLAUSIBILIDADE = "plausibilidade"
# quality (checks/quality.py)
TAXA_QUARENTENA = "taxa_quarentena"
TAXA_DIVERGENCIA = "taxa_divergencia"
ESQUEMA_VALIDADAS = "esquema_validadas"
CONTRATO_DIVERGENCIAS = "contrato_divergencias"  # blocking, SQL over every row (checks/expectations.py)
EXPECTATIVAS_DIVERGENCIAS = "expectativas_divergencias"  # the same contract in GE, after publication
# the open-items chain (checks/chain.py)
CADEIA_PENDENCIAS = "cadeia_pendencias"
CADEIA_ATUAL = "cadeia_atual"
# deadlines (checks/deadlines.py)
SLA_PUBLICACAO = "sla_publicacao"
PUBLICADA_NO_PRAZO = "publicada_no_prazo"
# the Glue Data Catalog registration (checks/catalog.py)
CATALOGO_GLUE = "catalogo_glue"
