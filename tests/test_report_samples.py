"""Hand-built results that exercise every part of the reports, and the result model's round trip."""

from __future__ import annotations

import base64
import io

from PIL import Image

from conformance.gate import decide
from conformance.model import Status, Verdict
from conformance.results import (
    CheckResult,
    EnvironmentProblem,
    Failure,
    RunResult,
    SseTimelineEntry,
    Stats,
)

SCRIPT = "<script>document.title='pwned'</script>"
SPEC_SHA = "ab" * 32


def png_thumbnail() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 40, 40)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def make_check(
    check_id: str, level: str, status: str, family: str = "body", failures: int = 0
) -> CheckResult:
    check = CheckResult(
        check_id=check_id,
        level=level,
        statement=f"{check_id} holds",
        pointer="#/paths/~1images/post/responses/200",
        family=family,
        rationale="because the spec says so",
    )
    for i in range(failures):
        check.record_failure(
            Failure(
                check_id=check_id,
                level=level,
                case_id=f"case-{i}",
                case_title="n=2, size=1024x1024",
                message=f"{check_id}: expected 2 images, got 1",
                expected="2 images",
                actual="1 image",
                request={
                    "method": "POST",
                    "url": "http://127.0.0.1:9/x",
                    "headers": {"content-type": "application/json"},
                    "body": '{"prompt": "a cat", "n": 2}',
                },
                response={
                    "status": 200,
                    "headers": {"content-type": "application/json"},
                    "excerpt": f"oops {SCRIPT}",
                    "elapsed_ms": 12.5,
                },
                curl=f"curl -X POST http://127.0.0.1:9/x -d '{{\"n\": 2}}'  # {i}",
            ),
            error=status == Status.ERROR.value,
        )
    if status == Status.PASSED.value:
        check.record_pass()
    if status == Status.FAILED.value and not failures:
        raise ValueError("a failed check needs failures")
    check.settle()
    assert check.status == status
    return check


def sample_result(
    *, must_fails: bool = True, incomplete: bool = False, errored: bool | None = None
) -> RunResult:
    """A run with a failing MUST check and an errored check (unless told otherwise), a failing
    SHOULD check, a passed and a skipped check, an SSE timeline, a thumbnail and coverage."""
    checks = [
        make_check("PROTO-RESPONDS", "MUST", "passed", family="protocol"),
        make_check("IMG-CREATED-PRESENT", "SHOULD", "failed", failures=1),
        make_check("ERR-EMPTY-PROMPT", "MAY", "skipped", family="errors"),
    ]
    if must_fails if errored is None else errored:
        checks.append(make_check("SSE-SEQUENCE", "MUST", "error", family="sse", failures=1))
    if must_fails:
        count = make_check("IMG-COUNT", "MUST", "failed", failures=2)
        count.failures[0].thumbnail = png_thumbnail()
        count.failures[0].timeline = [
            SseTimelineEntry("image_generation.partial_image", 0, 12.5),
            SseTimelineEntry("image_generation.completed", 1, 40.0),
            SseTimelineEntry("error", None, 41.25),
        ]
        checks.append(count)
    return RunResult(
        suite_version="0.1.0",
        target="http://127.0.0.1:8080/gw",
        spec_title="Bifrost Azure images",
        spec_source="specs/bifrost-azure-images.yaml",
        spec_sha256=SPEC_SHA,
        operation="POST /openai/openai/deployments/{deployment-id}/images/generations",
        seed=42,
        started_at="2025-03-01T10:00:00+00:00",
        stats=Stats(requests=17, images=23, cases=15, duration_s=3.25),
        checks=checks,
        environment_problems=[EnvironmentProblem("case-9", 429, f"slow down {SCRIPT}")],
        coverage={
            "size": ["256x256", "1024x1024"],
            "pairs": {"size x quality": 12, "n x stream": 4},
            "cut": ["n=10 (budget)"],
            "max_examples": 25,
        },
        incomplete=incomplete,
        incomplete_reason="run deadline of 5s reached" if incomplete else "",
    )


def test_sample_verdicts_follow_the_checks() -> None:
    assert decide(sample_result()).verdict is Verdict.NOT_CONFORMANT
    assert decide(sample_result(must_fails=False)).verdict is Verdict.CONFORMANT_WITH_WARNINGS
    crashed = sample_result(must_fails=False, errored=True)
    assert (
        decide(crashed).verdict is Verdict.NOT_CONFORMANT
    )  # a crashed check never counts as a pass
    assert decide(crashed).exit_code == 1 and "SSE-SEQUENCE" in decide(crashed).reasons[0]


def test_result_round_trips_through_dict() -> None:
    result = sample_result(incomplete=True)
    again = RunResult.from_dict(result.to_dict())
    assert again == result
    assert again.checks[-1].failures[0].timeline[1].sequence_number == 1
