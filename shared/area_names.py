"""Area names beside the codes in the supervisors' answers: one batch read of the master list
(`census import-areas`) for an area, the areas enclosing it and the codes the answer lists
(its child areas, SLS). Codes the list does not name are left out: the console shows the code."""

from __future__ import annotations

from collections.abc import Iterable

from shared import store
from shared.areas import ancestors


def names_for(area: str, codes: Iterable[str] = ()) -> dict[str, str]:
    """{code: name} for `area`, its enclosing areas (the breadcrumb) and `codes`."""
    return store.area_names({*ancestors(area), area, *codes})
