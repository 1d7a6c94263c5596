"""Defects in accepting and rejecting requests, and in the error envelope."""

from __future__ import annotations

import json

from conformance.targets.faults.edits import failed_on, non_json_body
from conformance.targets.faults.model import Body, Fault
from conformance.targets.messages import GatewayRequest, Issue, Refusal

API_VERSION = "api-version"
LEAKED_PROVIDER = "azure-openai"
ENUM_KEYWORDS = ("enum", "const", "oneOf", "anyOf")
"""The keywords an enum breaks in, however the document writes it (`oneOf` of `const`, ...)."""


def _drop(issues: list[Issue], param: str, *keywords: str) -> list[Issue]:
    return [i for i in issues if not (i.param == param and i.keyword in keywords)]


def _clamp_n(req: GatewayRequest, issues: list[Issue]) -> list[Issue]:
    kept = _drop(issues, "n", "maximum")
    if len(kept) < len(issues) and isinstance(req.body, dict):
        req.body["n"] = req.op.field_schema("n").get("maximum", req.body["n"])
    return kept


def _case_insensitive_enums(req: GatewayRequest, issues: list[Issue]) -> list[Issue]:
    kept = []
    for issue in issues:
        value = req.body.get(issue.param) if isinstance(req.body, dict) else None
        listed = req.op.enum(issue.param)
        if issue.keyword in ENUM_KEYWORDS and isinstance(value, str) and value.lower() in listed:
            req.body[issue.param] = value.lower()
            continue
        kept.append(issue)
    return kept


def _trimmed_enums(req: GatewayRequest, issues: list[Issue]) -> list[Issue]:
    kept = []
    for issue in issues:
        value = req.body.get(issue.param) if isinstance(req.body, dict) else None
        listed = req.op.enum(issue.param)
        if issue.keyword == "enum" and isinstance(value, str) and value.strip() in listed:
            req.body[issue.param] = value.strip()
            continue
        kept.append(issue)
    return kept


def _invalid_stream_as_event(req: GatewayRequest) -> bool:
    return bool(req.issues)


