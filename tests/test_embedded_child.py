"""The embedded pair of `conformance run` in a process of its own, and the sender's chains:
their order, and the task that runs once every chain was taken (the SDK's probes)."""

from __future__ import annotations

import os
import threading
from types import SimpleNamespace

import httpx
import pytest

from conformance.config import RunConfig, Target
from conformance.model import Case, Exchange
from conformance.plan.upstream import upstream_cases
from conformance.redaction import Redactor
from conformance.run.execute import _EarlyProbe
from conformance.run.plan import chains, sending_order
from conformance.run.send import Sender
from conformance.spec import Spec
from conformance.targets.child import running_pair
from conformance.targets.upstream.app import HEALTH_ROUTE


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_the_pair_serves_from_a_child_process_and_stops_with_it(spec: Spec) -> None:
    body = {"model": "dall-e-3", "prompt": "a lighthouse"}
    with running_pair(spec, fake_upstream=True) as pair:
        pair.ready()
        assert pair.upstream is not None
        health = httpx.get(pair.upstream + HEALTH_ROUTE, timeout=10)
        path = spec.operation.path.replace("{deployment-id}", "dall-e-3")
        answer = httpx.post(
            pair.url + path,
            params={"api-version": "2024-02-01"},
            headers={"api-key": "ck-test"},
            json=body,
            timeout=30,
        )
        records = httpx.get(pair.upstream + "/_upstream/requests", timeout=10).json()
        pid = _child_pid(pair.url)
    assert health.status_code == 200
    assert answer.status_code == 200, answer.text
    assert [r["body"]["prompt"] for r in records["requests"]] == ["a lighthouse"]
    assert pid != os.getpid() and not _alive(pid)


def test_a_gateway_that_draws_itself_has_no_upstream(spec: Spec) -> None:
    with running_pair(spec, "500-on-emoji-prompt", fake_upstream=False) as pair:
        pair.ready()
        assert pair.upstream is None
        path = spec.operation.path.replace("{deployment-id}", "dall-e-3")
        answer = httpx.post(
            pair.url + path,
            params={"api-version": "2024-02-01"},
            headers={"api-key": "k"},
            json={"model": "dall-e-3", "prompt": "a lighthouse \U0001f30a"},
            timeout=30,
        )
    assert answer.status_code == 500  # the fault reached the child


def _child_pid(url: str) -> int:
    """The PID listening on `url`'s port (the child, not this process)."""
    port = int(url.rsplit(":", 1)[1])
    inodes = set()
    with open("/proc/net/tcp") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            if int(fields[1].split(":")[1], 16) == port and fields[3] == "0A":
                inodes.add(fields[9])
    for pid in filter(str.isdigit, os.listdir("/proc")):
        if int(pid) == os.getpid():
            continue
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return int(pid)
        except OSError:
            continue
    pytest.fail(f"no other process listens on port {port}")


def test_cases_sharing_an_upstream_token_form_one_chain_in_order(spec: Spec) -> None:
    two_sided = upstream_cases(spec.operation, model="dall-e-3", nonce="test")
    plain = Case(id="plain", kind="positive", title="plain", expect="success", body={})
    found = chains([*two_sided, plain])
    assert sum(len(chain) for chain in found) == len(two_sided) + 1
    shared = [chain for chain in found if len(chain) > 1]
    assert [[c.id for c in chain] for chain in shared] == [
        ["upstream-cache-first", "upstream-cache-other"]
    ]
    assert found[-1] == (plain,)


def _case(case_id: str, n: int, expect: str = "success") -> Case:
    body = {"model": "dall-e-3", "prompt": "a lighthouse", "n": n}
    return Case(id=case_id, kind="positive", title=case_id, expect=expect, body=body)


def test_an_uncapped_run_sends_the_most_images_first_taking_turns_with_the_two_sided(
    spec: Spec,
) -> None:
    op = spec.operation
    two_sided = chains(upstream_cases(op, model="dall-e-3", nonce="test"))
    plan = [_case("refused", 10, "reject"), _case("one", 1), _case("ten", 10), _case("two", 2)]
    plan.append(_case("also-one", 1))
    found = sending_order([c for chain in two_sided for c in chain], plan, op, capped=False)
    assert [c.id for chain in found[1:9:2] for c in chain] == ["ten", "two", "one", "also-one"]
    assert [chain for chain in found if chain in two_sided] == two_sided  # in their order
    rest = [chain[0].id for chain in found if chain not in two_sided]
    assert rest == ["ten", "two", "one", "also-one", "refused"]  # ties keep the plan's order
    assert found[0] == two_sided[0] and len(found) == len(two_sided) + len(plan)


def test_a_capped_run_sends_in_the_plans_order(spec: Spec) -> None:
    op = spec.operation
    two_sided = upstream_cases(op, model="dall-e-3", nonce="test")
    plan = [_case("refused", 10, "reject"), _case("one", 1), _case("ten", 10)]
    assert sending_order(two_sided, plan, op, capped=True) == chains([*two_sided, *plan])


def test_the_last_task_runs_on_a_worker_once_every_chain_was_taken(
    spec: Spec, gateway_url: str
) -> None:
    config = RunConfig(spec=spec, base_url=gateway_url, workers=2)
    cases = [_case(f"case-{i}", 1, "reject") for i in range(5)]
    answered: list[str] = []
    runs: list[tuple[str, int]] = []

    def arrived(exchange: Exchange) -> None:
        answered.append(exchange.case.id)

    def last() -> None:
        runs.append((threading.current_thread().name, len(answered)))

    with Sender(config, Target(gateway_url), spec.operation, Redactor([])) as sender:
        sender.send_all(chains(cases), arrived, last=last)
    assert len(answered) == len(cases)
    [(thread, answered_before)] = runs
    assert thread.startswith("conformance")  # a worker's slot: --workers bounds it too
    assert answered_before >= len(cases) - config.workers + 1


def test_the_sdk_probes_go_early_only_once_a_request_was_answered_2xx() -> None:
    sent: list[str] = []

    def probe() -> tuple[None, str]:
        sent.append("probe")
        return None, "probed"

    not_yet = _EarlyProbe(probe, SimpleNamespace(answered_2xx=False))  # type: ignore[arg-type]
    not_yet()
    assert not_yet.outcome is None and not sent
    answered = _EarlyProbe(probe, SimpleNamespace(answered_2xx=True))  # type: ignore[arg-type]
    answered()
    assert answered.outcome == (None, "probed") and sent == ["probe"]
