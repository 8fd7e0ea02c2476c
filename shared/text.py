"""Small text rules shared by every input reader (register, roster, the census form)."""

from __future__ import annotations

from collections.abc import Sequence

# Invisible characters that change how text reads without showing: zero-width spaces and
# joiners, direction marks, embeddings, overrides and isolates (a name that displays as one
# thing and sorts or matches as another), and the byte-order mark.
_INVISIBLE = frozenset(
    "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
)


def has_control_characters(text: str) -> bool:
    """C0, DEL and C1 controls, the Unicode line breaks that split log and CSV lines, and
    invisible formatting characters."""
    return any(ord(ch) < 32 or 127 <= ord(ch) < 160 or ch in "\u2028\u2029" or ch in _INVISIBLE for ch in text)


def column_indexes(header: list[str], columns: Sequence[str], kind: str) -> dict[str, int]:
    """Column positions by name: any order, but exactly `columns` (Excel's BOM tolerated).
    The message never quotes line 1: a file without a header has personal data there."""
    names = [cell.strip().lstrip("\ufeff").strip() for cell in header]
    expected = ",".join(columns)
    missing = [c for c in columns if c not in names]
    if missing:
        raise ValueError(
            f"line 1 is not the {kind} header: missing column(s) {', '.join(missing)}; expected {expected}"
        )
    if len(names) != len(columns):
        extra = len(names) - len(set(columns) & set(names))
        raise ValueError(
            f"line 1 is not the {kind} header: {extra} unexpected or repeated column(s); expected {expected}"
        )
    return {name: names.index(name) for name in columns}


def name_problems(name: str, max_length: int) -> list[str]:
    """What is wrong with a person's name in a file row (never quoting it)."""
    problems = []
    if not name:
        problems.append("name is empty")
    elif len(name) > max_length:
        problems.append(f"name is longer than {max_length} characters")
    if has_control_characters(name):
        problems.append("name contains control or invisible characters")
    return problems
