"""S3 answering 500/503/SlowDown or dropping connections: a fault-injecting proxy in front of moto.

The proxy forwards every request to the moto server, except that it answers the first ``n``
requests matching a rule with an S3 error (or closes the socket without answering). A day whose
faults stop in time publishes exactly what a clean run does; a day whose S3 never recovers fails
after the design's retries with a FAILED checkpoint and nothing published.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

import dagster as dg
import pytest

from reconciliation_assets.definitions import build_defs
from tests.chain import HEADER
from tests.receivers import matching_day
from tests.servers import s3_client

DAY = "2024-03-10"
SLOWDOWN = (
    b'<?xml version="1.0"?><Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>'
)


class FaultProxy:
    """HTTP proxy to ``upstream``; ``fail(method, path_part, n, kind)`` arms the next ``n`` faults."""

    def __init__(self, upstream: str):
        self.upstream = urlparse(upstream)
        self.rules: list[dict] = []
        self.injected: list[str] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def fail(self, method: str, path_part: str, n: int, kind: str) -> None:
        with self.lock:
            self.rules.append({"method": method, "path": path_part, "left": n, "kind": kind})

    def _take(self, method: str, path: str) -> str | None:
        with self.lock:
            for rule in self.rules:
                if rule["left"] and rule["method"] == method and rule["path"] in path:
                    rule["left"] -= 1
                    self.injected.append(f"{method} {rule['kind']}")
                    return rule["kind"]
        return None

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _body(self) -> bytes:
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    parts = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return b"".join(parts)
                        parts.append(self.rfile.read(size))
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _any(self):
                body = self._body()
                kind = proxy._take(self.command, self.path)
                if kind == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return
                if kind in {"500", "503"}:
                    payload = SLOWDOWN if kind == "503" else SLOWDOWN.replace(b"SlowDown", b"InternalError")
                    self.send_response(int(kind))
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=30)
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in {"host", "transfer-encoding", "content-length"}
                }
                headers["Content-Length"] = str(len(body))
                headers["Host"] = proxy.upstream.netloc
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in {"transfer-encoding", "content-length", "connection"}:
                        self.send_header(k, v)
                # HEAD answers carry the object's length without a body.
                length = resp.getheader("Content-Length") if self.command == "HEAD" else str(len(data))
                self.send_header("Content-Length", length or "0")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _any

        return Handler

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def faulty_s3(s3_server, s3_env, monkeypatch) -> Iterator[FaultProxy]:
    proxy = FaultProxy(s3_server)
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    # botocore's own retries would hide the faults: one attempt, so the project's schedule acts.
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")
    try:
        yield proxy
    finally:
        proxy.close()


@pytest.fixture
def s3_day(s3_bucket, s3_server, tmp_path, monkeypatch):
    """A healthy day on S3 (ingress and output), the internal base embedded."""
    lines, base = matching_day(DAY, 30)
    client = s3_client(s3_server)
    client.put_object(
        Bucket=s3_bucket,
        Key=f"ingresso/{DAY}/transacoes.csv",
        Body=("\n".join([HEADER, *lines]) + "\n").encode(),
    )
    from tests.chain import make_base

    make_base(tmp_path / "base.duckdb", base)
    for key, value in {
        "RECON_INGRESS_URI": f"s3://{s3_bucket}/ingresso",
        "RECON_OUTPUT_URI": f"s3://{s3_bucket}/saida",
        "RECON_CHECKPOINT_URI": str(tmp_path / "checkpoints"),
        "RECON_WORK_DIR": str(tmp_path / "work"),
        "RECON_DUCKDB_TEMP_DIR": str(tmp_path / "tmp"),
        "RECON_INTERNAL_DB_URL": f"duckdb:///{tmp_path / 'base.duckdb'}",
        "RECON_DUCKDB_THREADS": "1",
        "RECON_RETRY_BASE_SECONDS": "0.1",
    }.items():
        monkeypatch.setenv(key, value)
    return s3_bucket, tmp_path


def run() -> dg.ExecuteInProcessResult:
    with dg.instance_for_test() as instance:
        return (
            build_defs()
            .resolve_job_def("daily_reconciliation")
            .execute_in_process(partition_key=DAY, instance=instance, raise_on_error=False)
        )


def published_keys(server: str, bucket: str) -> list[str]:
    listing = s3_client(server).list_objects_v2(Bucket=bucket, Prefix="saida/")
    return sorted(o["Key"] for o in listing.get("Contents", []))


EXPECTED_KEYS = sorted(
    [
        f"saida/{t}/data_referencia={DAY}/part-0.parquet"
        for t in ("divergencias", "pendencias", "quarentena", "resumo_conciliacao")
    ]
    + [
        f"saida/_manifestos/data_referencia={DAY}/{n}.json"
        for n in (
            "cadeia",
            "divergencias",
            "pendencias",
            "quarentena",
            "resumo_conciliacao",
            "publicacao",
            "relatorio",
        )
    ]
    + [f"saida/relatorio/data_referencia={DAY}/index.html"]
)


@pytest.mark.parametrize(
    ("method", "path", "kind", "step"),
    [
        ("GET", f"/ingresso/{DAY}/transacoes.csv", "503", "arquivos_fornecedor"),  # SlowDown on download
        ("GET", f"/ingresso/{DAY}/transacoes.csv", "drop", "arquivos_fornecedor"),  # connection dropped
        ("GET", "list-type=2", "500", "arquivos_fornecedor"),  # listing the day's folder
        ("PUT", "/saida/_staging/", "503", "divergencias"),  # staging the publication
    ],
)
def test_transient_s3_faults_are_retried_and_the_day_is_published(
    faulty_s3, s3_day, s3_server, method, path, kind, step
):
    bucket, _ = s3_day
    faulty_s3.fail(method, path, 2, kind)
    result = run()
    assert result.success
    assert faulty_s3.injected == [f"{method} {kind}"] * 2  # both faults were served
    # Absorbed by the step's retries or by boto3's transfer manager (which retries a dropped
    # download itself); either way no other step was retried and the day is complete.
    retries = {e.step_key for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"}
    assert retries <= {step}
    assert published_keys(s3_server, bucket) == EXPECTED_KEYS


def test_an_s3_that_never_recovers_fails_after_the_schedule_and_publishes_nothing(
    faulty_s3, s3_day, s3_server
):
    bucket, root = s3_day
    faulty_s3.fail("GET", f"/ingresso/{DAY}/transacoes.csv", 100, "503")
    result = run()
    assert not result.success
    retries = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert [e.event_specific_data.seconds_to_wait for e in retries] == [0.1, 0.2, 0.4]
    assert len(faulty_s3.injected) >= 4  # the first try and three retries (boto3 may add its own)
    doc = json.loads((root / "checkpoints" / result.run_id / "checkpoint.json").read_text())
    assert (doc["status"], doc["error_details"]["stage"]) == ("FAILED", "arquivos_fornecedor")
    assert doc["error_details"]["error_type"] == "ClientError"
    assert published_keys(s3_server, bucket) == []


def test_an_s3_access_error_is_not_retried(faulty_s3, s3_day, s3_server):
    bucket, _ = s3_day
    client = s3_client(s3_server)
    client.delete_object(Bucket=bucket, Key=f"ingresso/{DAY}/transacoes.csv")
    result = run()
    assert not result.success
    assert [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"] == []
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "Nenhum arquivo *.csv" in failure.event_specific_data.error.message
