"""The daily partitions: one per reference date, in São Paulo time, today included."""

from __future__ import annotations

import os

import dagster as dg

from reconciliation_assets.contract import TIMEZONE

__all__ = ["TIMEZONE", "daily_partitions"]

# Partitions are part of the definitions' shape, so they are read when the code location loads.
# end_offset=1 adds today's partition: a file for today must map to one (DAGSTER_NOTES item 3).
daily_partitions = dg.DailyPartitionsDefinition(
    start_date=os.environ.get("RECON_PARTITIONS_START") or "2024-01-01",
    timezone=TIMEZONE,
    end_offset=1,
)
