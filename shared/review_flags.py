"""Review flags raised by the outputs' checks. A person in the latest responses of two
households marks both `needs_review` with the reason `person_in_other_household`, through
the state machine like any status change: a clean household moves to needs_review (and
onto the field worklist, as every needs_review household does), conditional on the
version the check saw, so exactly once (the SLS counters and the receipt follow from the
table's stream: shared/progress_stream.py); a household already under review, or
interviewed, keeps its status and gets the flag. The same flag (reason, other household, version) twice is a no-op.

The flag names the other KK for supervisors (shared.fieldwork shows it); no resident route
reads flags."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from shared import store
from shared.intake import iso_utc
from shared.status import NEEDS_VISIT, InvalidTransition, Status, check_transition

PERSON_IN_OTHER_HOUSEHOLD = "person_in_other_household"


def flag_household(
    kk: str,
    *,
    seen_version: int,
    other_kk: str,
    nik: str,
    reason: str = PERSON_IN_OTHER_HOUSEHOLD,
    flagged_by: str = "check-duplicates",
    now: datetime | None = None,
) -> str:
    """Flag one household; returns what happened: `flagged` (moved to needs_review),
    `reason_added` (flag recorded, status kept), `already_flagged`, or `changed_since`
    (a newer version or status than the check saw: the next run decides)."""
    household = store.load_household(kk)
    if household is None:
        return "changed_since"
    state = household.state
    if int(state.version) != seen_version:
        return "changed_since"
    current = Status(state.status)
    try:
        new = check_transition(current, Status.NEEDS_REVIEW) if current != Status.NEEDS_REVIEW else current
    except InvalidTransition:
        new = current  # interviewed and field outcomes keep their status; the flag is recorded
    on_worklist = new in NEEDS_VISIT
    sls = household.register.sls_code
    change = store.FlagChange(
        flag=store.ReviewFlagRecord(
            kk=kk,
            reason=reason,
            other_kk=other_kk,
            version=seen_version,
            nik=nik,
            flagged_at=iso_utc(now or datetime.now(UTC)),
            flagged_by=flagged_by,
        ),
        sls_code=sls,
        expected_status=current.value,
        status=new.value,
        visit_keys=store.visit_keys(sls, kk) if on_worklist and new != current else None,
    )
    try:
        store.save_review_flag(change)
    except store.FlagExists:
        return "already_flagged"
    except store.HouseholdChanged:
        return "changed_since"
    return "reason_added" if new == current else "flagged"


def flag_duplicates(rows: Iterable[Mapping[str, Any]], now: datetime | None = None) -> dict[str, int]:
    """Flag every household of the duplicates check's rows (nik, kk, version, other_kk)."""
    summary = {"flagged": 0, "reason_added": 0, "already_flagged": 0, "changed_since": 0}
    for row in rows:
        outcome = flag_household(
            str(row["kk"]),
            seen_version=int(row["version"]),
            other_kk=str(row["other_kk"]),
            nik=str(row["nik"]),
            now=now,
        )
        summary[outcome] += 1
    return summary
