"""lib.cache: keys, stored compute times and the hit/miss ledger behind "compute time from an empty cache"."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from lib import cache


@pytest.fixture
def fresh_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REPRO_CACHE", str(tmp_path))
    monkeypatch.setattr(cache, "_LEDGER", {"hits": 0, "misses": 0, "hits_untimed": 0})
    monkeypatch.setattr(cache, "_HIT_S", {})
    monkeypatch.setattr(cache, "_COMPUTED", set())
    monkeypatch.setattr(cache, "_ALL_HIT_S", [0.0])
    return tmp_path


def slow(value: int, seconds: float = 0.05):
    def compute() -> int:
        time.sleep(seconds)
        return value
    return compute


def test_a_hit_saves_the_recorded_compute_time(fresh_ledger: Path) -> None:
    assert cache.cached("s", {"a": 1}, slow(7)) == 7
    sidecar = next((fresh_ledger / "s").glob("*.json"))
    recorded = json.loads(sidecar.read_text())[cache.COMPUTE_S]
    assert recorded >= 0.05 and json.loads(sidecar.read_text())["a"] == 1
    assert cache.cached("s", {"a": 1}, slow(8)) == 7          # a hit returns the stored value
    assert cache.cached("s", {"a": 1}, slow(8)) == 7          # hit again: the same entry, saved once
    led = cache.ledger()
    assert (led["hits"], led["misses"], led["hits_untimed"]) == (2, 1, 0)
    assert led["saved_s"] == pytest.approx(recorded, abs=0.01) and list(led["hit_s"]) == [f"s/{sidecar.stem}"]
    assert led["computed"] == [f"s/{sidecar.stem}"]


def test_nested_hits_count_in_the_outer_entry_s_cost(fresh_ledger: Path) -> None:
    cache.cached("inner", {"i": 0}, slow(1, 0.2))
    outer = cache.cached("outer", {"o": 0}, lambda: cache.cached("inner", {"i": 0}, slow(2)) + 10)
    assert outer == 11
    recorded = json.loads(next((fresh_ledger / "outer").glob("*.json")).read_text())[cache.COMPUTE_S]
    assert recorded >= 0.2       # the inner entry's cost from an empty cache is part of the outer's


def test_entries_without_a_compute_time_are_counted_as_untimed(fresh_ledger: Path) -> None:
    cache.cached("s", {"a": 2}, slow(3, 0.0))
    sidecar = next((fresh_ledger / "s").glob("*.json"))
    spec = json.loads(sidecar.read_text())
    del spec[cache.COMPUTE_S]
    sidecar.write_text(json.dumps(spec))                       # as written before compute times existed
    cache.cached("s", {"a": 2}, slow(4, 0.0))
    assert cache.ledger()["hits_untimed"] == 1 and cache.ledger()["saved_s"] == 0.0


def test_the_code_digest_joins_the_key(fresh_ledger: Path) -> None:
    cache.cached("s", {"a": 3}, slow(5, 0.0), code=[cache])
    assert cache.cached("s", {"a": 3}, slow(6, 0.0)) == 6     # same spec, no code: another entry
    assert cache.ledger()["misses"] == 2


def test_the_thread_count_joins_the_key_unless_the_value_does_not_depend_on_it(fresh_ledger: Path) -> None:
    import torch

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        assert cache.cached("s", {"a": 1}, slow(1, 0.0)) == 1
        assert cache.cached("d", {"a": 1}, slow(10, 0.0), thread_dependent=False) == 10
        torch.set_num_threads(2)
        assert cache.cached("s", {"a": 1}, slow(2, 0.0)) == 2       # a 1-thread result is not served
        assert cache.cached("d", {"a": 1}, slow(20, 0.0), thread_dependent=False) == 10
        torch.set_num_threads(1)
        assert cache.cached("s", {"a": 1}, slow(3, 0.0)) == 1
    finally:
        torch.set_num_threads(before)
    assert cache.ledger()["misses"] == 3
