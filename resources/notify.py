"""Alerts that reach people: a Slack incoming webhook and SMTP e-mail, or just the log.

One :class:`Alert` is rendered twice: Slack Block Kit with a plain-text ``text`` fallback (what the
phone notification shows; ``& < >`` escaped so nothing in the data can ping ``<!channel>``), and a
plain-text e-mail. Every text is passed through :func:`redact` first, so a configured secret (the
webhook URL, the SMTP password) or credentials inside a URL never leave in a message or a log line.

Delivery never raises: each channel is retried with exponential backoff and the outcome is
returned and logged. Alerts are sent by sensors in the daemon, never from inside a data run, so a
receiver that is down cannot fail a run.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from email.message import EmailMessage
from typing import Any

from pydantic import field_validator

from reconciliation_assets.observability import json_line, redact
from reconciliation_assets.painel.filtros import Filtro, link
from resources.env import EnvValidatedResource

LOG = logging.getLogger("recon.alertas")

SEVERITY_EMOJI = {
    "CRITICAL": ":red_circle:",
    "HIGH": ":large_orange_circle:",
    "MEDIUM": ":large_yellow_circle:",
    "LOW": ":white_circle:",
    "INFO": ":large_green_circle:",
}
SECTION_LIMIT = 2900  # Slack: ~3000 characters per section text
HEADER_LIMIT = 150
MAX_FIELDS = 10
TLS_MODES = ("none", "starttls", "ssl")
RUNBOOK_PATH = "docs/runbook.md"


def slack_escape(text: str) -> str:
    """Slack's three control characters; the rest of the text is shown as written."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


