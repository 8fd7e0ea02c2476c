"""Area names beside the codes in the supervisors' answers: a batch read of the master list
(`census import-areas`; BatchGetItem, 100 keys a request) for an area, the areas enclosing it
and the codes the answer lists (its child areas, SLS). Codes the list does not name are left
out: the console shows the code. Names are cosmetic: if the read fails the answer carries none
(the route still answers)."""

from __future__ import annotations

from collections.abc import Iterable

from shared import store
from shared.areas import ancestors
from shared.observability import logger


def names_for(area: str, codes: Iterable[str] = ()) -> dict[str, str]:
    """{code: name} for `area`, its enclosing areas (the breadcrumb) and `codes`; {} when the
    store fails to answer."""
    try:
        return store.area_names({*ancestors(area), area, *codes})
    except Exception as error:  # names are cosmetic: never fail the route for them
        logger.warning("area names unavailable", extra={"area_code": area, "error_type": type(error).__name__})
        return {}
