"""The process that runs the divergences' contract suite for a small day (checks/quality.py).

Started when the day's files are staged, it imports Great Expectations while the chain runs, then
reads one request (a JSON line: the divergences file, the summary's numbers, the run id, the engine
settings, the sample size) and answers one JSON line with ``contract_outcome``'s result, or an error
(the caller then runs the suite itself). It exits when its input closes, so it never outlives the run.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path


def main() -> None:
    # Whatever a library prints goes to stderr: stdout carries only the one answer line.
    answer_to, sys.stdout = sys.stdout, sys.stderr
    from checks import quality
    from reconciliation_assets.engine.sql_models import EngineSettings

    # The import and a first context: the fixed cost, paid ahead. If it fails, the request fails
    # too and the caller runs the suite itself.
    with contextlib.suppress(Exception):
        quality._ge_context()
    line = sys.stdin.readline()
    if not line:
        return
    try:
        request = json.loads(line)
        outcome = quality.contract_outcome(
            Path(request["divergencias"]),
            request["resumo"],
            request["job_id"],
            EngineSettings(**request["engine"]),
            int(request["sample_rows"]),
        )
        answer = json.dumps(outcome, default=str)
    except Exception as exc:  # noqa: BLE001 - reported to the caller, which runs the suite itself
        answer = json.dumps({"erro": repr(exc)})
    answer_to.write(answer + "\n")
    answer_to.flush()


if __name__ == "__main__":
    main()
