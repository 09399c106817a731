"""The run's checkpoint: after every step, ``<checkpoints>/<job_id>/checkpoint.json`` says what is done.

Intermediates live in the date's work folder (keyed by date, not run), so Dagster's "re-execute
from failure" resumes at the failed step and reuses what finished steps wrote. The checkpoint is
the operator-facing record of that: which steps finished, which failed and why, and where to look.
Written by job hooks, so the assets themselves stay about data.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import dagster as dg

from resources.storage import join_uri

CHECKPOINT_FILE = "checkpoint.json"
STEPS = ("arquivos_fornecedor", "validacao", "base_interna_snapshot", "divergencias", "resumo_conciliacao")


def checkpoint_location(checkpoint_uri: str, run_id: str) -> str:
    return join_uri(checkpoint_uri, run_id, CHECKPOINT_FILE)


def _update(context: dg.HookContext, *, failed: bool) -> None:
    storage = context.resources.storage
    run = context.instance.get_run_by_id(context.run_id)
    tags = run.tags if run else {}
    uri = checkpoint_location(storage.checkpoint_uri, context.run_id)
    doc: dict[str, Any] = storage.read_json(uri) or {
        "job_id": context.run_id,
        "job": context.job_name,
        "data_referencia": tags.get("dagster/partition"),
        "execucao_raiz": tags.get("dagster/root_run_id", context.run_id),
        "execucao_pai": tags.get("dagster/parent_run_id"),
        "etapas": list(STEPS),
        "etapas_concluidas": [],
        "pasta_de_trabalho": join_uri(storage.work_dir, f"data_referencia={tags.get('dagster/partition')}"),
    }
    now = datetime.now(tz=UTC).isoformat()
    if failed:
        error = context.op_exception
        doc["status"] = "falhou"
        doc["etapa_em_falha"] = context.step_key
        doc["erro"] = (
            f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"[:500]
            if error
            else None
        )
        doc["retomar"] = (
            "Re-execute a execução a partir da falha (From failure) na UI; as etapas concluídas não são refeitas."
        )
    else:
        done = [s for s in doc["etapas_concluidas"] if s["etapa"] != context.step_key]
        done.append({"etapa": context.step_key, "concluida_em": now})
        doc["etapas_concluidas"] = done
        doc["status"] = "concluido" if {s["etapa"] for s in done} >= set(STEPS) else "em_andamento"
        doc.pop("etapa_em_falha", None)
        doc.pop("erro", None)
    doc["atualizado_em"] = now
    storage.write_json(uri, doc)


@dg.success_hook(required_resource_keys={"storage"})
def checkpoint_step_done(context: dg.HookContext) -> None:
    _update(context, failed=False)


@dg.failure_hook(required_resource_keys={"storage"})
def checkpoint_step_failed(context: dg.HookContext) -> None:
    _update(context, failed=True)
