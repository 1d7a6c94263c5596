"""A failure of a `timing` check is judged again on one re-send; the re-send's judgement counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from conformance.checks.registry import REGISTRY, Check, ExchangeContext, Problem, catalogue
from conformance.model import Level
from conformance.run.rejudge import TimingRejudge

CASE = SimpleNamespace(id="case-1")
HELD = Problem("the stream was held back and sent at once")


@dataclass
class Budget:
    left: int

    def take(self) -> bool:
        self.left -= 1
        return self.left >= 0


@dataclass
class FakeSender:
    """Answers each re-send with the next of `answers`."""

    answers: list[str]
    budget: Budget = field(default_factory=lambda: Budget(10))
    sent: list[Any] = field(default_factory=list)

    def should_stop(self) -> bool:
        return False

    def send_once(self, case: Any) -> Any:
        self.sent.append(case)
        return SimpleNamespace(case=case, answer=self.answers.pop(0))

    def fetch(self, url: str) -> None:
        return None


def held_back(ctx: ExchangeContext) -> list[Problem] | None:
    answer = ctx.exchange.answer  # type: ignore[attr-defined]
    if answer == "503" or (ctx.upstream is not None and not ctx.upstream.records):
        return None  # nothing to judge: no stream, or no upstream call to compare with
    return [HELD] if answer == "bunched" else []


def timing_check(timing: bool = True) -> Check:
    return Check(
        "X-TIMING", Level.MUST, "", "", "", "forwarding", "exchange", held_back, timing=timing
    )


def rejudge(sender: FakeSender) -> TimingRejudge:
    def apply(chk: Check, ctx: ExchangeContext) -> list[Problem] | None:
        return chk.func(ctx)  # type: ignore[no-any-return]

    upstream = SimpleNamespace(view=lambda case: None)
    return TimingRejudge(None, None, sender, upstream, apply)  # type: ignore[arg-type]


def test_a_failure_only_the_clock_caused_passes_on_the_re_send() -> None:
    sender = FakeSender(["relayed"])
    judge = rejudge(sender)
    first = SimpleNamespace(case=CASE, answer="bunched")
    assert judge.wanted(timing_check(), [HELD])
    resent, problems = judge.again(timing_check(), first, [HELD])  # type: ignore[arg-type]
    assert problems == [] and resent is not first and sender.sent == [CASE]
    assert judge.listed == [
        {"check": "X-TIMING", "case": "case-1", "first": HELD.message, "re-sent": "passed"}
    ]


def test_a_gateway_that_really_buffers_fails_again() -> None:
    judge = rejudge(FakeSender(["bunched"]))
    first = SimpleNamespace(case=CASE, answer="bunched")
    _, problems = judge.again(timing_check(), first, [HELD])  # type: ignore[arg-type]
    assert problems == [HELD]
    assert judge.listed[0]["re-sent"] == HELD.message


def test_no_re_send_without_budget_or_for_other_checks() -> None:
    sender = FakeSender(["relayed"], Budget(0))
    judge = rejudge(sender)
    first = SimpleNamespace(case=CASE, answer="bunched")
    assert judge.again(timing_check(), first, [HELD]) == (first, [HELD])  # type: ignore[arg-type]
    assert sender.sent == []
    assert not judge.wanted(timing_check(timing=False), [HELD])
    assert not judge.wanted(timing_check(), [])
    assert not judge.wanted(timing_check(), [Problem("check crashed", error=True)])


def test_the_stream_buffering_check_is_re_judged() -> None:
    catalogue()
    assert REGISTRY["STREAM-NOT-BUFFERED"].timing
    assert [c.id for c in catalogue() if c.timing] == ["STREAM-NOT-BUFFERED"]


def test_the_reports_say_how_the_re_judgements_ended() -> None:
    from conformance.environment import rejudged_line

    line = rejudged_line([{"re-sent": "passed"}, {"re-sent": HELD.message}])
    assert line.startswith("2 failures of") and "1 then passed, 1 failed again" in line


def test_a_re_send_with_nothing_to_judge_leaves_the_failure_standing() -> None:
    judge = rejudge(FakeSender(["503"]))
    first = SimpleNamespace(case=CASE, answer="bunched")
    resent, problems = judge.again(timing_check(), first, [HELD])  # type: ignore[arg-type]
    assert resent is first and problems == [HELD]
    assert judge.listed[0]["re-sent"].startswith("not judged")


def test_the_re_send_is_judged_on_its_own_upstream_records() -> None:
    """A gateway that replays the first answer from a cache makes no new upstream call: the
    first send's record does not stand in for it."""
    from conformance.checks.registry import UpstreamView

    records = [{"seq": 1}]
    judge = rejudge(FakeSender(["relayed"]))
    judge.upstream = SimpleNamespace(view=lambda case: UpstreamView(list(records)))  # type: ignore[assignment]
    first = SimpleNamespace(case=CASE, answer="bunched")
    resent, problems = judge.again(timing_check(), first, [HELD])  # type: ignore[arg-type]
    assert resent is first and problems == [HELD]
    judge = rejudge(FakeSender(["relayed"]))
    calls = iter([[{"seq": 1}], [{"seq": 1}, {"seq": 2}]])
    judge.upstream = SimpleNamespace(view=lambda case: UpstreamView(next(calls)))  # type: ignore[assignment]
    _, problems = judge.again(timing_check(), first, [HELD])  # type: ignore[arg-type]
    assert problems == []


def test_the_line_names_failures_that_stood() -> None:
    from conformance.environment import rejudged_line

    line = rejudged_line([{"re-sent": "passed"}, {"re-sent": "not judged: the first stands"}])
    assert "1 then passed, 0 failed again, 1 stood" in line
