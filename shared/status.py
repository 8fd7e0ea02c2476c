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
    # What field work meets at addresses: the household is not there to count.
    ADDRESS_NOT_FOUND = "address_not_found"
    NOT_RESIDENTIAL = "not_residential"  # demolished, or not a dwelling
    DUPLICATE = "duplicate"  # the same household as another one on the register


# A visit finds nobody to count at the address: off the worklist, like `moved`.
ADDRESS_OUTCOMES = frozenset({Status.ADDRESS_NOT_FOUND, Status.NOT_RESIDENTIAL, Status.DUPLICATE})
_FIELD_OUTCOMES = frozenset({Status.INTERVIEWED, Status.NOT_HOME, Status.REFUSED, Status.MOVED}) | ADDRESS_OUTCOMES

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
    **{outcome: frozenset({Status.INTERVIEWED}) for outcome in ADDRESS_OUTCOMES},
}
# A household enrolled in the field (not on the register: reported, or found by an officer)
# starts as `interviewed`; like any other it may then sign in and correct its response online.
_ENROLLED_IN_FIELD: dict[Status, frozenset[Status]] = {Status.INTERVIEWED: frozenset({Status.SUBMITTED})}

# Statuses that keep a household on the field worklist (failed visits only while attempts remain).
NEEDS_VISIT = frozenset({Status.PENDING, Status.NEEDS_REVIEW, Status.NOT_HOME, Status.REFUSED})


def check_transition(current: Status, *path: Status, enrolled_in_field: bool = False) -> Status:
    """Walk `current` through `path` (e.g. submitted then clean) and return the final status."""
    for new in path:
        allowed = TRANSITIONS[current] | (_ENROLLED_IN_FIELD.get(current, frozenset()) if enrolled_in_field else set())
        if new not in allowed:
            raise InvalidTransition(f"A household in status '{current}' cannot move to '{new}'.")
        current = new
    return current
