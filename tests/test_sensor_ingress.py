"""The ingress sensor over the local folder and over a real S3 server: exact run keys, tags and cursor."""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from dagster_aws.s3 import S3Resource

import sensors.ingress as ingress
from reconciliation_assets.assets.common import ARRIVAL_TAG
from reconciliation_assets.resources_config import build_resources
from resources.storage import ReconStorage
from sensors.ingress import CHANGED_FILES_TAG, FILE_TAG, ingresso_fornecedor
from tests import servers
from tests.servers import s3_client

# The server fixtures (tests/servers.py), imported into this module.
s3_server, s3_env, s3_bucket = servers.s3_server, servers.s3_env, servers.s3_bucket

# Today is 2024-03-11 in São Paulo: the window is 2024-03-08 .. 2024-03-12 (tomorrow, not a partition).
NOW = datetime(2024, 3, 11, 9, 30, tzinfo=ZoneInfo("America/Sao_Paulo"))


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch):
    monkeypatch.setattr(ingress, "_now", lambda: NOW)


@pytest.fixture(scope="module")
def instance():
    with dg.instance_for_test() as test_instance:
        yield test_instance


@pytest.fixture
def tick(instance):
    """One evaluation, as the daemon does it: a sensor context with the cursor and the resources."""

    def evaluate(storage: ReconStorage, cursor: str | None) -> dg.SensorResult:
        with dg.build_sensor_context(
            instance=instance, cursor=cursor, resources={"storage": storage}
        ) as context:
            return ingresso_fornecedor(context)

    return evaluate


def logged(capsys) -> list[str]:
    """The sensor's log lines (Dagster's sensor logger writes to stderr, not to the logging tree)."""
    return capsys.readouterr().err.splitlines()


def resolved(storage: ReconStorage) -> ReconStorage:
    """The resource with its EnvVar fields read, as Dagster hands it to a sensor or an asset."""
    with dg.build_resources({"storage": storage}) as built:
        return built.storage


def local_storage(root: Path) -> ReconStorage:
    return ReconStorage(ingress_uri=str(root), s3=S3Resource())


def put(root: Path, relative: str, content: bytes = b"h\n", mtime_ns: int | None = None) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    if mtime_ns is not None:
        os.utime(path, ns=(mtime_ns, mtime_ns))
    return path


def version(path: Path) -> str:
    st = path.stat()
    return f"{st.st_mtime_ns}-{st.st_size}"


def arrival(path: Path) -> str:
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).isoformat()


def cursor_of(seen: dict[str, str], skipped: dict[str, str] | None = None) -> str:
    return json.dumps({"seen": seen, "skipped": skipped or {}}, sort_keys=True)


def requests(result: dg.SensorResult) -> list[tuple[str | None, str | None, dict[str, str]]]:
    return [(r.partition_key, r.run_key, dict(r.tags)) for r in result.run_requests or []]


def test_local_file_requests_one_run_then_nothing_then_again_when_replaced(tick, tmp_path):
    storage = local_storage(tmp_path)
    csv = put(tmp_path, "2024-03-10/transacoes.csv", b"a\n", mtime_ns=1_710_070_000_123_456_789)
    first = tick(storage, None)
    key = f"2024-03-10/transacoes.csv@{version(csv)}"
    assert key == "2024-03-10/transacoes.csv@1710070000123456789-2"
    assert requests(first) == [
        (
            "2024-03-10",
            key,
            {ARRIVAL_TAG: "2024-03-10T11:26:40.123457+00:00", FILE_TAG: str(csv), CHANGED_FILES_TAG: "1"},
        )
    ]
    assert first.cursor == cursor_of({"2024-03-10/transacoes.csv": version(csv)})

    second = tick(storage, first.cursor)
    assert requests(second) == []
    assert second.skip_reason.skip_message == "nenhum *.csv novo ou substituído (2024-03-10)"
    assert second.cursor == first.cursor

    put(tmp_path, "2024-03-10/transacoes.csv", b"a\nb\n", mtime_ns=1_710_070_100_000_000_000)
    third = tick(storage, second.cursor)
    assert requests(third) == [
        (
            "2024-03-10",
            "2024-03-10/transacoes.csv@1710070100000000000-4",
            {ARRIVAL_TAG: "2024-03-10T11:28:20+00:00", FILE_TAG: str(csv), CHANGED_FILES_TAG: "1"},
        )
    ]
    assert third.cursor == cursor_of({"2024-03-10/transacoes.csv": "1710070100000000000-4"})


def test_identical_modification_times_never_hide_a_file(tick, tmp_path):
    """Same mtime to the nanosecond, seen in different ticks: both files start a run."""
    storage = local_storage(tmp_path)
    same = 1_710_070_000_000_000_000
    a = put(tmp_path, "2024-03-10/a.csv", b"a\n", mtime_ns=same)
    first = tick(storage, None)
    b = put(tmp_path, "2024-03-10/b.csv", b"b\n", mtime_ns=same)
    second = tick(storage, first.cursor)
    assert [r[1] for r in requests(first)] == [f"2024-03-10/a.csv@{same}-2"]
    assert [r[1] for r in requests(second)] == [f"2024-03-10/b.csv@{same}-2"]
    assert second.cursor == cursor_of({"2024-03-10/a.csv": version(a), "2024-03-10/b.csv": version(b)})


