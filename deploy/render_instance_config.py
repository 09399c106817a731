"""Write ``$DAGSTER_HOME/dagster.yaml`` from ``deploy/dagster.production.yaml`` plus ``RECON_*`` overrides.

Dagster reads ``{env: VAR}`` only in some instance fields (the Postgres URL is one of them); run
monitoring, run retries and the run queue take plain numbers. This script is the one place that
maps environment variables onto those fields, validates them (a typo fails the start-up instead of
silently keeping a default) and writes the instance file. It never resolves ``{env: …}``
references, so the storage password stays in the environment, not on disk.

    python deploy/render_instance_config.py --out "$DAGSTER_HOME/dagster.yaml"
    python deploy/render_instance_config.py --list      # the variables, their defaults and fields
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

TEMPLATE = Path(__file__).with_name("dagster.production.yaml")


@dataclass(frozen=True)
class Setting:
    env: str
    path: tuple[str | tuple[str, str], ...]  # a ("key", value) step picks a list item by its key
    kind: type
    minimum: int = 0
    help: str = ""


SETTINGS = (
    Setting(
        "RECON_MAX_CONCURRENT_RUNS",
        ("concurrency", "runs", "max_concurrent_runs"),
        int,
        -1,
        "runs in progress at once (-1: no limit)",
    ),
    Setting(
        "RECON_RUNS_PER_DATE",
        ("concurrency", "runs", "tag_concurrency_limits", ("key", "dagster/partition"), "limit"),
        int,
        1,
        "runs of the same date at once (keep 1: they share the date's work folder)",
    ),
    Setting(
        "RECON_POOL_DEFAULT_LIMIT",
        ("concurrency", "pools", "default_limit"),
        int,
        1,
        "steps of one pool at once (pool base_interna: extractions from the internal base)",
    ),
    Setting(
        "RECON_RUN_MONITORING_ENABLED",
        ("run_monitoring", "enabled"),
        bool,
        0,
        "the daemon watches runs (needed for dagster/max_runtime)",
    ),
    Setting(
        "RECON_RUN_MONITORING_POLL_SECONDS",
        ("run_monitoring", "poll_interval_seconds"),
        int,
        1,
        "how often runs are checked; a timeout is enforced up to this late",
    ),
    Setting(
        "RECON_RUN_START_TIMEOUT_SECONDS",
        ("run_monitoring", "start_timeout_seconds"),
        int,
        1,
        "a run that has not started by then is marked failed",
    ),
    Setting(
        "RECON_RUN_CANCEL_TIMEOUT_SECONDS",
        ("run_monitoring", "cancel_timeout_seconds"),
        int,
        1,
        "a run still cancelling after this is marked canceled",
    ),
    Setting(
        "RECON_RUN_MAX_RUNTIME_SECONDS",
        ("run_monitoring", "max_runtime_seconds"),
        int,
        0,
        "default run time limit (daily_reconciliation sets its own 1200 s tag)",
    ),
    Setting(
        "RECON_FREE_SLOTS_AFTER_RUN_END_SECONDS",
        ("run_monitoring", "free_slots_after_run_end_seconds"),
        int,
        0,
        "free the pool slots a dead run still holds this long after it ended (0: never)",
    ),
    Setting("RECON_RUN_RETRIES_ENABLED", ("run_retries", "enabled"), bool, 0, "retry failed runs"),
    Setting("RECON_RUN_MAX_RETRIES", ("run_retries", "max_retries"), int, 0, "retries per failed run"),
    Setting(
        "RECON_RUN_RETRY_ON_STEP_FAILURE",
        ("run_retries", "retry_on_asset_or_op_failure"),
        bool,
        0,
        "also retry runs whose steps failed (default: only crashed run workers)",
    ),
)

_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}


class ConfigError(ValueError):
    """An environment variable does not hold a valid value for its field."""


def _parse(setting: Setting, raw: str) -> int | bool:
    text = raw.strip().lower()
    if setting.kind is bool:
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ConfigError(f"{setting.env}={raw!r}: use true ou false")
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{setting.env}={raw!r}: use um número inteiro") from None
    if value < setting.minimum:
        raise ConfigError(f"{setting.env}={raw!r}: deve ser >= {setting.minimum}")
    return value


def _parent(document: dict[str, Any], setting: Setting) -> tuple[Any, str]:
    node: Any = document
    for step in setting.path[:-1]:
        if isinstance(step, tuple):
            key, wanted = step
            node = next(item for item in node if item.get(key) == wanted)
        else:
            node = node[step]
    last = setting.path[-1]
    assert isinstance(last, str)
    return node, last


def render(environ: Mapping[str, str], template: Path = TEMPLATE) -> dict[str, Any]:
    """The instance configuration: the template's values, overridden by the variables that are set."""
    document = yaml.safe_load(template.read_text(encoding="utf-8"))
    for setting in SETTINGS:
        raw = environ.get(setting.env)
        if raw is None or raw == "":
            continue
        node, key = _parent(document, setting)
        node[key] = _parse(setting, raw)
    return document


def defaults(template: Path = TEMPLATE) -> dict[str, Any]:
    document = yaml.safe_load(template.read_text(encoding="utf-8"))
    out = {}
    for setting in SETTINGS:
        node, key = _parent(document, setting)
        out[setting.env] = node[key]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--template", type=Path, default=TEMPLATE)
    parser.add_argument(
        "--out", type=Path, help="where to write dagster.yaml (usually $DAGSTER_HOME/dagster.yaml)"
    )
    parser.add_argument("--list", action="store_true", help="print the variables and their defaults")
    args = parser.parse_args(argv)
    if args.list:
        current = defaults(args.template)
        for setting in SETTINGS:
            value = current[setting.env]
            shown = str(value).lower() if isinstance(value, bool) else value
            sys.stdout.write(f"{setting.env}={shown}  # {setting.help}\n")
        return 0
    if not args.out:
        parser.error("--out is required (or --list)")
    try:
        document = render(os.environ, args.template)
    except ConfigError as exc:
        sys.stderr.write(f"erro: {exc}\n")
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".tmp")
    header = f"# Generated from {args.template.name} by deploy/render_instance_config.py; do not edit.\n"
    tmp.write_text(header + yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    os.replace(tmp, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