def _first_json_value(req: GatewayRequest) -> None:
    if req.parsed:
        return None
    try:
        value, _ = json.JSONDecoder().raw_decode(req.raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if isinstance(value, dict):
        req.body, req.parsed, req.raw = value, True, json.dumps(value).encode()
    return None


def _model_from_deployment(req: GatewayRequest, issues: list[Issue]) -> list[Issue]:
    return _drop(issues, "model", "required")


def _truncate_float_n(req: GatewayRequest, issues: list[Issue]) -> list[Issue]:
    value = req.body.get("n") if isinstance(req.body, dict) else None
    if isinstance(value, float) and value >= 1:
        return _drop(issues, "n", "type")
    return issues


def _coerce_strings(req: GatewayRequest, issues: list[Issue]) -> list[Issue]:
    kept = []
    for issue in issues:
        value = req.body.get(issue.param) if isinstance(req.body, dict) else None
        if issue.keyword == "type" and isinstance(value, str) and _coercible(value):
            continue
        kept.append(issue)
    return kept


def _coercible(text: str) -> bool:
    return text.isdigit() or text in ("true", "false")


def _require_api_version(req: GatewayRequest) -> Refusal | None:
    if API_VERSION in req.query:
        return None
    return Refusal(400, f"missing required query parameter {API_VERSION}", API_VERSION, "missing")


def _reject_escaped_deployment(req: GatewayRequest) -> Refusal | None:
    if req.deployment is None or "%" not in req.deployment:
        return None
    return Refusal(404, f"deployment {req.deployment} not found", "deployment-id", "not_found")


def _reject_unknown_fields(req: GatewayRequest) -> Refusal | None:
    if not isinstance(req.body, dict):
        return None
    unknown = sorted(set(req.body) - set(req.op.properties))
    if not unknown:
        return None
    return Refusal(400, f"unknown field {unknown[0]}", unknown[0], "unknown_parameter")


def _leaked_provider(req: GatewayRequest, status: int, envelope: Body) -> tuple[int, Body]:
    envelope["extra_fields"]["provider"] = LEAKED_PROVIDER
    return status, envelope


def _integer_code(req: GatewayRequest, status: int, envelope: Body) -> tuple[int, Body]:
    if non_json_body(req):
        envelope["error"]["code"] = status
    return status, envelope


def _status_200_inside(req: GatewayRequest, status: int, envelope: Body) -> tuple[int, Body]:
    if failed_on(req, "type"):
        envelope["status_code"] = 200
    return status, envelope


def _empty_enum_message(req: GatewayRequest, status: int, envelope: Body) -> tuple[int, Body]:
    if failed_on(req, "enum"):
        envelope["error"]["message"] = ""
    return status, envelope


def _param_always_model(req: GatewayRequest, status: int, envelope: Body) -> tuple[int, Body]:
    if status == 400 and req.issues:
        envelope["error"]["param"] = "model"
    return status, envelope


def _prefixed_model(req: GatewayRequest, status: int, envelope: Body) -> tuple[int, Body]:
    provider = envelope["extra_fields"]["provider"]
    envelope["extra_fields"]["model_requested"] = f"{provider}/{req.model}"
    return status, envelope


def _prefixed_model_in_successes(req: GatewayRequest, body: Body) -> Body:
    extra = {"provider": "azure", "model_requested": f"azure/{req.model}"}
    return {**body, "extra_fields": extra}


def _empty_prompt_502(req: GatewayRequest) -> Refusal | None:
    if not req.sent("prompt") or not isinstance(req.body["prompt"], str) or req.prompt.strip():
        return None
    return Refusal(502, "upstream returned no image", "prompt", "upstream_error")


FAULTS = [
    Fault(
        id="n-above-maximum-clamped",
        summary="n above the maximum (e.g. 11) is clamped and answered 200",
        expected_check="ERR-NEGATIVE-4XX",
        validation=_clamp_n,
    ),
    Fault(
        id="uppercase-enum-accepted",
        summary='enum values are matched case-insensitively ("HD", "Url" accepted)',
        expected_check="ERR-NEGATIVE-4XX",
        validation=_case_insensitive_enums,
    ),
    Fault(
        id="padded-enum-trimmed",
        summary="enum values are trimmed before matching: size=' 1024x1024' is accepted",
        expected_check="ERR-NEGATIVE-4XX",
        validation=_trimmed_enums,
    ),
    Fault(
        id="invalid-stream-as-error-event",
        summary="an invalid request with stream: true opens a 200 stream and sends the "
        "validation error as an `error` event",
        expected_check="ERR-NEGATIVE-4XX",
        error_events=_invalid_stream_as_event,
    ),
    Fault(
        id="trailing-data-ignored",
        summary="the body is read with a streaming decoder that stops after the first JSON "
        "value: `{...} junk` is accepted",
        expected_check="ERR-TRAILING-DATA",
        intercept=_first_json_value,
    ),
    Fault(
        id="missing-model-uses-deployment",
        summary="a body without model is accepted (the deployment name is used instead)",
        expected_check="ERR-NEGATIVE-4XX",
        validation=_model_from_deployment,
    ),
    Fault(
        id="fractional-n-truncated",
        summary="a fractional n (1.5) is truncated to an integer and accepted",
        expected_check="ERR-NEGATIVE-4XX",
        validation=_truncate_float_n,
    ),
    Fault(
        id="numeric-and-boolean-strings-coerced",
        summary='strings that read as numbers or booleans ("1", "true") are accepted for n/stream',
        expected_check="ERR-NEGATIVE-4XX",
        validation=_coerce_strings,
    ),
    Fault(
        id="api-version-required",
        summary="requests without the optional api-version query parameter are rejected 400",
        expected_check="ERR-VALID-ACCEPTED",
        intercept=_require_api_version,
    ),
    Fault(
        id="escaped-deployment-not-found",
        summary="a percent-encoded deployment id is not decoded and answers 404",
        expected_check="ERR-VALID-ACCEPTED",
        intercept=_reject_escaped_deployment,
    ),
    Fault(
        id="provider-outside-enum",
        summary='error envelopes name the provider "azure-openai", not in the provider enum',
        expected_check="ERR-ENVELOPE-SCHEMA",
        error=_leaked_provider,
    ),
    Fault(
        id="integer-error-code-for-non-json",
        summary="errors for bodies that are not JSON carry error.code as an integer",
        expected_check="ERR-ENVELOPE-SCHEMA",
        error=_integer_code,
    ),
    Fault(
        id="status-code-200-in-type-errors",
        summary="envelopes for type errors say status_code 200 while the HTTP status is 400",
        expected_check="ERR-STATUS-CODE-MATCH",
        error=_status_200_inside,
    ),
    Fault(
        id="empty-message-for-enum-errors",
        summary="envelopes for enum violations carry an empty error.message",
        expected_check="ERR-MESSAGE",
        error=_empty_enum_message,
    ),
    Fault(
        id="unknown-fields-rejected",
        summary="fields the schema does not list are rejected with 400",
        expected_check="ERR-UNKNOWN-FIELDS-ACCEPTED",
        intercept=_reject_unknown_fields,
    ),
    Fault(
        id="empty-prompt-502",
        summary="an empty prompt is passed upstream and answered 502",
        expected_check="ERR-EMPTY-PROMPT",
        intercept=_empty_prompt_502,
    ),
    Fault(
        id="error-param-always-model",
        summary="every validation error names error.param model, whichever field is wrong",
        expected_check="ERR-PARAM-NAMES-FIELD",
        error=_param_always_model,
    ),
    Fault(
        id="model-requested-provider-prefixed",
        summary="extra_fields.model_requested is the routed azure/<model>, not the model sent",
        expected_check="ERR-MODEL-REQUESTED",
        error=_prefixed_model,
    ),
    Fault(
        id="model-requested-prefixed-in-successes",
        summary="200 bodies carry Bifrost's extra_fields with model_requested azure/<model>, "
        "not the model sent",
        expected_check="ERR-MODEL-REQUESTED",
        body=_prefixed_model_in_successes,
    ),
]