def test_files_of_one_date_in_one_tick_make_one_run_and_dates_are_independent(tick, tmp_path):
    storage = local_storage(tmp_path)
    a = put(tmp_path, "2024-03-10/a.csv", b"a\n", mtime_ns=1_710_000_000_000_000_000)
    b = put(tmp_path, "2024-03-10/b.CSV", b"bb\n", mtime_ns=1_710_000_001_000_000_000)
    c = put(tmp_path, "2024-03-11/c.csv", b"c\n", mtime_ns=1_710_000_002_000_000_000)
    result = tick(storage, None)
    lines = f"2024-03-10/a.csv@{version(a)}\n2024-03-10/b.CSV@{version(b)}"
    digest = hashlib.sha256(lines.encode()).hexdigest()
    assert requests(result) == [
        (
            "2024-03-10",
            f"2024-03-10@sha256:{digest}",
            {ARRIVAL_TAG: arrival(b), FILE_TAG: str(b), CHANGED_FILES_TAG: "2"},
        ),
        (
            "2024-03-11",
            f"2024-03-11/c.csv@{version(c)}",
            {ARRIVAL_TAG: arrival(c), FILE_TAG: str(c), CHANGED_FILES_TAG: "1"},
        ),
    ]


def test_what_is_not_an_input_is_skipped_and_logged_once(tick, tmp_path, capsys):
    storage = local_storage(tmp_path)
    good = put(tmp_path, "2024-03-10/transacoes.csv")
    notes = put(tmp_path, "2024-03-10/leia-me.txt")
    hidden = put(tmp_path, "2024-03-10/._transacoes.csv")
    put(tmp_path, "2024-03-10/antigos/x.csv")
    tomorrow = put(tmp_path, "2024-03-12/transacoes.csv")  # in the window, not yet a partition
    put(tmp_path, "2024-02-30/transacoes.csv")  # not a calendar day (and sorts before the window)
    put(tmp_path, "2024-13-01/transacoes.csv")  # not a calendar day, inside the listed range
    put(tmp_path, "2099-01-01/transacoes.csv")  # after the window
    put(tmp_path, "2024-03-01/transacoes.csv")  # before the window: never listed at all
    loose = put(tmp_path, "transacoes_2024-03-10.csv")  # not in a date folder
    result = tick(storage, None)
    assert [r[1] for r in requests(result)] == [f"2024-03-10/transacoes.csv@{version(good)}"]
    skipped = {
        "2024-03-10/._transacoes.csv": version(hidden),
        "2024-03-10/antigos/": "",
        "2024-03-10/leia-me.txt": version(notes),
        "2024-03-12/transacoes.csv": version(tomorrow),
        "2024-13-01/": "",
        "2099-01-01/": "",
        "transacoes_2024-03-10.csv": version(loose),
    }
    assert result.cursor == cursor_of({"2024-03-10/transacoes.csv": version(good)}, skipped)
    warnings = sorted(line.split(" - ")[-1] for line in logged(capsys) if "ignorado" in line)
    assert warnings == sorted(
        [
            "ingresso: '2024-03-10/._transacoes.csv' ignorado: arquivo oculto",
            "ingresso: '2024-03-10/antigos/' ignorado: subpasta (só arquivos diretamente sob a pasta da data contam)",
            "ingresso: '2024-03-10/leia-me.txt' ignorado: não é *.csv",
            "ingresso: '2024-03-12/transacoes.csv' ignorado: data fora das partições diárias",
            "ingresso: '2024-13-01/' ignorado: pasta não é uma data YYYY-MM-DD válida",
            "ingresso: '2099-01-01/' ignorado: data fora da janela do sensor (2024-03-08 a 2024-03-12)",
            "ingresso: 'transacoes_2024-03-10.csv' ignorado: fora de uma pasta de data YYYY-MM-DD/",
        ]
    )
    again = tick(storage, result.cursor)
    assert requests(again) == [] and again.cursor == result.cursor
    assert [line for line in logged(capsys) if "ignorado" in line] == []


def test_the_cursor_only_holds_the_window(tick, tmp_path, monkeypatch):
    storage = local_storage(tmp_path)
    old = put(tmp_path, "2024-03-08/a.csv")
    new = put(tmp_path, "2024-03-11/b.csv")
    first = tick(storage, None)
    assert first.cursor == cursor_of({"2024-03-08/a.csv": version(old), "2024-03-11/b.csv": version(new)})
    monkeypatch.setattr(
        ingress, "_now", lambda: datetime(2024, 3, 12, 0, 5, tzinfo=ZoneInfo("America/Sao_Paulo"))
    )
    later = tick(storage, first.cursor)
    assert requests(later) == []
    assert later.cursor == cursor_of({"2024-03-11/b.csv": version(new)})


