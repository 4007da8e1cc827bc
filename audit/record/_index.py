"""The run index's SQL tables, imported only when the index is used (so `govaudit --help` does not load SQLAlchemy).

`signoff` adds its ledger tables to the same `metadata`; `RunStore.engine` creates whatever is registered.
"""
from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table, Text

__all__ = ["metadata", "runs_table"]

metadata = MetaData()
runs_table = Table(
    "runs", metadata,
    Column("run_id", String(128), primary_key=True),
    Column("name", String(256)),
    Column("created_at", String(40)),
    Column("updated_at", String(40)),
    Column("status", String(20)),
    Column("stages", String(200)),
    Column("model", String(512)),
    Column("data", String(512)),
    Column("verdict", String(20)),
    Column("failed_checks", Integer),
    Column("record_sha256", String(64)),
    Column("summary", Text),
)
