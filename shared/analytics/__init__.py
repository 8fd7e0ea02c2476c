"""The census outputs' SQL, written once and run by two engines: DuckDB locally (census_ops)
and Athena in AWS (the analytics function). The files in `sql/` are the only copies; this
module loads them by name and fills their named placeholders (`$area`, `$min_cell`, ...)
with values it has validated itself (digits, a date, a small integer), never with text
a caller passed through unchecked. No engine is imported here: the layer ships this module
and its SQL, never DuckDB.

- Tabulations (TABLES) return `area_code, row_label, column_label, n` for an area and its
  child areas; `published()` wraps one in the small-cell suppression of `suppress.sql`.
- Checks (CHECKS) list people counted twice and people who moved out and were found nowhere.
- Exports (EXPORTS) flatten the table's DynamoDB-JSON export into the Parquet layout's
  three tables (docs/analytics.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from functools import cache
from pathlib import Path
from string import Template
from typing import Any

from shared.areas import validate_area_code

SQL_DIR = Path(__file__).parent / "sql"
TABLES = ("pyramid", "household_size", "relationship", "response_channel")
CHECKS = ("duplicates", "moved_out_not_found")
EXPORTS = ("person", "household", "departed")
# A published cell counting 1 to MIN_CELL - 1 is suppressed (suppress.sql states the rule).
MIN_CELL = 5
# Areas a tabulation is asked for, by code length, and their child areas' code length.
# "" is the whole country (its children are the provinces).
CHILD_LENGTH = {0: 2, 2: 4, 4: 7, 7: 10, 10: 14}
_EXPORT_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
RESPONDED = ("online", "interview", "enrolled_in_field")

# Display order of each table's rows (SQL sorts labels as text).
AGE_GROUPS = (*(f"{a}-{a + 4}" for a in range(0, 75, 5)), "75+")
ROW_ORDER: dict[str, tuple[str, ...]] = {
    "pyramid": AGE_GROUPS,
    "household_size": (*(str(n) for n in range(1, 10)), "10+"),
    "relationship": (
        "head",
        "spouse",
        "child",
        "child_in_law",
        "grandchild",
        "parent",
        "parent_in_law",
        "other_relative",
        "household_help",
        "other",
    ),
    "response_channel": ("online", "interview", "enrolled_in_field", "not_responded", "registered"),
}


class UnknownQuery(ValueError):
    """No SQL file of that name."""


@cache
def load(name: str) -> str:
    """The text of `sql/<name>.sql` (`export/<name>` for the exports)."""
    path = (SQL_DIR / f"{name}.sql").resolve()
    if SQL_DIR.resolve() not in path.parents or not path.is_file():
        raise UnknownQuery(f"no SQL named {name!r}")
    return path.read_text(encoding="utf-8")


def area_prefix(area: str | None) -> str:
    """A validated area code a tabulation can be asked for ("" or None: the whole country)."""
    if not area:
        return ""
    validate_area_code(area)
    if len(area) not in CHILD_LENGTH:
        raise ValueError("tabulations are by country, province, regency, district or village (SLS are children)")
    return area


def _fill(text: str, values: Mapping[str, str]) -> str:
    return Template(text).substitute(values)


def _min_cell(value: int) -> str:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 100:
        raise ValueError("the suppression threshold is a whole number from 1 to 100")
    return str(value)


def tabulation(name: str, area: str | None) -> str:
    """The table's cells, unsuppressed: for checking figures, never for publishing."""
    if name not in TABLES:
        raise UnknownQuery(f"no table named {name!r}; tables: {', '.join(TABLES)}")
    prefix = area_prefix(area)
    return _fill(load(name), {"area": prefix, "child_length": str(CHILD_LENGTH[len(prefix)])}).strip().rstrip(";")


def published(name: str, area: str | None, min_cell: int = MIN_CELL) -> str:
    """The table with small cells suppressed: what the console and the CLI show."""
    cells = tabulation(name, area)
    return _fill(load("suppress"), {"cells": cells, "area": area_prefix(area), "min_cell": _min_cell(min_cell)})


def check(name: str, area: str | None = None) -> str:
    if name not in CHECKS:
        raise UnknownQuery(f"no check named {name!r}; checks: {', '.join(CHECKS)}")
    return _fill(load(name), {"area": area_prefix(area)})


def export_select(name: str, *, export_id: str, reference_date: date | str) -> str:
    """The SELECT that flattens a DynamoDB-JSON export (`dynamodb_export`) into one of the
    Parquet tables; its last column, `regency`, is the partition."""
    if name not in EXPORTS:
        raise UnknownQuery(f"no export named {name!r}; exports: {', '.join(EXPORTS)}")
    if not _EXPORT_ID.fullmatch(export_id):
        raise ValueError("an export id is 1-64 letters, digits and hyphens")
    day = reference_date if isinstance(reference_date, date) else date.fromisoformat(reference_date)
    return _fill(load(f"export/{name}"), {"export_id": export_id, "reference_date": day.isoformat()})


def all_queries(area: str = "1671") -> dict[str, str]:
    """Every query with sample parameters: what the dialect tests parse."""
    queries = {f"tabulation:{n}": tabulation(n, area) for n in TABLES}
    queries |= {f"published:{n}": published(n, area) for n in TABLES}
    queries |= {f"check:{n}": check(n, area) for n in CHECKS}
    queries |= {
        f"export:{n}": export_select(n, export_id="01700000000000-abcdef12", reference_date="2026-07-01")
        for n in EXPORTS
    }
    return queries


# ---------------------------------------------------------------- shaping results


def by_area(name: str, rows: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Published rows (area_code, row_label, column_label, n, suppressed) grouped per area
    into the shape the API and the CLI show: {"rows": [{"label", "<column>": n|None}], ...}."""
    areas: dict[str, dict[str, dict[str, Any]]] = {}
    for row in rows:
        cells = areas.setdefault(str(row["area_code"]), {})
        cell = cells.setdefault(str(row["row_label"]), {"label": str(row["row_label"])})
        cell[str(row["column_label"])] = None if row.get("suppressed") else _int_or_none(row["n"])
    order = {label: i for i, label in enumerate(ROW_ORDER[name])}
    shaped: dict[str, dict[str, Any]] = {}
    for area, cells in areas.items():
        ordered = sorted(cells.values(), key=lambda c: (order.get(c["label"], len(order)), c["label"]))
        shaped[area] = {"rows": ordered}
        if name == "response_channel":
            shaped[area]["response_rate"] = response_rate(ordered)
    return shaped


def response_rate(rows: Iterable[Mapping[str, Any]]) -> float | None:
    """(online + interview + enrolled in the field) / registered households, to 4 places:
    from the not-responded count if it is published, else from the three channels; None
    when neither way is published."""
    counts = {row["label"]: row.get("households") for row in rows}
    registered = counts.get("registered")
    if not registered:
        return None
    not_responded = counts.get("not_responded", 0)  # absent: zero
    if not_responded is not None:
        return round((int(registered) - int(not_responded)) / int(registered), 4)
    parts = [counts.get(label, 0) for label in RESPONDED]
    if any(part is None for part in parts):
        return None
    return round(sum(int(p or 0) for p in parts) / int(registered), 4)


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)
