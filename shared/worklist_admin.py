"""A supervisor's view of an area's worklists - each officer's load and how much of it is
done - and reassignment of an SLS or a household from one officer to another."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from shared import audit, store
from shared.area_names import names_for
from shared.areas import area_code_parameter, is_within
from shared.errors import FieldProblem, Forbidden, NothingToReassign, ValidationFailed, WorklistsChanged
from shared.household_access import validate_kk
from shared.intake import iso_utc
from shared.officers import OFFICER, Caller, require_supervisor_of
from shared.validation import Body, Invalid, parse_json, trimmed
from shared.worklists import REASONS, villages_of

_Id = Annotated[str, trimmed(1, 64, r"^[A-Za-z0-9_.\-]+$")]
_Code = Annotated[str, trimmed(1, 32)]


class ReassignRequest(Body, frozen=True, kw_only=True):
    to_officer: _Id
    from_officer: _Id | None = None
    sls_code: _Code | None = None
    kk: _Code | None = None

    def check(self) -> None:
        if (self.sls_code is None) == (self.kk is None):
            raise Invalid("give either sls_code or kk")


def _assignments_within(area: str) -> list[store.AssignmentRecord]:
    return [a for village in villages_of(area) for a in store.area_assignments(village) if a.sls_code.startswith(area)]


def officer_loads(caller: Caller, area: str) -> dict[str, Any]:
    """Each officer's households in the area and how many are done (no visit needed any more)."""
    area = area_code_parameter(area)
    if len(area) < 4:
        raise ValidationFailed([FieldProblem("area_too_large", "Open a regency or anything inside it.", "area_code")])
    require_supervisor_of(caller, area)
    assignments = _assignments_within(area)
    states = store.worklist_live_status(assignments) if assignments else {}
    officers: dict[str, dict[str, Any]] = {}
    for a in assignments:
        state = states.get(a.kk)
        done = state is not None and state.status not in REASONS
        row = officers.setdefault(a.officer_id, {"officer_id": a.officer_id, "households": 0, "done": 0, "sls": {}})
        row["households"] += 1
        row["done"] += done
        sls = row["sls"].setdefault(a.sls_code, {"sls_code": a.sls_code, "households": 0, "done": 0})
        sls["households"] += 1
        sls["done"] += done
    generation = store.last_generation(area)
    rows = [
        {**row, "sls": sorted(row["sls"].values(), key=lambda s: s["sls_code"])} for _, row in sorted(officers.items())
    ]
    return {
        "area_code": area,
        "generated_at": generation.generated_at
        if generation
        else (max((a.generated_at for a in assignments), default=None)),
        "generated_by": generation.generated_by if generation else None,
        "households": len(assignments),
        "done": sum(r["done"] for r in rows),
        "officers": rows,
        "area_names": names_for(area, {a.sls_code for a in assignments}),
    }


def reassign(caller: Caller, area: str, body: str | bytes | None, *, now: datetime | None = None) -> dict[str, Any]:
    """Move an SLS's (or one household's) assignments to another officer of the area."""
    area = area_code_parameter(area)
    require_supervisor_of(caller, area)
    request = parse_json(ReassignRequest, body)
    target = store.get_officer(request.to_officer)
    covers = target is not None and any(is_within(str(a), area) or is_within(area, str(a)) for a in target.areas)
    if target is None or target.role != OFFICER or not covers:
        raise ValidationFailed(
            [FieldProblem("unknown_officer", "to_officer must be an officer on the roster of this area.", "to_officer")]
        )
    if request.sls_code is not None:
        sls = area_code_parameter(request.sls_code, "sls_code")
        if len(sls) != 14:
            raise ValidationFailed(
                [FieldProblem("invalid_area_code", "sls_code must be a 14-digit SLS code.", "sls_code")]
            )
        if not sls.startswith(area):
            raise Forbidden()
        found = [a for a in store.area_assignments(sls[:10]) if a.sls_code == sls]
        where = sls
    else:
        kk = validate_kk(str(request.kk))
        household = store.load_household(kk)
        if household is None or not household.register.sls_code.startswith(area):
            raise Forbidden()
        assignment = store.get_assignment(household.register.sls_code, kk)
        found = [assignment] if assignment is not None else []
        where = household.register.sls_code
    moves = [
        a
        for a in found
        if a.officer_id != request.to_officer and (request.from_officer is None or a.officer_id == request.from_officer)
    ]
    if not moves:
        raise NothingToReassign()
    at = iso_utc(now or datetime.now(UTC))
    for start in range(0, len(moves), store.CHUNK):
        chunk = moves[start : start + store.CHUNK]
        froms = sorted({a.officer_id for a in chunk})
        record = audit.record(
            audit.WORKLIST_REASSIGNED,
            caller.officer_id,
            where,
            at,
            kk=request.kk and chunk[0].kk,
            to_officer=request.to_officer,
            from_officer=froms[0] if len(froms) == 1 else "several",
            households=len(chunk),
        )
        try:
            store.move_assignments(chunk, request.to_officer, record)
        except store.AssignmentMoved:
            raise WorklistsChanged() from None
    return {
        "area_code": area,
        "to_officer": request.to_officer,
        "moved": len(moves),
        "households": [a.kk for a in moves],
    }
