"""Small files go to the parser workers in batches (engine.pool): a file that crashes its
worker, or outlasts its budget, in the middle of a batch costs that file only; the rest of the
batch is parsed by a fresh worker, each file answered exactly once."""
from __future__ import annotations

from maturity_scan.engine.pool import BATCH_FILES, Limits, run_isolated
from tests.test_pool import DEEP_HCL, TF, big_hcl


def test_a_crash_mid_batch_costs_one_file() -> None:
    tasks = [(f"a{i:02}.tf", TF.encode(), ("terraform",)) for i in range(5)]
    tasks.append(("b-deep.tf", DEEP_HCL.encode(), ("terraform",)))
    tasks += [(f"c{i:02}.tf", TF.encode(), ("terraform",)) for i in range(5)]
    assert len(tasks) < BATCH_FILES  # one batch for the one worker
    results = list(run_isolated(iter(tasks), frozenset(), 1))
    assert sorted(r.path for r in results) == sorted(t[0] for t in tasks)
    errors = {r.path: [e.message for e in r.errors] for r in results if r.errors}
    assert errors == {"b-deep.tf": ["the parser crashed (signal 6) (skipped)"]}
    assert all(r.found for r in results if r.path != "b-deep.tf")


def test_a_hard_kill_mid_batch_costs_one_file() -> None:
    tasks = [("a.tf", TF.encode(), ("terraform",)),
             ("b-big.tf", big_hcl(100_000).encode(), ("terraform",)),
             ("c.tf", TF.encode(), ("terraform",))]
    results = {r.path: r for r in run_isolated(iter(tasks), frozenset(), 1,
                                                Limits(seconds_per_file=0.5,
                                                       grace_seconds=0.2))}
    assert sorted(results) == ["a.tf", "b-big.tf", "c.tf"]
    assert [e.message for e in results["b-big.tf"].errors] == ["took longer than 0.5s (killed)"]
    assert results["a.tf"].found and results["c.tf"].found
    assert not results["a.tf"].errors and not results["c.tf"].errors
