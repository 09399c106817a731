"""Real alert receivers on loopback: an HTTP server standing in for a Slack incoming webhook and an
aiosmtpd SMTP server (optionally with AUTH and STARTTLS), plus a port where nothing listens.

Import the fixtures into a test module (``from tests.receivers import webhook, smtp  # noqa: F401``).
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.servers import self_signed_certificate

LOOPBACK = "127.0.0.1"
WEBHOOK_TOKEN = "T0000000/B0000000/XXXXsegredoDoWebhookXXXX"
SAO_PAULO = ZoneInfo("America/Sao_Paulo")


def pin_clock(monkeypatch, at: dt.datetime | None = None) -> dt.datetime:
    """Pin the project's clock (reconciliation_assets/clock.py) for the rest of the test and return
    the instant: arrival, publication, SLA and deadline all read it, so "published 19 minutes after
    arrival" is exactly 19, not 19 plus however long the run took. The default is a whole second a
    few seconds ahead, so the files the test writes next (their mtime is the arrival) precede it."""
    pinned = at or (dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=5))
    monkeypatch.setattr("reconciliation_assets.clock.now", lambda: pinned)
    return pinned


def local_day(at: dt.datetime) -> str:
    """The reference date of ``at`` in São Paulo (the partitions' timezone)."""
    return at.astimezone(SAO_PAULO).date().isoformat()


def free_port() -> int:
    """A port nothing listens on right now (aiosmtpd cannot start on port 0, STACK_NOTES gotcha 6)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


# ---- webhook ----------------------------------------------------------------------------------------
@dataclass
class WebhookReceiver:
    port: int
    posts: list[dict] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    fail_next: int = 0  # answer this many requests with HTTP 500 first
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/services/{WEBHOOK_TOKEN}"

    def texts(self) -> list[str]:
        return [p["text"] for p in self.posts]


def _handler(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with receiver.lock:
                if receiver.fail_next > 0:
                    receiver.fail_next -= 1
                    self.send_response(500)
                    self.end_headers()
                    return
                receiver.raw.append(body)
                receiver.paths.append(self.path)
                receiver.posts.append(json.loads(body))
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            return

    return Handler


@pytest.fixture
def webhook():
    receiver = WebhookReceiver(port=0)
    server = ThreadingHTTPServer((LOOPBACK, 0), _handler(receiver))
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()


# ---- SMTP -------------------------------------------------------------------------------------------
SMTP_USER = "alertas"
SMTP_PASSWORD = "s3nha-SMTP-n40-vaza"


@dataclass
class SmtpReceiver:
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    host: str = LOOPBACK
    ca_file: str = ""


class _Handler:
    def __init__(self, receiver: SmtpReceiver):
        self.receiver = receiver

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's naming
        self.receiver.raw.append(envelope.content)
        self.receiver.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.receiver.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def _authenticator(receiver: SmtpReceiver):
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def check(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == SMTP_USER
            and auth_data.password.decode() == SMTP_PASSWORD
        )
        if ok:
            receiver.logins.append(SMTP_USER)
        return AuthResult(success=ok, handled=False)

    return check


def _start_smtp(receiver: SmtpReceiver, tls_context=None):
    from aiosmtpd.controller import Controller

    controller = Controller(
        _Handler(receiver),
        hostname=LOOPBACK,
        port=receiver.port,
        authenticator=_authenticator(receiver),
        auth_require_tls=tls_context is not None,
        tls_context=tls_context,
        require_starttls=tls_context is not None,
    )
    controller.start()
    return controller


@pytest.fixture
def smtp():
    """Plain SMTP with AUTH LOGIN/PLAIN (user ``alertas``) on a free loopback port."""
    receiver = SmtpReceiver(port=free_port())
    controller = _start_smtp(receiver)
    yield receiver
    controller.stop()


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    cert_path, key_path = tmp / "smtp.crt", tmp / "smtp.key"
    self_signed_certificate(cert_path, key_path)
    return cert_path, key_path


@pytest.fixture
def smtp_starttls(tmp_path):
    """SMTP that requires STARTTLS (self-signed certificate; ``ca_file`` trusts it) before AUTH."""
    import ssl

    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    receiver = SmtpReceiver(port=free_port(), ca_file=str(cert))
    controller = _start_smtp(receiver, tls_context=context)
    yield receiver
    controller.stop()


@pytest.fixture
def down_port() -> int:
    """A loopback port with nothing listening: a receiver that is down."""
    return free_port()


# ---- the day harness shared by the check, alert and schedule tests -----------------------------------
from tests.chain import HEADER  # noqa: E402,F401 (the harness re-exports it)


@pytest.fixture
def recon_env(tmp_path, monkeypatch) -> Path:
    """Every location in a temporary folder, configured through the environment like an operator would."""
    values = {
        "RECON_INGRESS_URI": str(tmp_path / "ingress"),
        "RECON_OUTPUT_URI": str(tmp_path / "output"),
        "RECON_CHECKPOINT_URI": str(tmp_path / "checkpoints"),
        "RECON_WORK_DIR": str(tmp_path / "work"),
        "RECON_DUCKDB_TEMP_DIR": str(tmp_path / "tmp"),
        "RECON_INTERNAL_DB_URL": f"duckdb:///{tmp_path / 'base.duckdb'}",
        "RECON_DUCKDB_MEMORY_LIMIT": "512MB",
        "RECON_DUCKDB_THREADS": "1",
    }
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    return tmp_path


@pytest.fixture
def instance():
    import dagster as dg

    with dg.instance_for_test() as inst:
        yield inst


def write_day(root: Path, day: str, lines: list[str], base_rows: list[tuple] | None = None) -> None:
    """``lines`` of the supplier file for ``day`` (header added) and the internal base rows."""
    from tests.chain import make_base

    folder = root / "ingress" / day
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "transacoes.csv").write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    make_base(root / "base.duckdb", base_rows or [])


def matching_day(day: str, n: int, nome: str = "José da Silva") -> tuple[list[str], list[tuple]]:
    """``n`` lines that all match the base exactly (a healthy day)."""
    ref = dt.date.fromisoformat(day) - dt.timedelta(days=1)
    lines = [
        f"F{i % 3};O{i:05d};{nome};A{i % 5};{ref.isoformat()};{i}.{i % 100:02d}" for i in range(1, n + 1)
    ]
    base = [(f"F{i % 3}", f"O{i:05d}", nome, f"A{i % 5}", ref, f"{i}.{i % 100:02d}") for i in range(1, n + 1)]
    return lines, base


def run_day(instance, day: str, tags: dict[str, str] | None = None):
    from reconciliation_assets.definitions import build_defs

    return (
        build_defs()
        .resolve_job_def("daily_reconciliation")
        .execute_in_process(partition_key=day, instance=instance, raise_on_error=False, tags=tags or {})
    )


def run_divergences_only(instance, day: str):
    """D's divergences (and pendencias) in a run of their own, as the UI or a backfill can launch them."""
    import dagster as dg

    from reconciliation_assets.definitions import build_defs

    return (
        build_defs()
        .resolve_implicit_global_asset_job_def()
        .execute_in_process(
            partition_key=day,
            instance=instance,
            asset_selection=[dg.AssetKey("divergencias"), dg.AssetKey("pendencias")],
            raise_on_error=False,
        )
    )


def run_audit(instance, day: str, tags: dict[str, str] | None = None):
    """The Great Expectations audit of ``day``'s publication, as the sensor launches it (its own run)."""
    from reconciliation_assets.contract import AUDIT_JOB_NAME, PARTITION_TAG
    from reconciliation_assets.definitions import build_defs

    return (
        build_defs()
        .resolve_job_def(AUDIT_JOB_NAME)
        .execute_in_process(
            instance=instance, raise_on_error=False, tags={PARTITION_TAG: day, **(tags or {})}
        )
    )


def check_results(result) -> dict[str, object]:
    """check name -> AssetCheckEvaluation of an in-process result."""
    return {
        e.event_specific_data.check_name: e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }


def published(root: Path, table: str, day: str) -> bool:
    return (root / "output" / table / f"data_referencia={day}" / "part-0.parquet").exists()
