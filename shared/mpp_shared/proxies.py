"""Who the client is behind the proxies a deployment trusts (TRUSTED_PROXIES).

A request's peer is the address that opened the connection. Only when that
peer is a trusted proxy is its forwarded-for header believed, and then read
from the right: each hop a trusted proxy appended is passed over, and the
first address that is not a trusted proxy is the client. What a client
writes into the header itself sits to the left of what our proxies append,
so it is never reached; a request from any other peer is the peer itself,
whatever its headers say.

Only one header is read (TRUSTED_PROXY_HEADER): `x-forwarded-for`, or
`forwarded` (RFC 7239, its `for=` parameters). A proxy that writes one
usually passes the other through from the client untouched, so believing
both would let a client choose its own address.

Pure functions (stdlib only): `mpp_shared.web.client_address` applies them
to every request, and the settings check TRUSTED_PROXIES with them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
ProxyHeader = Literal["x-forwarded-for", "forwarded"]

LOOPBACK = "127.0.0.0/8,::1"


def parse_ip(text: str) -> IPAddress | None:
    """An address as a proxy writes it (`1.2.3.4`, `1.2.3.4:5678`, `[::1]:80`,
    `"[::1]"`); None for anything else (`unknown`, an obfuscated name)."""
    value = text.strip().strip('"')
    if value.startswith("["):
        value = value[1 : value.find("]")] if "]" in value else ""
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


@dataclass(frozen=True)
class TrustedProxies:
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, text: str) -> TrustedProxies:
        """Addresses and CIDR ranges separated by commas; "" trusts none.
        Raises ValueError naming what it cannot read."""
        networks: list[IPNetwork] = []
        for item in (part.strip() for part in text.split(",")):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ValueError(
                    f"TRUSTED_PROXIES: {item!r} is neither an IP address nor a CIDR range"
                ) from None
        return cls(tuple(networks))

    def trusts(self, address: str | IPAddress | None) -> bool:
        ip = parse_ip(address) if isinstance(address, str) else address
        return ip is not None and any(ip in network for network in self.networks)


def _split_outside_quotes(text: str, separator: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == separator and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def forwarded_hops(values: Iterable[str], header: ProxyHeader) -> list[str]:
    """The hops of every occurrence of `header`, in order (client first)."""
    hops: list[str] = []
    for value in values:
        for element in _split_outside_quotes(value, ","):
            if header == "x-forwarded-for":
                hops.append(element.strip())
                continue
            found = ""
            for pair in _split_outside_quotes(element, ";"):
                name, _, given = pair.partition("=")
                if name.strip().lower() == "for":
                    found = given.strip()
            hops.append(found)
    return hops


def client_address(peer: str | None, hops: list[str], trusted: TrustedProxies) -> str | None:
    """The client's address: `peer` unless it is a trusted proxy; then the
    nearest hop (from the right) that is not one. A hop no address can be
    read from ends the walk at the last trusted hop (a value a client could
    pick freely must not become its address)."""
    if peer is None or not trusted.trusts(peer):
        return peer
    client = str(parse_ip(peer))
    for hop in reversed(hops):
        ip = parse_ip(hop)
        if ip is None:
            return client
        client = str(ip)
        if not trusted.trusts(ip):
            return client
    return client


def forwarded_proto(values: Iterable[str], header: ProxyHeader) -> str | None:
    """The scheme the nearest trusted proxy was reached by (http or https)."""
    last: str | None = None
    for value in values:
        for element in _split_outside_quotes(value, ","):
            if header == "x-forwarded-for":
                last = element
                continue
            for pair in _split_outside_quotes(element, ";"):
                name, _, given = pair.partition("=")
                if name.strip().lower() == "proto":
                    last = given
    scheme = (last or "").strip().strip('"').lower()
    return scheme if scheme in ("http", "https") else None
