"""SnapStart's after-restore hook: registered with Lambda's runtime module when there is one
(a stand-in module here: `snapshot_restore_py` exists only in Lambda), nothing otherwise; and
what it does: fresh DynamoDB connections for every model, `random` re-seeded."""

from __future__ import annotations

import random
import sys
import types
from collections.abc import Callable

import pytest

from shared import snapstart
from shared.store.schema import MODELS


def test_without_lambdas_runtime_module_nothing_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "snapshot_restore_py", raising=False)
    assert snapstart.register() is False


def test_the_hook_is_registered_and_makes_fresh_connections(moto_table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    registered: list[Callable[[], None]] = []
    runtime = types.ModuleType("snapshot_restore_py")
    runtime.register_after_restore = registered.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", runtime)
    assert snapstart.register() is True
    assert registered == [snapstart.after_restore]

    before = {model: model._get_connection() for model in MODELS}
    random.seed(25)
    snapshot_draw = random.random()
    random.seed(25)  # the state every restored environment would start from
    registered[0]()
    assert all(model._get_connection() is not before[model] for model in MODELS)
    assert random.random() != snapshot_draw
