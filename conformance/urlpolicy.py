"""Which image URLs (and redirect hops) the suite may fetch.

A gateway's answer must not turn the suite into a proxy into the network it runs in: a
link-local address (169.254.0.0/16, fe80::/10: cloud metadata services) is never fetched; a
private or loopback one only when the gateway itself is on such an address (a local test
setup), or when the run allows it explicitly (`--allow-private-urls`).

The host is resolved once here and again by the HTTP client when it connects, so a name whose
DNS answer changes between the two (rebinding) is not covered.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _addresses(host: str) -> list[Address]:
    try:
        return [ipaddress.ip_address(host.strip("[]").split("%")[0])]
    except ValueError:
        pass
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


class FetchPolicy:
    """Decides, per URL, whether the suite fetches it."""

    def __init__(self, gateway_url: str, allow_private: bool = False) -> None:
        host = urlsplit(gateway_url).hostname or ""
        local_gateway = any(_internal(_plain(a)) for a in _addresses(host))
        self.allow_private = allow_private or local_gateway

    def refusal(self, url: str) -> str | None:
        """None when `url` may be fetched, else why not (one line)."""
        try:
            host = urlsplit(url).hostname
        except ValueError:
            host = None
        if not host:
            return None  # not fetchable at all: the fetch fails and that failure is judged
        # A name that does not resolve is fetched too: the connect error is the gateway's.
        for address in (_plain(a) for a in _addresses(host)):
            if address.is_link_local:
                return f"{host} is a link-local address ({address}); never fetched"
            if _internal(address) and not self.allow_private:
                return (
                    f"{host} is a private or loopback address ({address}) and the gateway is "
                    "not; --allow-private-urls fetches it"
                )
        return None
