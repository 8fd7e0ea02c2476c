"""Splitting the households that need a visit among the officers of an area.

Who may get a household
-----------------------
A household goes to an officer who covers its SLS whenever any officer does: officers are
given specific areas, and a worklist must not send one across town. Households of an SLS
that nobody covers are shared among all the officers. SLS with the same set of eligible
officers form a *pool*; pools are split one at a time, the most constrained (fewest
officers) first, so officers who may go almost anywhere take up what is left.

How a pool is split
-------------------
A pool has n households and m officers. With f = ceil(n/m), a fair share, let

    t = tolerance(n, m) = max(1, ceil(f/4))           about a quarter of a fair share
    B = balance_bound(n, m) = t + floor((n - t)/m)

Every split meets:

  (1) no officer gets more than B households;
  (2) the busiest officer has at most t households more than the quietest;
  (3) an SLS with at most t households is never split.

Two candidates are built; the one splitting fewer SLS wins, and on a tie the first.

  * The contiguous cut, kept only if it meets (1)-(3): the households, sorted by SLS code
    (neighbouring codes are neighbouring places), are cut into m consecutive runs. Each
    cut goes to the SLS boundary nearest the even cut among the positions that keep every
    run between H - t and H long, H = min(B, floor(n/m) + ceil(t/2)) (so a run can be as
    far below the average as above it), or, if there is none, inside an SLS at the
    allowed position nearest the even cut. Officers get neighbouring SLS, and at most
    m - 1 SLS are split.
  * Whole SLS, then repair: whole SLS go largest first to the least-loaded officer. Then,
    while the busiest officer holding some of the pool's households has more than t above
    the quietest, households move from the first to the second. The amount aimed at brings
    one of the two to the average, or failing that evens the pair out. A whole piece (the
    part of one SLS an officer holds) moves if one is smaller than the difference, the one
    nearest that amount; otherwise that amount is cut from a piece, in KK order.

Why the repaired split always meets (1)-(3)
-------------------------------------------
It stops: a move of d households with 0 < d < (difference of the two loads) lowers the sum
of the squared loads by 2d(difference - d) > 0, an integer that cannot fall for ever. (The
amount aimed at is at most half the difference and at least 1, as the difference is > t.)
A move exists: the busiest holds a piece; a piece of an SLS of at most t households has at
most t < difference households, so it can move whole; any piece at least as large as the
difference belongs to an SLS larger than t, which may be cut.
(3): SLS of at most t households are placed whole and only ever move whole.
(2): it is the stopping condition.
(1) follows from (2): if someone had B + 1 = t + q + 1 or more, q = floor((n - t)/m),
everyone would have at least q + 1, and the loads would add up to at least
m(q + 1) + t > (n - t) + t = n households, more than there are.

In plain words: everyone's load is within t of everyone else's, so within t of the average
n/m, where t is about a quarter of a fair share (and 1, i.e. as even as possible, when a
fair share is 4 or less); nobody gets more than B = balance_bound(n, m), which is less
than t above the average; and an SLS of at most t households stays with one officer. B
cannot be lowered while keeping (3): 62 households in 31 SLS of 2 for 10 officers give
t = 2 and B = 8, and someone must take 4 of those SLS.

Pools that share officers
-------------------------
When pools share officers (one officer covers a village, another one SLS in it), a pool
starts from the loads earlier pools gave, and t and B are computed from the pool's
households plus those loads. The repair moves only this pool's households, so it stops
once the busiest officer holding some of them is within t of the quietest; then, by the
same count, the pool's busiest officer has at most max(B, the busiest load before) and
the spread is at most max(t, the spread before). The bounds are exactly as above when no
officer is in two pools, which includes the usual rosters: everyone covers the whole area,
or everyone covers their own SLS or village.

The result does not depend on input order: visits, officers, SLS, pieces and ties are all
sorted (officers by id).
"""

from __future__ import annotations

import bisect
import heapq
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from shared.areas import LEVELS, is_within, validate_area_code
from shared.nik import InvalidIdentifier

_LEVEL_LENGTHS: tuple[int, ...] = tuple(sorted(LEVELS))
_SLS_LENGTH = 14

# Households start:end of a pool's sorted households, given to the pool's officer number k.
_Range = tuple[int, int, int]  # (k, start, end)


@dataclass(frozen=True)
class Visit:
    """A household needing a visit."""

    kk: str
    sls_code: str


@dataclass(frozen=True)
class FieldOfficer:
    officer_id: str
    areas: tuple[str, ...]


