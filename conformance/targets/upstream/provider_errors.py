"""Error bodies as the providers send them: Azure OpenAI's and OpenAI's `{"error": {...}}`.

The bodies follow what the providers document and return (Azure's content filter answer with
its `inner_error`, OpenAI's `type`/`param`/`code`), so a gateway's error mapping meets what it
meets in production.
"""

from __future__ import annotations

from typing import Any, Literal

Flavour = Literal["azure", "openai"]

CONTENT_POLICY = "content_policy_violation"
FILTER_CATEGORIES = ("hate", "self_harm", "sexual", "violence")
POLICY_MESSAGE = (
    "Your request was rejected as a result of our safety system. Your prompt may contain text "
    "that is not allowed by our safety system."
)


def error_body(
    flavour: Flavour,
    status: int,
    code: str | None,
    message: str,
    param: str | None = None,
    kind: str | None = None,
) -> dict[str, Any]:
    """A provider error body; Azure omits `type` where OpenAI always sends one."""
    error: dict[str, Any] = {"code": code, "message": message}
    if flavour == "openai" or param is not None:
        error["param"] = param
    if flavour == "openai":
        error["type"] = kind or ("server_error" if status >= 500 else "invalid_request_error")
    elif kind is not None:
        error["type"] = kind
    return {"error": error}


def content_policy(flavour: Flavour, prompt: str) -> dict[str, Any]:
    """The 400 a provider answers when its content filter refuses the prompt."""
    body = error_body(flavour, 400, CONTENT_POLICY, POLICY_MESSAGE, kind="invalid_request_error")
    if flavour == "azure":
        filtered = {name: {"filtered": False, "severity": "safe"} for name in FILTER_CATEGORIES}
        filtered["violence"] = {"filtered": True, "severity": "medium"}
        body["error"]["inner_error"] = {
            "code": "ResponsibleAIPolicyViolation",
            "content_filter_results": filtered,
            "revised_prompt": prompt,
        }
    return body


def rate_limited(flavour: Flavour, retry_after: int) -> dict[str, Any]:
    if flavour == "azure":
        message = (
            "Requests to the Images_Generations Operation under Azure OpenAI API version have "
            "exceeded call rate limit of your current pricing tier. "
            f"Please retry after {retry_after} seconds."
        )
        return error_body(flavour, 429, "429", message)
    message = "Rate limit reached for images per minute. Please try again later."
    return error_body(flavour, 429, "rate_limit_exceeded", message, kind="requests")


def unauthorized(flavour: Flavour) -> dict[str, Any]:
    if flavour == "azure":
        message = (
            "Access denied due to invalid subscription key or wrong API endpoint. Make sure to "
            "provide a valid key for an active subscription and use a correct regional API "
            "endpoint for your resource."
        )
        return error_body(flavour, 401, "401", message)
    message = "Incorrect API key provided. You can find your API key in your account settings."
    return error_body(flavour, 401, "invalid_api_key", message)


def server_error(flavour: Flavour, status: int) -> dict[str, Any]:
    if status == 503:
        message = "The engine is currently overloaded, please try again later."
        return error_body(
            flavour, status, "ServiceUnavailable" if flavour == "azure" else None, message
        )
    message = "The server had an error while processing your request. Sorry about that!"
    return error_body(
        flavour, status, "InternalServerError" if flavour == "azure" else None, message
    )


def not_found(flavour: Flavour, what: str) -> dict[str, Any]:
    return error_body(flavour, 404, "404", f"Resource not found: {what}")


def invalid(
    flavour: Flavour, param: str, message: str, code: str = "invalid_value"
) -> dict[str, Any]:
    return error_body(flavour, 400, code, message, param=param, kind="invalid_request_error")
