"""Published population tables for the supervisors' console: a tabulation run (DuckDB
locally, Athena in AWS) stores each area's suppressed tables as small items, and the API
answers from them with one GetItem - the console never waits for a query engine."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from shared import analytics, store
from shared.areas import area_code_parameter
from shared.errors import FieldProblem, TableNotPublished, ValidationFailed
from shared.intake import iso_utc
from shared.officers import Caller, require_supervisor_of


def with_children(area: str, shaped: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One area's published table with its child areas' (by_area's result for `area`)."""
    own = shaped.get(area, {"rows": []})
    children = [{"area_code": code, **body} for code, body in sorted(shaped.items()) if code != area]
    return {**own, "children": children}


def publish(
    name: str, results: dict[str, dict[str, dict[str, Any]]], reference_date: str, now: datetime | None = None
) -> int:
    """Store tabulation results ({area: by_area's result for that area}), one item per
    area with its children's rows inside, so the route reads one item; the count stored."""
    at = iso_utc(now or datetime.now(UTC))
    tables = [
        store.PublishedTableRecord(
            area, name, json.dumps(with_children(area, shaped), separators=(",", ":")), reference_date, at
        )
        for area, shaped in results.items()
    ]
    store.save_published_tables(tables)
    return len(tables)


def table_for_supervisor(caller: Caller, area_code: str, table: str) -> dict[str, Any]:
    """A supervisor's published table for an area they cover."""
    area = area_code_parameter(area_code)
    if table not in analytics.TABLES:
        raise ValidationFailed(
            [FieldProblem("invalid_table", f"table must be one of: {', '.join(analytics.TABLES)}.", "table")]
        )
    require_supervisor_of(caller, area)
    stored = store.get_published_table(area, table)
    if stored is None:
        raise TableNotPublished()
    return {
        "area_code": area,
        "table": table,
        "reference_date": stored.reference_date,
        "published_at": stored.published_at,
        "suppression": {"min_cell": analytics.MIN_CELL, "rule": "docs/analytics.md#suppression"},
        **json.loads(stored.body),
    }
