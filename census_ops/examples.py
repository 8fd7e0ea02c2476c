"""A complete census response made from a register household - its members confirmed as
they are, with plausible answers for what the register does not hold - for the local
service's example curl, the demo scenario and the smoke test."""

from __future__ import annotations

from typing import Any

from census_ops.register import RegisterHousehold


def example_submission(household: RegisterHousehold, respondent: int = -1) -> dict[str, Any]:
    return {
        "respondent_nik": household.members[respondent].nik,
        "members": [
            {
                "nik": m.nik,
                "name": m.name,
                "relationship": m.relationship,
                "sex": m.sex,
                "birth_date": m.birth_date.isoformat(),
                "marital_status": "married" if m.relationship in {"head", "spouse"} else "never_married",
                "religion": "islam",
                "education": "senior_secondary",
                "citizenship": "WNI",
                "lives_at_kk_address": True,
                "current_area_code": None,
            }
            for m in household.members
        ],
    }


def counted_twice(
    bodies: dict[str, dict[str, Any]], households: list[RegisterHousehold], *, pairs: int = 8, moved_out: int = 5
) -> None:
    """Demo data for the outputs' checks, in place: in `pairs` pairs of households the second
    also lists the first's last member (as a relative who moved in), so that person is
    counted twice; `moved_out` more households mark their last member as moved out, and
    nobody lists them."""
    usable = [h for h in households if len(h.members) > 1 and len(h.members) < 30]
    for first, second in zip(usable[:pairs], usable[pairs : 2 * pairs], strict=True):
        person = dict(bodies[first.kk]["members"][-1])
        person.update(relationship="other_relative", added_because="moved_in", marital_status="never_married")
        bodies[second.kk]["members"].append(person)
    for household in usable[2 * pairs : 2 * pairs + moved_out]:
        body = bodies[household.kk]
        gone = body["members"].pop()
        body["departed"] = [{"nik": gone["nik"], "reason": "moved_out"}]
