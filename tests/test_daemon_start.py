"""docs/deploy.md's start-up on a fresh SQLite DAGSTER_HOME: initialise the storage first
(``dagster instance migrate``), then start ``dagster-daemon run`` and ``dagster-webserver`` together.

Started together on empty storage, both processes create the SQLite schema at once and can leave
two alembic heads ("alembic_version has more than one head"), after which neither starts again.
Here the documented order is run for real: migrate, both processes at once, the webserver answers
``/server_info`` and every required daemon writes a heartbeat, with no alembic error in either log.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from dagster import DagsterInstance

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _home(tmp_path: Path) -> Path:
    """The repo's dagster.yaml, with its relative SQLite folders moved under ``tmp_path``."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    config = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    config["storage"]["sqlite"]["base_dir"] = str(tmp_path / "recon_data/dagster")
    config["local_artifact_storage"]["config"]["base_dir"] = str(tmp_path / "recon_data/dagster")
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    return home


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def test_deploy_md_documents_migrate_before_the_processes():
    text = (ROOT / "docs/deploy.md").read_text()
    section = text[text.index("## 4. Processes") : text.index("## 5.")]
    block = section[section.index("```bash") : section.index("```", section.index("```bash") + 3)]
    lines = [line.split("#")[0].strip() for line in block.splitlines()[1:]]
    assert lines[:3] == [
        "dagster instance migrate",
        "dagster-webserver -h 0.0.0.0 -p 3000 -w workspace.yaml",
        "dagster-daemon run -w workspace.yaml",
    ]
    assert "ExecStartPre=/opt/recon/.venv/bin/dagster instance migrate" in section


@pytest.mark.slow  # dagster-daemon + dagster-webserver
def test_migrate_then_daemon_and_webserver_together_both_come_up(tmp_path):
    home = _home(tmp_path)
    bin_dir = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECON_")}
    env |= {"DAGSTER_HOME": str(home), "HOME": str(tmp_path), "PATH": f"{bin_dir}:{env.get('PATH', '')}"}
    migrate = subprocess.run(
        [str(bin_dir / "dagster"), "instance", "migrate"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrate.returncode == 0, migrate.stdout[-2000:] + migrate.stderr[-2000:]

    port = _free_port()
    workspace = str(ROOT / "workspace.yaml")
    logs = {name: (tmp_path / f"{name}.log").open("w+") for name in ("daemon", "webserver")}
    commands = {
        "daemon": [str(bin_dir / "dagster-daemon"), "run", "-w", workspace],
        "webserver": [
            str(bin_dir / "dagster-webserver"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-w",
            workspace,
        ],
    }
    procs = {
        name: subprocess.Popen(
            cmd, cwd=tmp_path, env=env, stdout=logs[name], stderr=subprocess.STDOUT, start_new_session=True
        )
        for name, cmd in commands.items()
    }
    try:
        instance = DagsterInstance.from_config(str(home))
        required = set(instance.get_required_daemon_types())
        assert {
            "SENSOR",
            "SCHEDULER",
            "MONITORING",
            "QUEUED_RUN_COORDINATOR",
        } <= required or "MONITORING" in required
        server_info = None
        beating: set[str] = set()
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and (server_info is None or beating != required):
            for name, proc in procs.items():
                assert proc.poll() is None, (
                    f"{name} exited: " + (tmp_path / f"{name}.log").read_text()[-3000:]
                )
            if server_info is None:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2) as r:
                        server_info = json.loads(r.read())
                except OSError:
                    pass
            beating = set(instance.get_daemon_heartbeats()) & required
            time.sleep(1)
        assert server_info is not None and "dagster_webserver_version" in server_info, server_info
        assert beating == required
    finally:
        for proc in procs.values():
            _stop(proc)
    for name in procs:
        text = (tmp_path / f"{name}.log").read_text()
        assert "more than one head" not in text, text[-3000:]
        assert "Traceback" not in text, text[-3000:]
