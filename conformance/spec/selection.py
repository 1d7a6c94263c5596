"""Which operation of a document the suite tests, and the `Operation` built from it.

`--operation` names it (an operationId or 'METHOD /path'). Without it the image operation is
found by what it is: a POST taking a JSON body with a `prompt` (and no required input image:
that is an edit) whose 200 answer holds images (a `data` array, `b64_json` or `url`),
wherever composition and `$ref`s put those names.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from conformance.errors import SpecError
from conformance.spec.load import MAX_OPERATIONS
from conformance.spec.operation import JSON, KeyPlacement, Operation, Parameter
from conformance.spec.pointer import escape_pointer
from conformance.spec.resolve import Inliner
from conformance.spec.schema import media_schema

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
IMAGE_FIELDS = ("data", "b64_json", "url")
INPUT_IMAGE = ("image", "mask")
"""Required request fields that make an operation an edit of a given image, not a generation."""
_LOOK_DEPTH = 6


@dataclass(frozen=True)
class Candidate:
    """One operation of the document, as a user names it."""

    method: str
    path: str
    operation_id: str | None

    @property
    def label(self) -> str:
        named = f" ({self.operation_id})" if self.operation_id else ""
        return f"{self.method.upper()} {self.path}{named}"

    @property
    def pointer(self) -> str:
        return f"#/paths/{escape_pointer(self.path)}/{self.method}"


def operations(
    raw: dict[str, Any],
    where: str,
    inliner: Inliner | None = None,
    skipped: list[str] | None = None,
) -> list[Candidate]:
    """Every operation of the document (at most `MAX_OPERATIONS`). Path items that are `$ref`s
    (to other files) are followed when `inliner` is given; one that cannot be followed is left
    out and named in `skipped`."""
    paths = raw.get("paths") or {}
    if not isinstance(paths, dict):
        raise SpecError(f"spec {where}: #/paths: not an object")
    found: list[Candidate] = []
    for path, item in paths.items():
        if inliner is not None and isinstance(item, dict) and isinstance(item.get("$ref"), str):
            followed = inliner.follow(item)[0]
            if not followed and skipped is not None:
                at = f"#/paths/{escape_pointer(str(path))}"
                skipped.append(f"{at}: $ref {item['$ref']!r} cannot be resolved; path left out")
            item = followed
        if not isinstance(item, dict):
            continue
        for method in METHODS:
            entry = item.get(method)
            if isinstance(entry, dict):
                op_id = entry.get("operationId")
                found.append(Candidate(method, str(path), str(op_id) if op_id else None))
                if len(found) > MAX_OPERATIONS:
                    raise SpecError(
                        f"spec {where}: #/paths: more than {MAX_OPERATIONS:,} operations; "
                        "not an API description the suite can test"
                    )
    return found


def choose(
    raw: dict[str, Any],
    where: str,
    selector: str | None,
    inliner: Inliner,
    skipped: list[str] | None = None,
) -> Candidate:
    """The operation `selector` names, or the one image operation of the document; path items
    that cannot be read are named in `skipped`."""
    found = operations(raw, where, inliner, skipped)
    if selector:
        return _named(found, selector, where)
    images = [c for c in found if c.method == "post" and _is_image_operation(c, inliner)]
    if len(images) == 1:
        return images[0]
    if not images:
        raise SpecError(
            f"spec {where}: #/paths: no image-generation operation (a POST taking a JSON "
            "`prompt` and no input image, whose 200 holds images); name one with --operation"
        )
    listed = "; ".join(c.label for c in images)
    raise SpecError(
        f"spec {where}: #/paths: {len(images)} image-generation operations, choose one with "
        f"--operation: {listed}"
    )


def _named(found: list[Candidate], selector: str, where: str) -> Candidate:
    text = selector.strip()
    match = re.fullmatch(r"([A-Za-z]+)\s+(/\S*)", text)
    for c in found:
        if c.operation_id == text:
            return c
        if match and c.method == match[1].lower() and c.path == match[2]:
            return c
    names = [c.operation_id for c in found if c.operation_id] + [
        f"{c.method.upper()} {c.path}" for c in found
    ]
    close = difflib.get_close_matches(text, names, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise SpecError(f"spec {where}: #/paths: no operation {text!r}{hint}")


# -- recognising an image operation without resolving all of it ------------------------------


def _is_image_operation(c: Candidate, inliner: Inliner) -> bool:
    item, resolver = inliner.follow(inliner.raw_at(f"#/paths/{escape_pointer(c.path)}"))
    op, resolver = inliner.follow(item.get(c.method) if isinstance(item, dict) else None, resolver)
    if not isinstance(op, dict):
        return False
    body, body_resolver = inliner.follow(op.get("requestBody"), resolver)
    content = body.get("content") if isinstance(body, dict) else None
    if not isinstance(content, dict):
        return False
    media = next((m for m in content if _is_json(m)), None)
    if media is None or not isinstance(content[media], dict):
        return False
    request = content[media].get("schema")
    if not _mentions(request, ("prompt",), inliner, body_resolver):
        return False
    if _needs_image(request, inliner, body_resolver):
        return False
    responses, resp_resolver = inliner.follow(op.get("responses"), resolver)
    if not isinstance(responses, dict):
        return False
    for status in ("200", 200, "2XX", "201"):
        if status in responses:
            answer, answer_resolver = inliner.follow(responses[status], resp_resolver)
            for entry in ((answer or {}).get("content") or {}).values():
                if isinstance(entry, dict) and _mentions(
                    entry.get("schema"), IMAGE_FIELDS, inliner, answer_resolver
                ):
                    return True
    return False


def _mentions(schema: Any, names: tuple[str, ...], inliner: Inliner, resolver: Any) -> bool:
    """Whether a property of one of `names` sits at the top of `schema`, through `$ref`s and
    composition."""
    return bool(_top_names(schema, inliner, resolver, "properties") & set(names))


def _needs_image(schema: Any, inliner: Inliner, resolver: Any) -> bool:
    """Whether the request requires an input image (`image`, `images`, `mask`...): an edit."""
    required = _top_names(schema, inliner, resolver, "required")
    return any(name.startswith(INPUT_IMAGE) for name in required)


def _top_names(schema: Any, inliner: Inliner, resolver: Any, keyword: str) -> set[str]:
    """The names under `keyword` (`properties` or `required`) at the top of `schema`, through
    `$ref`s and allOf/anyOf/oneOf (a bounded look, nothing inlined)."""
    found: set[str] = set()
    todo: list[tuple[Any, Any, int]] = [(schema, resolver, 0)]
    steps = 0
    while todo and steps < 500:
        steps += 1
        node, res, depth = todo.pop()
        node, res = inliner.follow(node, res)
        if not isinstance(node, dict) or depth > _LOOK_DEPTH:
            continue
        names = node.get(keyword)
        if isinstance(names, dict | list):
            found.update(str(n) for n in names)
        for key in ("allOf", "anyOf", "oneOf"):
            branches = node.get(key)
            if isinstance(branches, list):
                todo.extend((b, res, depth + 1) for b in branches)
    return found


def _is_json(media_type: str) -> bool:
    kind = media_type.split(";")[0].strip().lower()
    return kind == JSON or kind.endswith("+json")


# -- building the Operation ------------------------------------------------------------------


def build_operation(raw: dict[str, Any], chosen: Candidate, inliner: Inliner) -> Operation:
    """The resolved operation `chosen`: refs inlined, schemas in 2020-12."""
    item_pointer = f"#/paths/{escape_pointer(chosen.path)}"
    item = inliner.at(item_pointer)
    op = item[chosen.method]
    shared = item.get("parameters") or []
    params = {
        (p.get("name"), p.get("in")): p
        for p in [*shared, *(op.get("parameters") or [])]
        if isinstance(p, dict)
    }
    parameters = [
        Parameter(
            name=str(p.get("name")),
            location=str(p.get("in")),
            required=bool(p.get("required", p.get("in") == "path")),
            schema=p.get("schema", {}) if isinstance(p.get("schema"), dict) else {},
        )
        for p in params.values()
    ]
    body = op.get("requestBody") or {}
    content = body.get("content") or {}
    media = JSON if JSON in content else next((m for m in content if _is_json(m)), None)
    media = media or next(iter(content), JSON)
    responses: dict[str, dict[str, dict[str, Any]]] = {}
    for status, resp in (op.get("responses") or {}).items():
        entries = (resp or {}).get("content") or {} if isinstance(resp, dict) else {}
        responses[str(status)] = {mt: media_schema(entry or {}) for mt, entry in entries.items()}
    return Operation(
        path=chosen.path,
        method=chosen.method,
        operation_id=str(op.get("operationId", f"{chosen.method} {chosen.path}")),
        parameters=parameters,
        request_schema=(content.get(media) or {}).get("schema", {}),
        request_media_type=media,
        request_required=bool(body.get("required", False)),
        responses=responses,
        pointer=chosen.pointer,
        dialect=inliner.dialect,
        base_path=base_path(raw, item, op),
        key=key_placement(raw, op),
    )


def base_path(raw: dict[str, Any], item: dict[str, Any], op: dict[str, Any]) -> str:
    """The path of the first server that applies (operation, path item, then document), its
    variables at their defaults; "" when it names none."""
    from urllib.parse import urlsplit

    for servers in (op.get("servers"), item.get("servers"), raw.get("servers")):
        if isinstance(servers, list) and servers and isinstance(servers[0], dict):
            server = servers[0]
            url = str(server.get("url", ""))
            variables = server.get("variables") or {}
            for name, spec in variables.items() if isinstance(variables, dict) else ():
                default = (spec or {}).get("default", "") if isinstance(spec, dict) else ""
                url = url.replace("{" + str(name) + "}", str(default))
            url = re.sub(r"\{[^{}]*\}", "", url)
            if "://" in url:
                path = urlsplit(url).path
            elif url.startswith("/"):
                path = url
            else:  # a host without a scheme, as `{endpoint}/openai` often defaults
                path = "/" + url.split("/", 1)[1] if "/" in url else ""
            return path.rstrip("/")
    return ""


def key_placement(raw: dict[str, Any], op: dict[str, Any]) -> KeyPlacement:
    """Where the API key goes by the operation's (else the document's) security requirements:
    an `apiKey` scheme (header or query) when one is offered, since `--api-key` is a key;
    else a bearer token (http bearer, OAuth2, OpenID Connect); `api-key` in a header when the
    document declares none."""
    requirements = op.get("security", raw.get("security"))
    schemes = ((raw.get("components") or {}).get("securitySchemes")) or {}
    if not isinstance(requirements, list) or not isinstance(schemes, dict):
        return KeyPlacement()
    offered = [
        schemes[name]
        for requirement in requirements
        if isinstance(requirement, dict)
        for name in requirement
        if isinstance(schemes.get(name), dict)
    ]
    for scheme in offered:
        if scheme.get("type") == "apiKey" and scheme.get("in") in ("header", "query"):
            return KeyPlacement(str(scheme["in"]), str(scheme.get("name", "api-key")))
    for scheme in offered:
        kind = scheme.get("type")
        if kind in ("oauth2", "openIdConnect") or (
            kind == "http" and str(scheme.get("scheme", "")).lower() == "bearer"
        ):
            return KeyPlacement("bearer", "authorization")
    return KeyPlacement()
