"""--shard I/N splits the plan deterministically; `conformance merge` adds the shards up to the
verdict and check statuses of the unsharded run."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.config import run_config
from conformance.errors import UsageError
from conformance.gate import decide
from conformance.model import PARITY_PREFIX
from conformance.report.jsonreport import load_results, write_json
from conformance.run import make_plan, run
from conformance.select import Shard, group_key, parse_shard

SEED = 7
FAULT = "portrait-streams-single-image"  # a run-scope (parity) failure: groups must stay whole


def test_shards_partition_the_plan_and_keep_parity_groups_whole() -> None:
    base = {"seed": SEED}
    whole = [c.id for c in make_plan(run_config(base)).cases]
    parts = [
        [c.id for c in make_plan(run_config({**base, "shard": f"{i}/3"})).cases] for i in (1, 2, 3)
    ]
    assert sorted(i for part in parts for i in part) == sorted(whole)
    assert all(parts), "every shard gets cases"
    again = [c.id for c in make_plan(run_config({**base, "shard": "2/3"})).cases]
    assert again == parts[1]
    cases = {c.id: c for c in make_plan(run_config(base)).cases}
    groups = {group_key(c) for c in cases.values() if group_key(c).startswith(PARITY_PREFIX)}
    assert groups
    for group in groups:
        holders = {
            n for n, part in enumerate(parts) if any(group_key(cases[i]) == group for i in part)
        }
        assert len(holders) == 1, group


@pytest.mark.parametrize("text", ["0/3", "4/3", "1", "a/b", "1/0"])
def test_bad_shard_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match="--shard"):
        parse_shard(text)


def test_merged_shards_equal_the_unsharded_run(tmp_path: Path) -> None:
    base = {"seed": SEED, "fault": FAULT}
    full = run(run_config(base))
    assert decide(full).failed, "the fault must make something fail"
    files = []
    for i in (1, 2, 3):
        shard = run(run_config({**base, "shard": f"{i}/3"}))
        files.append(write_json(shard, tmp_path / f"shard{i}.json"))
    out = tmp_path / "merged"
    code = main(["merge", *map(str, files), "--report-dir", str(out), "--quiet"])
    merged = load_results(out / "results.json")
    assert code == int(decide(full).exit_code)
    assert decide(merged).headline == decide(full).headline
    assert decide(merged).verdict == decide(full).verdict
    assert {c.check_id: c.status for c in merged.checks} == {
        c.check_id: c.status for c in full.checks
    }
    assert {c.check_id: (c.cases_run, c.failed) for c in merged.checks} == {
        c.check_id: (c.cases_run, c.failed) for c in full.checks
    }
    assert merged.stats.cases == full.stats.cases
    assert (out / "report.html").is_file() and (out / "junit.xml").is_file()
    document = json.loads((out / "results.json").read_text())
    assert [s["index"] for s in document["coverage"]["shards"]] == [1, 2, 3]


def test_a_missing_shard_is_incomplete_and_foreign_shards_are_refused(tmp_path: Path) -> None:
    config = run_config({"seed": SEED, "checks": ["ERR-EMPTY-PROMPT", "SSE-PARITY"]})
    one = run(replace(config, shard=Shard(1, 2)))
    two = run(replace(config, shard=Shard(2, 2)))
    paths = [write_json(r, tmp_path / f"s{n}.json") for n, r in ((1, one), (2, two))]
    assert main(["merge", str(paths[0]), "--report-dir", str(tmp_path / "m"), "-q"]) == 4
    partial = load_results(tmp_path / "m" / "results.json")
    assert partial.incomplete and "shard 2/2 missing" in partial.incomplete_reason
    assert main(["merge", *map(str, paths), "--report-dir", str(tmp_path / "ok"), "-q"]) == 0
    costs = [r.coverage["cost_estimate"] for r in (one, two)]
    merged_cost = load_results(tmp_path / "ok" / "results.json").coverage["cost_estimate"]
    assert all(c["images_priced"] for c in costs), "both shards ask for paid images"
    for key in ("total", "images_priced", "images_unpriced"):
        assert merged_cost[key] == pytest.approx(sum(c[key] for c in costs)), key
    other = write_json(replace(two, seed=SEED + 1), tmp_path / "other.json")
    assert main(["merge", str(paths[0]), str(other), "--report-dir", str(tmp_path / "x")]) == 2
    assert main(["merge", str(paths[0]), str(paths[0]), "--report-dir", str(tmp_path / "y")]) == 2
