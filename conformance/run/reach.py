"""Before the first case: is anything listening at the target (exit 3 when not)?"""

from __future__ import annotations

import socket

import httpx

from conformance.config import RunConfig, Target, tls_verify
from conformance.environment import unreachable
from conformance.errors import TargetUnreachable
from conformance.redaction import Redactor
from conformance.spec import Operation
from conformance.wait import wait_for_gateway


def reach(config: RunConfig, target: Target, op: Operation, redactor: Redactor) -> bool:
    """Fail fast (`TargetUnreachable`) when nothing listens at the target: a TCP connect within
    the connect timeout, nothing sent (a silent gateway is then reported by the cases). With
    `--wait-for`, first wait for the gateway to answer on the route; returns whether it waited
    (`--max-duration` then counts from the ready gateway)."""
    waited = False
    if config.wait_for:
        route = target.base_url.rstrip("/") + op.render_path(target.deployment)
        try:
            wait_for_gateway(
                route,
                config.wait_for,
                connect_timeout=config.bounds.connect_timeout,
                stop=config.stop,
                verify=tls_verify(target.ca_bundle),
            )
        except TargetUnreachable as exc:
            raise TargetUnreachable(redactor.text(str(exc))) from exc
        waited = True
    url = httpx.URL(target.base_url)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.host, port), config.bounds.connect_timeout):
            pass
    except OSError as exc:
        raise TargetUnreachable(unreachable(redactor.text(target.base_url), exc)) from exc
    return waited
