"""Official client compatibility: what the gateway answers is usable by the `openai` SDK."""

from __future__ import annotations

from conformance.checks.registry import Problem, RunContext, check
from conformance.model import Exchange, Level


@check(
    id="SDK-COMPAT",
    level=Level.SHOULD,
    statement="Requests made through the official openai SDK (b64_json, url, n=2, stream) come "
    "back as results the SDK can use.",
    pointer="responses/200",
    rationale="Most callers use the official SDK; an answer it cannot parse breaks them even "
    "where the spec is silent, so this is a SHOULD (not installed: not judged).",
    scope="run",
)
def sdk_compat(ctx: RunContext) -> list[tuple[Exchange, list[Problem]]] | None:
    if ctx.sdk is None:
        return None
    return [
        (
            o.exchange,
            []
            if o.error is None
            else [
                Problem(
                    f"the openai SDK could not use the answer: {o.error}",
                    "a usable result",
                    o.error,
                )
            ],
        )
        for o in ctx.sdk
    ]
