"""``recon painel``: the Streamlit server, started so it never needs the network.

Usage statistics off, no file watcher, no development mode; the page, Vega and the fonts are all
served from the installed Streamlit package. The configuration is checked before the server
starts, so a wrong variable is one clear message instead of a broken page.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tomllib
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


def login_problem(login: str, provedor: str) -> str | None:
    """Why ``RECON_PAINEL_LOGIN=oidc`` cannot work here (no Authlib, no ``[auth]`` secrets), or None.

    Checked before the server starts: a dashboard that was meant to be behind the company's login
    must not start without it (it would otherwise fail on the first visit, or not at all).
    """
    if login != "oidc":
        return None
    if importlib.util.find_spec("authlib") is None:
        return "RECON_PAINEL_LOGIN=oidc precisa do pacote Authlib: pip install -e '.[login]'"
    from streamlit import config

    needed = ("redirect_uri", "cookie_secret")
    provider = ("client_id", "client_secret", "server_metadata_url")
    for file in (Path(f) for f in config.get_option("secrets.files")):
        if not file.is_file():
            continue
        auth = tomllib.loads(file.read_text(encoding="utf-8")).get("auth", {})
        section = auth.get(provedor, {}) if provedor else auth
        if all(k in auth for k in needed) and all(k in section for k in provider):
            return None
    secao = f"[auth.{provedor}]" if provedor else "[auth]"
    return (
        f"RECON_PAINEL_LOGIN=oidc precisa de {secao} com {', '.join(provider)} e de [auth] com "
        f"{', '.join(needed)} em .streamlit/secrets.toml (veja docs/deploy.md)"
    )


def serve(host: str, port: int) -> int:
    from reconciliation_assets.resources_config import painel_access, reader_settings
    from resources.env import ConfigurationError

    try:
        storage, _ = reader_settings()
        access = painel_access()
    except ConfigurationError as erro:
        print(f"configuração inválida: {erro}", file=sys.stderr)  # noqa: T201
        return 2
    problem = login_problem(access.login, access.provedor)
    if problem:
        print(f"configuração inválida: {problem}", file=sys.stderr)  # noqa: T201
        return 2
    print(f"painel em http://{host}:{port} sobre {storage.output_uri}", flush=True)  # noqa: T201
    os.execv(sys.executable, streamlit_argv(host, port))
    return 0  # not reached: the process is now the server
