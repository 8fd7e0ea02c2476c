"""The area master list by name (`AREAS#<parent>`, sort key the child's code): the lists a
resident picks their area from (province, regency, district, village, SLS) are one Query each."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from shared.areas import parent_area
from shared.store.faults import mapped_faults
from shared.store.records import AreaRecord
from shared.store.schema import AREAS_ROOT, AreaName, CensusItem, areas_pk


def _parent_of(pk: str) -> str | None:
    parent = pk.removeprefix(areas_pk(None).removesuffix(AREAS_ROOT))
    return None if parent == AREAS_ROOT else parent


@mapped_faults
def save_areas(areas: Sequence[AreaRecord]) -> None:
    """Put each entry (idempotent: the same content overwrites itself)."""
    with CensusItem.batch_write() as batch:
        for area in areas:
            batch.save(AreaName(areas_pk(area.parent), area.code, name=area.name))


@mapped_faults
def area_children(parent: str | None) -> list[AreaRecord]:
    """The entries under `parent` (None: the provinces), in code order."""
    return [
        AreaRecord(item.sk, item.name, _parent_of(item.pk))
        for item in AreaName.query(areas_pk(parent))
        if isinstance(item, AreaName)
    ]


@mapped_faults
def get_area(code: str, parent: str | None) -> AreaRecord | None:
    try:
        item = AreaName.get(areas_pk(parent), code)
    except AreaName.DoesNotExist:
        return None
    return AreaRecord(item.sk, item.name, parent)


@mapped_faults
def area_names(codes: Iterable[str]) -> dict[str, str]:
    """The names of `codes` (valid area codes) that the master list has, in one batch read
    (BatchGetItem, 100 keys a request): codes without an entry are left out."""
    keys = sorted({(areas_pk(parent_area(code)), code) for code in codes})
    return {item.sk: item.name for item in AreaName.batch_get(keys) if isinstance(item, AreaName)}
