"""The household status state machine of the brief, in one place: every write that moves a
status checks its transition here and makes the database enforce it with a condition."""

from __future__ import annotations

from enum import StrEnum

from shared.errors import InvalidTransition


class Status(StrEnum):
    PENDING = "pending"  # on the register, no response yet
    SUBMITTED = "submitted"  # a response is stored, checks not yet applied
    CLEAN = "clean"  # passes every consistency check
    NEEDS_REVIEW = "needs_review"  # stored, but a check flagged it for a person to look at
    INTERVIEWED = "interviewed"  # an officer recorded the response in the field
    NOT_HOME = "not_home"  # failed visits: stay on the worklist while attempts are left
    REFUSED = "refused"
    MOVED = "moved"


_FIELD_OUTCOMES = frozenset({Status.INTERVIEWED, Status.NOT_HOME, Status.REFUSED, Status.MOVED})

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.PENDING: frozenset({Status.SUBMITTED}) | _FIELD_OUTCOMES,
    Status.SUBMITTED: frozenset({Status.CLEAN, Status.NEEDS_REVIEW}),
    # A correction goes back through `submitted`; a clean household is not visited unless
    # a later check (a person counted in two households, shared.review_flags) flags it.
    Status.CLEAN: frozenset({Status.SUBMITTED, Status.NEEDS_REVIEW}),
    Status.NEEDS_REVIEW: frozenset({Status.SUBMITTED}) | _FIELD_OUTCOMES,
    Status.NOT_HOME: frozenset({Status.SUBMITTED}) | _FIELD_OUTCOMES,
    Status.REFUSED: frozenset({Status.SUBMITTED}) | _FIELD_OUTCOMES,
    Status.INTERVIEWED: frozenset({Status.INTERVIEWED}),
    Status.MOVED: frozenset({Status.INTERVIEWED}),
}

# Statuses that keep a household on the field worklist (failed visits only while attempts remain).
NEEDS_VISIT = frozenset({Status.PENDING, Status.NEEDS_REVIEW, Status.NOT_HOME, Status.REFUSED})


def check_transition(current: Status, *path: Status) -> Status:
    """Walk `current` through `path` (e.g. submitted then clean) and return the final status."""
    for new in path:
        if new not in TRANSITIONS[current]:
            raise InvalidTransition(f"A household in status '{current}' cannot move to '{new}'.")
        current = new
    return current
