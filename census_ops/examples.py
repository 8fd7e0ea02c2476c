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