def test_a_corrupt_cursor_starts_over_and_the_sensor_is_registered(tick, tmp_path):
    storage = local_storage(tmp_path)
    csv = put(tmp_path, "2024-03-09/a.csv")
    assert [r[1] for r in requests(tick(storage, "{not json"))] == [f"2024-03-09/a.csv@{version(csv)}"]
    from reconciliation_assets.definitions import build_defs

    sensor = build_defs().resolve_sensor_def("ingresso_fornecedor")
    assert sensor.job_name == "daily_reconciliation"
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


# ---- S3 (moto's server, configured through the same environment variables as production) --------


@pytest.fixture
def s3_ingress(s3_bucket, s3_env, monkeypatch) -> tuple[ReconStorage, object, str]:
    monkeypatch.setenv("RECON_INGRESS_URI", f"s3://{s3_bucket}/entrada")
    storage = build_resources()["storage"]
    return storage, s3_client(s3_env), s3_bucket


def s3_put(client, bucket: str, key: str, body: bytes = b"h\n") -> dict[str, str]:
    client.put_object(Bucket=bucket, Key=f"entrada/{key}", Body=body)
    head = client.head_object(Bucket=bucket, Key=f"entrada/{key}")
    return {"etag": head["ETag"].strip('"'), "arrival": head["LastModified"].astimezone(UTC).isoformat()}


def test_s3_object_new_same_bytes_and_replaced(tick, s3_ingress):
    storage, client, bucket = s3_ingress
    obj = s3_put(client, bucket, "2024-03-10/transacoes.csv", b"v1\n")
    assert obj["etag"] == hashlib.md5(b"v1\n").hexdigest()
    first = tick(storage, None)
    assert requests(first) == [
        (
            "2024-03-10",
            f"2024-03-10/transacoes.csv@{obj['etag']}",
            {
                ARRIVAL_TAG: obj["arrival"],
                FILE_TAG: f"s3://{bucket}/entrada/2024-03-10/transacoes.csv",
                CHANGED_FILES_TAG: "1",
            },
        )
    ]
    assert first.cursor == cursor_of({"2024-03-10/transacoes.csv": obj["etag"]})
    assert requests(tick(storage, first.cursor)) == []
    s3_put(client, bucket, "2024-03-10/transacoes.csv", b"v1\n")  # same bytes again: same ETag, no run
    same = tick(storage, first.cursor)
    assert requests(same) == [] and same.cursor == first.cursor
    replaced = s3_put(client, bucket, "2024-03-10/transacoes.csv", b"v2\n")
    third = tick(storage, same.cursor)
    assert replaced["etag"] == hashlib.md5(b"v2\n").hexdigest()
    assert [r[1] for r in requests(third)] == [f"2024-03-10/transacoes.csv@{replaced['etag']}"]
    assert third.cursor == cursor_of({"2024-03-10/transacoes.csv": replaced["etag"]})


def test_s3_traversal_and_absolute_keys_are_refused(tick, s3_ingress):
    storage, client, bucket = s3_ingress
    s3_put(client, bucket, "2024-03-10/../2024-03-09/x.csv")
    s3_put(client, bucket, "2024-03-10//etc/passwd.csv")
    ok = s3_put(client, bucket, "2024-03-10/ok.csv")
    result = tick(storage, None)
    assert [r[1] for r in requests(result)] == [f"2024-03-10/ok.csv@{ok['etag']}"]
    assert result.cursor == cursor_of(
        {"2024-03-10/ok.csv": ok["etag"]}, {"2024-03-10/../": "", "2024-03-10//": ""}
    )
    assert [f.name for f in resolved(storage).list_day_files("2024-03-10")] == ["ok.csv"]


def test_s3_listing_past_1000_keys_misses_nothing(tick, s3_ingress):
    storage, client, bucket = s3_ingress
    names = [f"2024-03-09/parte-{i:04d}.csv" for i in range(1001)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: client.put_object(Bucket=bucket, Key=f"entrada/{k}", Body=b"h\n"), names))
    etag = hashlib.md5(b"h\n").hexdigest()
    first = tick(storage, None)
    lines = "\n".join(f"{k}@{etag}" for k in names)
    assert [(r[0], r[1], r[2][CHANGED_FILES_TAG]) for r in requests(first)] == [
        ("2024-03-09", f"2024-03-09@sha256:{hashlib.sha256(lines.encode()).hexdigest()}", "1001")
    ]
    assert first.cursor == cursor_of(dict.fromkeys(names, etag))
    assert len(resolved(storage).list_day_files("2024-03-09")) == 1001
    assert requests(tick(storage, first.cursor)) == []
    late = s3_put(client, bucket, "2024-03-09/parte-0500b.csv", b"tarde\n")
    assert [r[1] for r in requests(tick(storage, first.cursor))] == [
        f"2024-03-09/parte-0500b.csv@{late['etag']}"
    ]
