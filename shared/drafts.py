"""The resident's saved draft: a partial response, checked field by field (never for
completeness), stored with an ETag so two family members editing at once cannot overwrite
each other silently."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec

from shared.errors import DraftChanged, PreconditionRequired, ValidationFailed
from shared.responses import (
    MAX_MEMBERS,
    Code,
    Departure,
    Name,
    departure_problems,
    latest_today,
    member_problems,
)
from shared.validation import Body, parse_json
from shared.vocabulary import (
    AddedBecause,
    Citizenship,
    Education,
    MaritalStatus,
    Relationship,
    Religion,
    Sex,
)


class DraftMember(Body, frozen=True, kw_only=True):
    """A member as far as filled in: every field of a submitted member, each optional."""

    nik: Code | None = None
    name: Name | None = None
    relationship: Relationship | None = None
    sex: Sex | None = None
    birth_date: date | None = None
    marital_status: MaritalStatus | None = None
    religion: Religion | None = None
    education: Education | None = None
    citizenship: Citizenship | None = None
    lives_at_kk_address: bool | None = None
    current_area_code: Code | None = None
    added_because: AddedBecause | None = None


class DraftBody(Body, frozen=True, kw_only=True):
    members: Annotated[list[DraftMember], msgspec.Meta(max_length=MAX_MEMBERS)] = msgspec.field(default_factory=list)
    departed: Annotated[list[Departure], msgspec.Meta(max_length=MAX_MEMBERS)] = msgspec.field(default_factory=list)


def parse_draft(body: str | bytes | None, now: datetime) -> DraftBody:
    """Shape (422 with paths) and per-field rules of each given field."""
    draft = parse_json(DraftBody, body)
    today: date = latest_today(now)
    problems = [
        problem
        for i, member in enumerate(draft.members)
        for problem in member_problems(member, f"members[{i}]", today, complete=False)
    ]
    problems += departure_problems(draft.departed, {m.nik for m in draft.members if m.nik is not None})
    if problems:
        raise ValidationFailed(problems)
    return draft


def format_etag(etag: str) -> str:
    return f'"{etag}"'


def next_etag(household_version: int, previous: str | None) -> str:
    """`<version>.<n>`: numbered within the household's current version, so a draft begun
    after a submission (which deletes the draft) never reuses an ETag someone still holds."""
    prefix = f"{household_version}."
    if previous is not None and previous.startswith(prefix) and previous[len(prefix) :].isdigit():
        return f"{prefix}{int(previous[len(prefix) :]) + 1}"
    return f"{prefix}1"


def expected_etag(if_match: str | None, stored: str | None) -> str | None:
    """The ETag the writer saw (None: they saw no draft), checked against the stored one.
    Absent If-Match over an existing draft is 428; a stale or unreadable one is 412."""
    if if_match is None:
        if stored is not None:
            raise PreconditionRequired()
        return None
    wanted = if_match.strip()
    if wanted == "*":
        if stored is None:
            raise DraftChanged()
        return stored
    tags = {tag.strip().removeprefix("W/").strip('"') for tag in wanted.split(",")}
    if stored is None or stored not in tags:
        raise DraftChanged()
    return stored
