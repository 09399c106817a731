"""``recon painel``: the Streamlit server, started so it never needs the network.

Usage statistics off, no file watcher, no development mode; the page, Vega and the fonts are all
served from the installed Streamlit package. The configuration is checked before the server
starts, so a wrong variable is one clear message instead of a broken page.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP = Path(__file__).with_name("app.py")


def streamlit_argv(host: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        "--global.developmentMode",
        "false",
        "--client.toolbarMode",
        "minimal",
        "--theme.base",
        "light",
    ]


def serve(host: str, port: int) -> int:
    from reconciliation_assets.resources_config import reader_settings
    from resources.env import ConfigurationError

    try:
        storage, _ = reader_settings()
    except ConfigurationError as erro:
        print(f"configuração inválida: {erro}", file=sys.stderr)  # noqa: T201
        return 2
    print(f"painel em http://{host}:{port} sobre {storage.output_uri}", flush=True)  # noqa: T201
    os.execv(sys.executable, streamlit_argv(host, port))
    return 0  # not reached: the process is now the server