@dataclass
class Alert:
    """What happened, when, why, where to look and what to do next (ECOSYSTEM_NOTES item 8)."""

    tipo: str  # falha_execucao | arquivo_ausente | checagem | sla | frescor | sucesso
    severidade: str  # CRITICAL | HIGH | MEDIUM | LOW | INFO
    titulo: str
    motivo: str = ""
    data_referencia: str | None = None
    job_id: str | None = None
    inicio: str | None = None
    fim: str | None = None
    campos: dict[str, Any] = field(default_factory=dict)
    proximo_passo: str = ""
    checkpoint: bool = True  # failure-like alerts point at the run's checkpoint folder
    chave: str = ""  # deduplication key (kind + run/check/state)
    runbook: str = ""  # anchor of the docs/runbook.md section that says what to do
    checkpoint_location: str | None = None  # the checkpoint's own ``checkpoint_location``, when read
    relatorio: str | None = None  # the date's published daily report (its ``dagster/uri``)
    painel: bool = False  # link to the dashboard's view of ``data_referencia`` (when RECON_PAINEL_URL is set)

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe copy (for a sensor cursor that keeps undelivered alerts)."""
        doc = dict(self.__dict__)
        doc["campos"] = {str(k): str(v) for k, v in self.campos.items()}
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Alert:
        known = {k: v for k, v in doc.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass
class RenderedAlert:
    text: str
    slack: dict[str, Any]
    subject: str
    body: str
    link: str | None
    checkpoint: str | None
    runbook: str | None = None


class Notifier(EnvValidatedResource):
    """Where alerts go. Nothing configured: alerts are only logged (the local default)."""

    slack_webhook_url: str = ""
    smtp_host: str = ""
    smtp_port: int = 0  # 0: 25, 587 (starttls) or 465 (ssl)
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "conciliacao@localhost"
    smtp_to: str = ""  # comma-separated
    smtp_tls: str = "none"  # none | starttls | ssl
    smtp_ca_file: str = ""  # private CA bundle for the SMTP server's certificate (optional)
    ui_base_url: str = ""
    runbook_url: str = ""  # e.g. https://git.example.com/recon/blob/main/docs/runbook.md
    painel_url: str = (
        ""  # the dashboard (`recon painel`) as the business opens it, e.g. https://painel.empresa
    )
    checkpoint_uri: str = "recon_data/checkpoints"
    timeout_s: float = 10.0
    max_attempts: int = 3
    backoff_s: float = 1.0

    @field_validator("smtp_tls")
    @classmethod
    def _tls(cls, value: str) -> str:
        mode = (value or "none").strip().lower()
        if mode not in TLS_MODES:
            raise ValueError(f"modo TLS do SMTP inválido: {value!r} (use none, starttls ou ssl)")
        return mode

    @field_validator("smtp_port")
    @classmethod
    def _port(cls, value: int) -> int:
        if not 0 <= value <= 65535:
            raise ValueError(f"porta SMTP inválida: {value} (use 1 a 65535, ou 0 para a padrão do modo TLS)")
        return value

    # ---- configuration views ------------------------------------------------------------------
    @property
    def recipients(self) -> list[str]:
        return [a.strip() for a in self.smtp_to.split(",") if a.strip()]

    @property
    def channels(self) -> list[str]:
        out = []
        if self.slack_webhook_url:
            out.append("slack")
        if self.smtp_host and self.recipients:
            out.append("email")
        return out

    def _secrets(self) -> list[str]:
        secrets = [self.smtp_password, self.slack_webhook_url]
        # The webhook's path is the credential even without its scheme and host.
        if self.slack_webhook_url and "/services/" in self.slack_webhook_url:
            secrets.append(self.slack_webhook_url.split("/services/", 1)[1])
        return [s for s in secrets if s]

    def redact(self, text: str) -> str:
        return redact(text, self._secrets())

    def redacted(self, alert: Alert) -> Alert:
        """``alert`` with every text redacted: safe to keep in a sensor cursor (the UI shows cursors)."""
        r = self.redact
        return replace(
            alert,
            titulo=r(alert.titulo),
            motivo=r(alert.motivo),
            proximo_passo=r(alert.proximo_passo),
            campos={r(str(k)): r(str(v)) for k, v in alert.campos.items()},
        )

    def run_link(self, run_id: str | None) -> str | None:
        if not (self.ui_base_url and run_id):
            return None
        return f"{self.ui_base_url.rstrip('/')}/runs/{run_id}"

    def checkpoint_location(self, run_id: str | None) -> str | None:
        if not run_id:
            return None
        return f"{self.checkpoint_uri.rstrip('/')}/{run_id}/"

    def painel_link(self, data_referencia: str | None) -> str | None:
        """``<RECON_PAINEL_URL>/?inicio=D&fim=D``: the dashboard's view of D; None when unset."""
        if not (self.painel_url.strip() and data_referencia):
            return None
        day = date.fromisoformat(data_referencia)
        return link(self.painel_url.strip(), Filtro(day, day))

    def runbook_link(self, anchor: str) -> str:
        """``<RECON_RUNBOOK_URL>#anchor``, or the repository-relative ``docs/runbook.md#anchor``."""
        base = self.runbook_url.strip() or RUNBOOK_PATH
        return f"{base.split('#', 1)[0]}#{anchor}" if anchor else base

    # ---- rendering ----------------------------------------------------------------------------
    def render(self, alert: Alert) -> RenderedAlert:
        r = self.redact
        link = self.run_link(alert.job_id)
        checkpoint = (
            (alert.checkpoint_location or self.checkpoint_location(alert.job_id))
            if alert.checkpoint
            else None
        )
        runbook = r(self.runbook_link(alert.runbook)) if alert.runbook else None
        facts: list[tuple[str, str]] = [("Severidade", alert.severidade)]
        if alert.data_referencia:
            facts.append(("Data de referência", alert.data_referencia))
        if alert.job_id:
            facts.append(("Job id", alert.job_id))
        if alert.inicio:
            facts.append(("Início", alert.inicio))
        if alert.fim:
            facts.append(("Fim", alert.fim))
        if checkpoint:
            facts.append(("Checkpoint", checkpoint))
        facts = [(k, r(v)) for k, v in facts]
        extra = [(r(str(k)), r(str(v))) for k, v in alert.campos.items()]
        title = r(_one_line(alert.titulo))
        reason = r(alert.motivo)
        step = r(alert.proximo_passo)

        subject = _one_line(f"[conciliação][{alert.severidade}] {title}")[:200]
        lines = [title, "", *(f"{k}: {v}" for k, v in facts)]
        if reason:
            lines += ["", f"Motivo: {reason}"]
        if extra:
            lines += ["", *(f"{k}: {v}" for k, v in extra)]
        if link:
            lines += ["", f"Execução: {link}"]
        elif alert.job_id:
            lines += ["", "Execução: (RECON_UI_BASE_URL não configurada)"]
        relatorio = r(alert.relatorio) if alert.relatorio else None
        painel = r(p) if alert.painel and (p := self.painel_link(alert.data_referencia)) else None
        if relatorio or painel:
            lines.append("")
        if relatorio:
            lines.append(f"Relatório: {relatorio}")
        if painel:
            lines.append(f"Painel: {painel}")
        if step:
            lines += ["", f"Próximo passo: {step}"]
        if runbook:
            lines += ["", f"Runbook: {runbook}"]
        body = "\n".join(lines) + "\n"

        fallback_bits = [f"[{alert.severidade}] {title}"]
        if alert.data_referencia:
            fallback_bits.append(f"data {alert.data_referencia}")
        if alert.job_id:
            fallback_bits.append(f"job {alert.job_id}")
        if reason:
            fallback_bits.append(_one_line(reason)[:300])
        text = slack_escape(" | ".join(fallback_bits))

        blocks: list[dict[str, Any]] = [
            {
                "type": "header",
                "text": {
                    "type": "plain_text",
                    "text": f"{alert.severidade} · {title}"[:HEADER_LIMIT],
                    "emoji": True,
                },
            },
        ]
        if reason:
            blocks.append(
                {
                    "type": "section",
                    "text": {
                        "type": "mrkdwn",
                        "text": f"{SEVERITY_EMOJI.get(alert.severidade, '')} *Motivo:* "
                        f"{slack_escape(reason)}"[:SECTION_LIMIT],
                    },
                }
            )
        blocks.append(
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*{slack_escape(k)}*\n{slack_escape(v)}"[:2000]}
                    for k, v in facts[:MAX_FIELDS]
                ],
            }
        )
        if extra:
            blocks.append(
                {
                    "type": "section",
                    "text": {
                        "type": "mrkdwn",
                        "text": "\n".join(f"*{slack_escape(k)}:* {slack_escape(v)}" for k, v in extra)[
                            :SECTION_LIMIT
                        ],
                    },
                }
            )
        context_bits = []
        if link:
            context_bits.append(f"<{slack_escape(link)}|Abrir a execução no Dagster>")
        if relatorio:
            context_bits.append(
                f"<{slack_escape(relatorio)}|Relatório do dia>"
                if relatorio.startswith(("http://", "https://"))
                else f"Relatório: {slack_escape(relatorio)}"
            )
        if painel:
            context_bits.append(f"<{slack_escape(painel)}|Abrir o painel da data>")
        if step:
            context_bits.append(f"Próximo passo: {slack_escape(step)}")
        if runbook:
            context_bits.append(
                f"<{slack_escape(runbook)}|Runbook>"
                if "://" in runbook
                else f"Runbook: {slack_escape(runbook)}"
            )
        if context_bits:
            blocks.append(
                {
                    "type": "context",
                    "elements": [{"type": "mrkdwn", "text": b[:SECTION_LIMIT]} for b in context_bits],
                }
            )
        return RenderedAlert(
            text=text,
            slack={"text": text, "blocks": blocks},
            subject=subject,
            body=body,
            link=link,
            checkpoint=checkpoint,
            runbook=runbook,
        )

    # ---- delivery -----------------------------------------------------------------------------
    def _post_slack(self, payload: dict[str, Any]) -> None:
        request = urllib.request.Request(
            self.slack_webhook_url,
            data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            headers={"Content-Type": "application/json; charset=utf-8"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
            response.read()

    def _ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.smtp_ca_file or None)

    def _send_email(self, subject: str, body: str) -> None:
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = self.smtp_from
        message["To"] = ", ".join(self.recipients)
        message.set_content(body)
        if self.smtp_tls == "ssl":
            port = self.smtp_port or 465
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                self.smtp_host, port, timeout=self.timeout_s, context=self._ssl_context()
            )
        else:
            port = self.smtp_port or (587 if self.smtp_tls == "starttls" else 25)
            client = smtplib.SMTP(self.smtp_host, port, timeout=self.timeout_s)
        with client:
            if self.smtp_tls == "starttls":
                client.starttls(context=self._ssl_context())
            if self.smtp_user:
                client.login(self.smtp_user, self.smtp_password)
            client.send_message(message)

    def _attempt(self, channel: str, action: Callable[[], None], log: Any, attempts: int) -> str:
        last = ""
        for attempt in range(1, max(1, attempts) + 1):
            try:
                action()
                return "ok"
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code}"
                if exc.code < 500 and exc.code != 429:
                    break  # the request itself is wrong: retrying will not help
            except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
                last = f"{type(exc).__name__}: {exc}"
            except Exception as exc:  # a misconfiguration (e.g. a URL without scheme): do not retry
                last = f"{type(exc).__name__}: {exc}"
                break
            if attempt < attempts:
                delay = self.backoff_s * (2 ** (attempt - 1))
                log.warning(
                    self.redact(
                        f"alerta: {channel} falhou (tentativa {attempt}/{attempts}: {last}); "
                        f"nova tentativa em {delay:.2f}s"
                    )
                )
                time.sleep(delay)
        return self.redact(f"erro: {last}")

    def send(
        self,
        alert: Alert,
        log: Any = None,
        channels: list[str] | None = None,
        attempts: int | None = None,
    ) -> dict[str, str]:
        """Render and deliver ``alert`` to every configured channel (or only ``channels``); never raises.

        Returns ``{channel: "ok" | "erro: …"}``. ``attempts`` overrides ``max_attempts`` (a later
        retry of an undelivered alert makes one attempt, so a receiver still down costs no backoff).
        """
        log = log or LOG
        rendered = self.render(alert)
        wanted = [c for c in self.channels if channels is None or c in channels]
        tries = self.max_attempts if attempts is None else attempts
        outcome: dict[str, str] = {}
        if "slack" in wanted:
            outcome["slack"] = self._attempt("slack", lambda: self._post_slack(rendered.slack), log, tries)
        if "email" in wanted:
            outcome["email"] = self._attempt(
                "email", lambda: self._send_email(rendered.subject, rendered.body), log, tries
            )
        record = {
            "evento": "alerta",
            "tipo": alert.tipo,
            "severidade": alert.severidade,
            "chave": alert.chave,
            "data_referencia": alert.data_referencia,
            "job_id": alert.job_id,
            **({"reenvio": True} if channels is not None else {}),
            "entregas": outcome or {"log": "apenas registrado (nenhum canal configurado)"},
            "texto": rendered.text if not outcome else rendered.subject,
        }
        line = self.redact(json_line(record))
        failed = any(v != "ok" for v in outcome.values())
        if failed:
            log.error(line)
        elif alert.severidade in ("CRITICAL", "HIGH") and not outcome:
            log.warning(line)
        else:
            log.info(line)
        return outcome
