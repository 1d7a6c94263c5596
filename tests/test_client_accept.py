"""The Accept header a case is sent with: the default, another value, or none at all."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from conformance.client import Client
from conformance.config import Target
from conformance.model import ACCEPT_PREFIX, DEFAULT_ACCEPT, Case
from conformance.spec import Spec
from conformance.targets.server import running_app


async def echo(request: Request) -> Response:
    return JSONResponse({"accept": request.headers.getlist("accept")})


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    route = Route(
        "/openai/openai/deployments/{deployment}/images/generations", echo, methods=["POST"]
    )
    with running_app(Starlette(routes=[route])) as url:
        yield url


@pytest.mark.parametrize(
    ("tags", "sent"),
    [((), [DEFAULT_ACCEPT]), ((ACCEPT_PREFIX + "*/*",), ["*/*"]), ((ACCEPT_PREFIX,), [])],
)
def test_the_case_chooses_its_accept_header(
    spec: Spec, app_url: str, tags: tuple[str, ...], sent: list[str]
) -> None:
    case = Case("c", "positive", "t", "success", body={"model": "m", "prompt": "p"}, tags=tags)
    with Client(Target(app_url), spec.operation) as client:
        exchange = client.send(case)
    assert exchange.json_body == {"accept": sent}
