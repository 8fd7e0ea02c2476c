"""DynamoDB's published capacity arithmetic, applied to the items an operation actually
read and wrote, so that DynamoDB Local's own accounting can be checked against it and the
minimum the item sizes allow can be stated beside what an operation costs.

Rules (AWS DynamoDB developer guide, "Read/write capacity mode" and "Item sizes"):
a standard write is one unit per 1 KB of item, the larger of the item before and after;
a transactional write two per 1 KB; a strongly consistent read one unit per 4 KB, an
eventually consistent read half that, a transactional read two; a Query adds the sizes of
every item it reads and rounds once; BatchGetItem rounds each item on its own; each
global secondary index an item is in costs a write of its projected entry (delete plus
put when the index key changes)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

KB = 1024
WRITE_UNIT_BYTES = 1 * KB
READ_UNIT_BYTES = 4 * KB


def _number_size(text: str) -> int:
    """A number's size: about one byte per two significant digits, plus one."""
    digits = str(Decimal(text).normalize()).lstrip("-").replace(".", "")
    if "E" in digits:
        digits = digits.split("E", 1)[0]
    digits = digits.strip("0") or "0"
    return (len(digits) + 1) // 2 + 1


def value_size(value: Mapping[str, Any]) -> int:
    """Bytes of one attribute value in DynamoDB's wire form ({"S": ...}, {"M": ...} ...)."""
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(str(inner).encode("utf-8"))
    if kind == "N":
        return _number_size(str(inner))
    if kind == "B":
        return len(inner)
    if kind in {"BOOL", "NULL"}:
        return 1
    if kind == "SS":
        return sum(len(str(s).encode("utf-8")) for s in inner)
    if kind == "NS":
        return sum(_number_size(str(n)) for n in inner)
    if kind == "BS":
        return sum(len(b) for b in inner)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode("utf-8")) + value_size(v) for k, v in inner.items())
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def item_size(item: Mapping[str, Mapping[str, Any]] | None) -> int:
    """Bytes of an item as DynamoDB counts them: attribute names plus values."""
    if not item:
        return 0
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


def write_units(size: int, *, transactional: bool = False) -> float:
    """Units to write an item of `size` bytes (0 for nothing written)."""
    if size <= 0:
        return 0.0
    units = float(math.ceil(size / WRITE_UNIT_BYTES))
    return 2 * units if transactional else units


def read_units(size: int, *, consistent: bool, transactional: bool = False) -> float:
    """Units to read `size` bytes once (a GetItem's item, or a Query's total)."""
    blocks = max(1, math.ceil(size / READ_UNIT_BYTES))
    if transactional:
        return 2.0 * blocks
    return float(blocks) if consistent else blocks / 2


@dataclass(frozen=True)
class Index:
    """A global secondary index: its keys and what it projects (None = ALL)."""

    name: str
    keys: tuple[str, ...]
    projected: frozenset[str] | None
    table_keys: tuple[str, ...] = ("pk", "sk")

    def entry(self, item: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """The item's entry in this index, or None when it lacks the index keys (sparse)."""
        if not item or not all(k in item for k in self.keys):
            return None
        if self.projected is None:
            return dict(item)
        wanted = set(self.keys) | set(self.table_keys) | self.projected
        return {k: v for k, v in item.items() if k in wanted}


def index_write_units(index: Index, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> float:
    """Write units an index is charged when an item goes from `before` to `after`."""
    old, new = index.entry(before), index.entry(after)
    if old is None and new is None:
        return 0.0
    if old is None:
        return write_units(item_size(new))
    if new is None:
        return write_units(item_size(old))
    if any(old.get(k) != new.get(k) for k in index.keys):
        return write_units(item_size(old)) + write_units(item_size(new))
    if old == new:
        return 0.0
    return write_units(max(item_size(old), item_size(new)))


@dataclass
class Charge:
    """One line of an operation's bill by the published rules."""

    request: str  # PutItem, TransactWriteItems, Query ...
    target: str  # the item or index charged, e.g. "V#", "META", "index needs_visit"
    size: int  # bytes that set the charge
    read_units: float = 0.0
    write_units: float = 0.0


@dataclass
class Bill:
    charges: list[Charge] = field(default_factory=list)

    @property
    def read_units(self) -> float:
        return sum(c.read_units for c in self.charges)

    @property
    def write_units(self) -> float:
        return sum(c.write_units for c in self.charges)


def item_label(key: Mapping[str, Any]) -> str:
    """A short, non-identifying name for an item: its partition prefix and sort-key kind
    (HH#/META, HH#/V#, RECEIPT#/RECEIPT ...), never the KK or receipt code itself."""
    pk = str(key.get("pk", {}).get("S", ""))
    sk = str(key.get("sk", {}).get("S", ""))
    prefix = pk.split("#", 1)[0] + "#" if "#" in pk else pk
    kind = sk.split("#", 1)[0] + ("#" if "#" in sk else "")
    if prefix in {"ASSIGN#", "PROGRESS#", "ROSTER#"}:
        kind = ""
    return f"{prefix}{'/' + kind if kind else ''}"


def write_charges(
    request: str,
    key: Mapping[str, Any],
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    indexes: Iterable[Index],
    *,
    transactional: bool,
) -> list[Charge]:
    """The table write and each index write for one item changed by a request."""
    label = item_label(key)
    size = max(item_size(before), item_size(after))
    charges = [Charge(request, label, size, write_units=write_units(max(size, 1), transactional=transactional))]
    for index in indexes:
        units = index_write_units(index, before, after)
        if units:
            entry = index.entry(after) or index.entry(before)
            charges.append(Charge(request, f"{label} -> index {index.name}", item_size(entry), write_units=units))
    return charges


def minimum_units(essential_writes: Iterable[int], essential_reads: Iterable[int]) -> tuple[float, float]:
    """(read, write) units of the least any design could spend: each essential item written
    once with a standard write, and the essential items read together, strongly consistent,
    in one request rounded once."""
    writes = sum(write_units(size) for size in essential_writes)
    read_sizes = list(essential_reads)
    reads = read_units(sum(read_sizes), consistent=True) if read_sizes else 0.0
    return reads, writes
