"""Who is calling an officer route, and what they may touch. The authorizer (Cognito in
production, a locally signed token locally) vouches for the identity and role in the
claims; the roster says which areas the officer covers. Handlers never trust a path
parameter for rights: every area and household is checked against the roster here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared import store
from shared.areas import is_within
from shared.errors import Forbidden, NotOnRoster, SupervisorOnly, Unauthorized

OFFICER, SUPERVISOR = "officer", "supervisor"


@dataclass(frozen=True)
class Caller:
    officer_id: str
    roles: frozenset[str]
    areas: tuple[str, ...]

    def covers(self, area_or_sls: str) -> bool:
        return any(is_within(area_or_sls, area) for area in self.areas)


def _groups(raw: str) -> frozenset[str]:
    """`cognito:groups` reaches a REST API as a string: "officer" or "[officer supervisor]"."""
    return frozenset(part for part in raw.strip("[]").replace(",", " ").split() if part)


def identify(claims: Mapping[str, str] | None) -> Caller:
    """The caller from the authorizer's claims plus their roster entry."""
    officer_id = (claims or {}).get("cognito:username", "")
    roles = _groups((claims or {}).get("cognito:groups", "")) & {OFFICER, SUPERVISOR}
    if not officer_id or not roles:
        raise Unauthorized()
    profile = store.get_officer(officer_id)
    if profile is None:
        raise NotOnRoster()
    return Caller(officer_id, roles, profile.areas)


def require_supervisor_of(caller: Caller, area: str) -> None:
    if SUPERVISOR not in caller.roles:
        raise SupervisorOnly()
    if not caller.covers(area):
        raise Forbidden()
