"""Which image URLs (and redirect hops) the suite may fetch.

A gateway's answer must not turn the suite into a proxy into the network it runs in: a
link-local address (169.254.0.0/16, fe80::/10: cloud metadata services) is never fetched; a
private or loopback one only when the gateway itself is on such an address (a local test
setup), or when the run allows it explicitly (`--allow-private-urls`).

A name is resolved once, here, and the fetch connects to the addresses vetted here (the URL's
name still goes in the Host header and as the TLS server name, so certificates are checked as
usual): a name whose DNS answer changes between the check and the connect (rebinding) cannot
reach an address the policy refused. A name that does not resolve is not fetched: it is
reported as a connect error of the gateway's URL.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _addresses(host: str) -> list[Address]:
    literal = _literal(host)
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    found: list[Address] = []
    for info in infos:
        try:
            found.append(ipaddress.ip_address(str(info[4][0]).split("%")[0]))
        except ValueError:
            continue
    return found


def _plain(address: Address) -> Address:
    """An IPv4-mapped IPv6 address as the IPv4 address it stands for."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _internal(address: Address) -> bool:
    return address.is_private or address.is_loopback or address.is_unspecified


@dataclass(frozen=True)
class Admission:
    """Whether a URL may be fetched, and where to connect."""

    refusal: str | None = None
    """Why the suite does not fetch it (then nothing is sent); None: it may."""
    addresses: tuple[str, ...] = ()
    """The vetted addresses of the URL's name, to connect to in order; empty: the URL's host
    is an address itself (or there is no host)."""
    unresolved: str | None = None
    """The name does not resolve: the fetch fails as a connect error without a connect."""


class FetchPolicy:
    """Decides, per URL, whether the suite fetches it, and pins the addresses it vetted."""

    def __init__(self, gateway_url: str, allow_private: bool = False) -> None:
        host = urlsplit(gateway_url).hostname or ""
        local_gateway = any(_internal(_plain(a)) for a in _addresses(host))
        self.allow_private = allow_private or local_gateway

    def refusal(self, url: str) -> str | None:
        """None when `url` may be fetched, else why not (one line)."""
        return self.admission(url).refusal

    def admission(self, url: str) -> Admission:
        """Whether `url` may be fetched and, for a name, the addresses to connect to."""
        try:
            host = urlsplit(url).hostname
        except ValueError:
            host = None
        if not host:
            return Admission()  # not fetchable at all: the fetch fails and that failure is judged
        literal = _literal(host)
        found = [literal] if literal is not None else _addresses(host)
        if not found:
            return Admission(unresolved=f"{host} does not resolve")
        for address in (_plain(a) for a in found):
            if address.is_link_local:
                return Admission(f"{host} is a link-local address ({address}); never fetched")
            if _internal(address) and not self.allow_private:
                return Admission(
                    f"{host} is a private or loopback address ({address}) and the gateway is "
                    "not; --allow-private-urls fetches it"
                )
        if literal is not None:
            return Admission()
        return Admission(addresses=tuple(dict.fromkeys(str(a) for a in found)))


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return None
