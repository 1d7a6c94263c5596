"""The client's reading of streams and image URLs, against tiny apps on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from conformance.client import Client
from conformance.config import Target
from conformance.model import Case
from conformance.spec import Spec
from conformance.targets.server import running_app

STREAM = (
    "\ufeffevent: image_generation.completed\r\n"
    'data: {"type": "image_generation.completed",\r\n'
    'data:  "sequence_number": 0}\r\n\r\n'
    ": keep-alive\n\n"
    "id: 7\nretry: 100\ndata: [DONE]\n\n"
)


async def stream(request: Request) -> Response:
    return Response(STREAM.encode("utf-8"), media_type="text/event-stream")


async def moved(request: Request) -> Response:
    return RedirectResponse("/image.png", status_code=302)


async def image(request: Request) -> Response:
    return Response(b"\x89PNG\r\n\x1a\n", media_type="image/png")


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    routes = [
        Route(
            "/openai/openai/deployments/{deployment}/images/generations", stream, methods=["POST"]
        ),
        Route("/moved", moved),
        Route("/image.png", image),
    ]
    with running_app(Starlette(routes=routes)) as url:
        yield url


def case() -> Case:
    return Case("c", "positive", "stream", "success", body={"model": "m", "prompt": "p"})


def test_stream_framing_bom_crlf_multiline_comments_and_done(spec: Spec, app_url: str) -> None:
    with Client(Target(app_url), spec.operation) as client:
        exchange = client.send(case())
    assert exchange.transport_error is None, exchange.transport_detail
    assert exchange.events is not None
    first, last = exchange.events
    assert first.event == "image_generation.completed"  # the byte-order mark did not eat it
    assert first.data == '{"type": "image_generation.completed",\n "sequence_number": 0}'
    assert (last.data, last.id, last.retry) == ("[DONE]", "7", 100)


def test_image_urls_follow_redirects(spec: Spec, app_url: str) -> None:
    with Client(Target(app_url), spec.operation) as client:
        fetched = client.fetch(app_url + "/moved")
    assert fetched.error is None and fetched.status == 200
    assert fetched.body.startswith(b"\x89PNG")
