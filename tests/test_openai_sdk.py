"""The official openai SDK's Azure client round-trips images through the reference gateway."""

from __future__ import annotations

import base64
import io

import httpx
import pytest
from PIL import Image

from conformance.spec import Spec

openai = pytest.importorskip("openai")

DEPLOYMENT = "dall-e-3"
API_VERSION = "2024-02-01"
PROMPT = "a red fox in fresh snow"


@pytest.fixture(scope="module")
def client(spec: Spec, gateway_url: str) -> object:
    # The SDK appends /openai/deployments/{model}/...; the spec's path starts /openai/openai.
    prefix = spec.operation.path.split("/openai/deployments/")[0]
    return openai.AzureOpenAI(
        azure_endpoint=gateway_url + prefix,
        api_key="x",
        api_version=API_VERSION,
        max_retries=0,
        timeout=20,
    )


def pixels(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        return image.size


def test_b64_json(client: object) -> None:
    result = client.images.generate(  # type: ignore[attr-defined]
        model=DEPLOYMENT, prompt=PROMPT, size="1024x1792", response_format="b64_json"
    )
    (image,) = result.data
    assert pixels(base64.b64decode(image.b64_json)) == (1024, 1792)
    assert result.usage.total_tokens == result.usage.input_tokens + result.usage.output_tokens


def test_url(client: object, gateway_url: str) -> None:
    result = client.images.generate(  # type: ignore[attr-defined]
        model=DEPLOYMENT, prompt=PROMPT, size="512x512", response_format="url"
    )
    (image,) = result.data
    assert image.url.startswith(gateway_url)
    assert pixels(httpx.get(image.url, timeout=10).content) == (512, 512)


def test_n_two(client: object) -> None:
    result = client.images.generate(  # type: ignore[attr-defined]
        model=DEPLOYMENT, prompt=PROMPT, n=2, size="256x256", response_format="b64_json"
    )
    assert len(result.data) == 2
    assert all(pixels(base64.b64decode(item.b64_json)) == (256, 256) for item in result.data)


def test_stream(client: object) -> None:
    stream = client.images.generate(  # type: ignore[attr-defined]
        model=DEPLOYMENT, prompt=PROMPT, n=2, size="1536x1024", stream=True
    )
    events = list(stream)
    kinds = [event.type for event in events]
    assert kinds.count("image_generation.completed") == 2
    assert kinds[-1] == "image_generation.completed"
    numbers = [event.sequence_number for event in events]
    assert numbers == sorted(set(numbers))
    for event in events:
        if event.type == "image_generation.completed":
            assert pixels(base64.b64decode(event.b64_json)) == (1536, 1024)
