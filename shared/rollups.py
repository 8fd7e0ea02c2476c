"""The rollup of the per-SLS progress counters into per-area figures for the large areas:
for every regency with households, its figures and each district's; for every province, its
figures and each regency's. One item per area (shared/store/rollups.py), rewritten by each
refresh unless a newer one is there: ProgressRollupFunction's `ProgressRollup` schedule every
ROLLUP_EVERY_SECONDS in AWS, `census serve`'s timer and `census rollup` locally. Reads each regency's counters with one
Query (as the daily snapshot does); writes ~550 small items nationally (one conditional put each), and nothing in the
submission's transaction (docs/decisions/0015-progress-rollups-of-large-areas.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared import store
from shared.nik import PROVINCE_CODES
from shared.observability import logger
from shared.progress import as_of_text, summed


def regency_rollup(regency: str, rows: list[store.ProgressRecord], as_of: str) -> store.RollupRecord:
    """A regency's figures and its districts' from its SLS counters."""
    districts: dict[str, list[store.ProgressRecord]] = {}
    for row in rows:
        districts.setdefault(row.sls_code[:7], []).append(row)
    children = {code: summed(r.counts for r in group) for code, group in sorted(districts.items())}
    sls = len({row.sls_code[:14] for row in rows})
    return store.RollupRecord(regency, as_of, sls, summed(children.values()), children)


def province_rollup(province: str, regencies: list[store.RollupRecord], as_of: str) -> store.RollupRecord:
    children = {r.area_code: r.figures for r in sorted(regencies, key=lambda r: r.area_code)}
    return store.RollupRecord(province, as_of, sum(r.sls for r in regencies), summed(children.values()), children)


def refresh_province(province: str, as_of: str) -> tuple[int, int, int]:
    """Roll up one province and its regencies: (areas, SLS, writes skipped because a newer
    rollup was there)."""
    regencies = [
        regency_rollup(regency, store.progress_counts(regency), as_of)
        for regency in store.regencies_with_households([province])
    ]
    if not regencies:
        return 0, 0, 0
    rollups = [*regencies, province_rollup(province, regencies, as_of)]
    return len(rollups), rollups[-1].sls, store.save_rollups(rollups)


def refresh_rollups(*, now: datetime | None = None) -> dict[str, Any]:
    """Rewrite the rollup of every regency with households and of its province, province by
    province (one Query per regency, one conditional put per area). Idempotent: a second
    refresh over the same counters leaves the same figures; an older refresh landing after a
    newer one leaves the newer. A province that fails is logged (its code and the error's
    type) and counted in `failed`, and the others are still refreshed: its last rollup stays,
    or goes stale and the route answers live."""
    as_of = as_of_text(now or datetime.now(UTC))
    areas = sls = skipped = 0
    failed: list[str] = []
    for province in PROVINCE_CODES:
        try:
            rolled, counted, refused = refresh_province(province, as_of)
        except Exception as error:  # one province's failure must not stop the others
            logger.warning(
                "progress rollup of a province failed", extra={"province": province, "error_type": type(error).__name__}
            )
            failed.append(province)
            continue
        areas, sls, skipped = areas + rolled, sls + counted, skipped + refused
    return {
        "as_of": as_of,
        "areas": areas,
        "sls": sls,
        "skipped": skipped,
        "failed": len(failed),
        "failed_provinces": failed,
    }
