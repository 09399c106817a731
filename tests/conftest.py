import warnings

import pytest

# The shared fixtures: real servers (Postgres, S3) and receivers (webhook, SMTP), and the env fixture.
pytest_plugins = ["tests.servers", "tests.receivers", "tests.published_output"]

warnings.filterwarnings("ignore", message=".*is currently in (beta|preview).*")


@pytest.fixture(autouse=True)
def _no_recon_env(monkeypatch):
    """Tests start from the embedded default: no RECON_* or AWS_ENDPOINT_URL leaking in from the shell."""
    import os

    for name in list(os.environ):
        if name.startswith("RECON_") or name == "AWS_ENDPOINT_URL":
            monkeypatch.delenv(name, raising=False)