def covers(officer: FieldOfficer, sls_code: str) -> bool:
    """True if the SLS lies within one of the officer's areas."""
    return any(is_within(sls_code, area) for area in officer.areas)


def tolerance(n: int, m: int) -> int:
    """How far apart the busiest and quietest of m officers sharing n households may be;
    also the largest SLS that is never split. About a quarter of a fair share, at least 1."""
    if n < 0 or m < 1:
        raise ValueError("n must not be negative and m must be positive")
    fair = -(-n // m)
    return max(1, -(-fair // 4))


def balance_bound(n: int, m: int) -> int:
    """The most households any of m officers gets when n are split among them."""
    t = tolerance(n, m)
    return t + (n - t) // m


@dataclass
class _Piece:
    """Households start:end of one SLS (number sls in the pool), held by officer k."""

    k: int
    sls: int
    start: int
    end: int


class _Pool:
    """One pool's households as consecutive SLS runs, and its officers' loads so far."""

    def __init__(self, sizes: list[int], prior: list[int]) -> None:
        self.sizes = sizes
        self.prior = prior
        self.bounds = [0]
        for size in sizes:
            self.bounds.append(self.bounds[-1] + size)
        self.n = self.bounds[-1]
        self.m = len(prior)
        total = self.n + sum(prior)
        self.t = tolerance(total, self.m)
        self.top = max(max(prior), balance_bound(total, self.m))
        self.spread = max(max(prior) - min(prior), self.t)

    def split(self) -> list[_Range]:
        """The candidate splitting fewer SLS (see the module docstring)."""
        candidates: list[tuple[int, list[_Range]]] = []
        if len(set(self.prior)) == 1:
            contiguous = self._contiguous()
            splits = self._check(contiguous)
            if splits == 0:
                return contiguous
            if splits is not None:
                candidates.append((splits, contiguous))
        repaired = self._repaired()
        splits = self._check(repaired)
        if splits is None:
            raise AssertionError("the repaired split broke its proven bounds")
        candidates.append((splits, repaired))
        return min(candidates, key=lambda c: c[0])[1]

    def _contiguous(self) -> list[_Range]:
        n, m, bounds, t = self.n, self.m, self.bounds, self.t
        high_run = min(self.top - self.prior[0], n // m + -(-t // 2))
        low_run = max(0, high_run - t)
        cuts = [0]
        for k in range(1, m):
            # Any cut in [low, high] keeps this run and all later ones within [low_run, high_run].
            low = max(cuts[-1] + low_run, n - (m - k) * high_run)
            high = min(cuts[-1] + high_run, n - (m - k) * low_run)
            even = k * n // m
            x = min(max(even, low), high)
            i = bisect.bisect_right(bounds, x)
            near = [b for b in bounds[max(0, i - 1) : i + 1] if low <= b <= high]
            cuts.append(min(near, key=lambda b: (abs(b - even), b)) if near else x)
        cuts.append(n)
        return [(k, cuts[k], cuts[k + 1]) for k in range(m) if cuts[k] < cuts[k + 1]]

    def _repaired(self) -> list[_Range]:
        loads = list(self.prior)
        held: list[list[_Piece]] = [[] for _ in range(self.m)]
        heap = [(load, k) for k, load in enumerate(loads)]  # ties go to the lower officer id
        for i in sorted(range(len(self.sizes)), key=lambda i: (-self.sizes[i], i)):
            load, k = heapq.heappop(heap)
            held[k].append(_Piece(k, i, self.bounds[i], self.bounds[i + 1]))
            loads[k] += self.sizes[i]
            heapq.heappush(heap, (loads[k], k))

        total = sum(loads)
        # Heaps of (load, k) and (-load, k); entries whose load is out of date are skipped.
        quietest = [(load, k) for k, load in enumerate(loads)]
        busiest = [(-loads[k], k) for k in range(self.m) if held[k]]
        heapq.heapify(quietest)
        heapq.heapify(busiest)
        while busiest:
            minus, a = busiest[0]
            if -minus != loads[a] or not held[a]:
                heapq.heappop(busiest)
                continue
            load, b = quietest[0]
            if load != loads[b]:
                heapq.heappop(quietest)
                continue
            difference = loads[a] - loads[b]
            if difference <= self.t:
                break
            # Aim to bring one of the two to the average, or else to even the pair out.
            aim = min(loads[a] - -(-total // self.m), total // self.m - loads[b])
            moved = self._move(held, a, b, difference, aim if aim > 0 else difference // 2)
            loads[a] -= moved
            loads[b] += moved
            for k in (a, b):
                heapq.heappush(quietest, (loads[k], k))
                heapq.heappush(busiest, (-loads[k], k))
        return [(p.k, p.start, p.end) for pieces in held for p in pieces]

    def _move(self, held: list[list[_Piece]], a: int, b: int, difference: int, aim: int) -> int:
        """Move from officer a to officer b about `aim` but fewer than `difference` households
        (0 < aim <= difference / 2); returns how many."""
        whole = [p for p in held[a] if p.end - p.start < difference]
        if whole:
            piece = min(whole, key=lambda p: (abs(p.end - p.start - aim), p.sls, p.start))
            held[a].remove(piece)
            piece.k = b
            held[b].append(piece)
            return piece.end - piece.start
        # Every piece here is larger than t, so of an SLS that may be cut; prefer one b has some of.
        has = {p.sls for p in held[b]}
        piece = min(held[a], key=lambda p: (p.sls not in has, p.sls, p.start))
        held[b].append(_Piece(b, piece.sls, piece.end - aim, piece.end))
        piece.end -= aim
        return aim

    def _check(self, ranges: list[_Range]) -> int | None:
        """How many SLS the split divides, or None if it breaks (1), (2) or (3)."""
        loads = list(self.prior)
        owners: dict[int, set[int]] = defaultdict(set)
        for k, start, end in ranges:
            loads[k] += end - start
            first = bisect.bisect_right(self.bounds, start) - 1
            last = bisect.bisect_left(self.bounds, end) - 1
            for i in range(first, last + 1):
                owners[i].add(k)
        if max(loads) > self.top or max(loads) - min(loads) > self.spread:
            return None
        split = [i for i, who in owners.items() if len(who) > 1]
        if any(self.sizes[i] <= self.t for i in split):
            return None
        return len(split)


def _sls_of(code: str) -> str:
    validate_area_code(code)
    if len(code) < _SLS_LENGTH:
        raise InvalidIdentifier("invalid_area_code", "The area code is not valid: it names an area larger than an SLS.")
    return code


def split_worklist(visits: Sequence[Visit], officers: Sequence[FieldOfficer]) -> dict[str, list[Visit]]:
    """Each officer's households, sorted by (sls_code, kk); every officer appears.

    Raises ValueError with no officers for some visits, or an officer id given twice;
    InvalidIdentifier (a ValueError) for a malformed area or SLS code.
    """
    if not officers:
        if visits:
            raise ValueError("there are households to visit but no officers to give them to")
        return {}
    ids = sorted(officer.officer_id for officer in officers)
    if len(set(ids)) != len(ids):
        raise ValueError("an officer id is given more than once")
    covering: dict[str, set[str]] = defaultdict(set)
    for officer in officers:
        for area in officer.areas:
            covering[validate_area_code(area)].add(officer.officer_id)

    by_sls: dict[str, list[Visit]] = defaultdict(list)
    for visit in visits:
        by_sls[visit.sls_code].append(visit)
    pools: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for sls in sorted(by_sls):
        code = _sls_of(sls)
        # Area codes nest by prefix, so the officers covering an SLS are those of its prefixes.
        who: set[str] = set()
        for length in _LEVEL_LENGTHS:
            who |= covering.get(code[:length], set())
        pools[tuple(sorted(who)) or tuple(ids)].append(sls)

    loads = dict.fromkeys(ids, 0)
    result: dict[str, list[Visit]] = {officer_id: [] for officer_id in ids}
    for eligible in sorted(pools, key=lambda e: (len(e), e)):
        households = [v for sls in pools[eligible] for v in sorted(by_sls[sls], key=lambda v: v.kk)]
        pool = _Pool([len(by_sls[sls]) for sls in pools[eligible]], [loads[o] for o in eligible])
        for k, start, end in pool.split():
            result[eligible[k]].extend(households[start:end])
            loads[eligible[k]] += end - start
    for worklist in result.values():
        worklist.sort(key=lambda v: (v.sls_code, v.kk))
    return result


def sls_splits(result: dict[str, list[Visit]]) -> int:
    """How many SLS ended up with more than one officer."""
    owners: dict[str, set[str]] = defaultdict(set)
    for officer_id, worklist in result.items():
        for visit in worklist:
            owners[visit.sls_code].add(officer_id)
    return sum(len(who) > 1 for who in owners.values())


def summarize(result: dict[str, list[Visit]]) -> list[dict[str, object]]:
    """Per officer, by id: how many households and which SLS, for the API's summary."""
    return [
        {
            "officer_id": officer_id,
            "households": len(result[officer_id]),
            "sls": sorted({v.sls_code for v in result[officer_id]}),
        }
        for officer_id in sorted(result)
    ]
