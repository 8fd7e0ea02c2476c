"""Lambda SnapStart (template parameter FunctionSnapStart): when a new environment resumes
from the snapshot taken after the imports, what was made for one environment must be made
again. Network clients: the DynamoDB connections (store.bind() gives every model a fresh
connection, so no socket of the snapshot's is reused). Randomness: `random`'s state is in the
snapshot, so every restored environment would draw the same retry jitter; it is re-seeded
(`secrets` and `uuid4` read the OS and need nothing).

Lambda's Python runtime provides `snapshot_restore_py`; it does not exist elsewhere (tests,
`census serve`), where register() does nothing."""

from __future__ import annotations

import random
from collections.abc import Callable

from shared import store
from shared.settings import settings


def after_restore() -> None:
    random.seed()
    store.bind(settings())


def register(after: Callable[[], None] = after_restore) -> bool:
    """Register the after-restore hook with Lambda's runtime; False where there is none."""
    try:
        from snapshot_restore_py import register_after_restore
    except ImportError:
        return False
    register_after_restore(after)
    return True
