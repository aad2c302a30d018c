"""Where an OPD webhook may go: never to notify's own network.

A webhook URL is chosen by an outside client, so without a check it could
make notify POST to anything notify itself can reach (server-side request
forgery): the loopback, the district's private networks, the cloud metadata
service at 169.254.169.254. In production (``WEBHOOK_ALLOW_PRIVATE_ADDRESSES``
unset or false) a host is refused when it is a known local or metadata name,
or when ANY of the addresses it resolves to is:

- unspecified (0.0.0.0/8, ::), loopback (127/8, ::1);
- private (10/8, 172.16/12, 192.168/16, fc00::/7);
- link-local (169.254/16, fe80::/10: the cloud metadata services);
- shared address space (carrier-grade NAT, 100.64/10);
- multicast (224/4, ff00::/8);
- reserved (240/4, documentation and benchmarking ranges, 192.0.0/24,
  site-local fec0::/10, discard 100::/64, the deprecated IPv4-compatible
  ::/96, the local-use NAT64 prefix);
- an IPv6 address carrying an IPv4 one (IPv4-mapped ::ffff:0:0/96, the
  translation prefixes, NAT64 64:ff9b::/96, 6to4 2002::/16) whose IPv4
  address is any of the above.

A name resolving to a public AND a private address is refused: which one a
client would connect to is up to the resolver. Networks the district names in
``WEBHOOK_ALLOWED_NETWORKS`` (OPD systems on its own intranet) are let through.

The check runs twice: at registration (a clear 422 on ``url``) and at every
connection (`mpp_notify.webhooks.transport`), because the name's owner may
change what it resolves to in between (DNS rebinding): the name is resolved
once, every address checked, and the connection made to a checked address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# host, port -> the addresses (text) it resolves to; raises OSError when it does not.
Resolver = Callable[[str, int], Awaitable[list[str]]]

Reason = Literal[
    "unspecified",
    "loopback",
    "private",
    "link_local",
    "shared",
    "multicast",
    "reserved",
    "metadata",
]

# What a refusal says, in Bahasa Indonesia and in English.
REASONS: dict[Reason, tuple[str, str]] = {
    "unspecified": ("alamat tak tertentu", "an unspecified address"),
    "loopback": ("alamat loopback (mesin ini sendiri)", "a loopback address (this machine)"),
    "private": ("alamat jaringan privat", "a private network address"),
    "link_local": (
        "alamat link-local (termasuk layanan metadata cloud)",
        "a link-local address (including cloud metadata services)",
    ),
    "shared": ("alamat bersama carrier-grade NAT", "a carrier-grade NAT shared address"),
    "multicast": ("alamat multicast", "a multicast address"),
    "reserved": ("alamat yang dicadangkan", "a reserved address"),
    "metadata": ("nama layanan metadata cloud", "a cloud metadata service name"),
}

_V4: list[tuple[str, Reason]] = [
    ("0.0.0.0/8", "unspecified"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "shared"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link_local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "reserved"),  # IETF protocol assignments (one cloud's metadata too)
    ("192.0.2.0/24", "reserved"),  # documentation
    ("192.88.99.0/24", "reserved"),  # former 6to4 relays
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "reserved"),  # benchmarking
    ("198.51.100.0/24", "reserved"),
    ("203.0.113.0/24", "reserved"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),  # with the broadcast address
]
_V6: list[tuple[str, Reason]] = [
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::/96", "reserved"),  # IPv4-compatible, deprecated
    ("64:ff9b:1::/48", "reserved"),  # local-use NAT64
    ("100::/64", "reserved"),  # discard
    ("2001:db8::/32", "reserved"),  # documentation
    ("fc00::/7", "private"),  # unique local
    ("fe80::/10", "link_local"),
    ("fec0::/10", "reserved"),  # site-local, deprecated
    ("ff00::/8", "multicast"),
]
_RANGES: list[tuple[IPNetwork, Reason]] = [
    (ipaddress.ip_network(net), reason) for net, reason in (*_V4, *_V6)
]
# IPv6 prefixes whose last 32 bits are an IPv4 address, and 6to4 (bits 16-48).
_EMBEDS_LOW_V4 = [
    ipaddress.IPv6Network("::ffff:0:0/96"),  # IPv4-mapped
    ipaddress.IPv6Network("::ffff:0:0:0/96"),  # IPv4-translated (SIIT)
    ipaddress.IPv6Network("64:ff9b::/96"),  # NAT64, well-known prefix
]
_SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")

# Names of cloud metadata services that need not resolve to 169.254.169.254
# through public DNS, and the names that are this machine by definition.
METADATA_NAMES = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, translated, NAT64, 6to4)."""
    if any(address in net for net in _EMBEDS_LOW_V4):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _SIX_TO_FOUR:
        return ipaddress.IPv4Address((int(address) >> 80) & 0xFFFFFFFF)
    return None


def classify(address: IPAddress) -> Reason | None:
    """Why `address` is not a public one a webhook may go to (None: it is)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return "link_local"
        inner = embedded_ipv4(address)
        if inner is not None:
            return classify(inner)
    for network, reason in _RANGES:
        if address.version == network.version and address in network:
            return reason
    return None


def classify_name(host: str) -> Reason | None:
    """Why the host NAME is refused before any resolution (None: resolve it)."""
    name = host.lower().rstrip(".")
    if name in LOCAL_NAMES or name.endswith(".localhost"):
        return "loopback"
    if name in METADATA_NAMES:
        return "metadata"
    return None


class AddressRefused(Exception):
    """The host is, or resolves to, an address a webhook may not go to."""

    def __init__(self, host: str, reason: Reason, address: str | None = None) -> None:
        self.host = host
        self.reason = reason
        self.address = address
        what = REASONS[reason][1]
        if address and address != host:
            super().__init__(f"address refused: {host} resolves to {address}, {what}")
        else:
            super().__init__(f"address refused: {host} is {what}")

    def texts(self) -> tuple[str, str]:
        """The refusal in Bahasa Indonesia and in English, naming the address."""
        reason_id, reason_en = REASONS[self.reason]
        shown = f" ({self.address})" if self.address and self.address != self.host else ""
        return (
            f"tidak boleh mengarah ke {reason_id}{shown}",
            f"must not point to {reason_en}{shown}",
        )


class Unresolvable(OSError):
    """The name does not resolve (now)."""


async def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's resolver (getaddrinfo), TCP addresses only."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return [str(info[4][0]) for info in infos]


def parse_address(text: str) -> IPAddress:
    """An address as a resolver gives it (an IPv6 one may carry a %scope)."""
    return ipaddress.ip_address(text)


@dataclass(frozen=True)
class AddressGuard:
    """Resolves a webhook's host once and checks every address it got.

    `check` False (outside production by default) lets every address
    through; `allowed` networks pass even with the check on."""

    check: bool
    allowed: tuple[IPNetwork, ...] = ()
    resolver: Resolver = field(default=system_resolver)

    @classmethod
    def of(
        cls, *, check: bool, allowed: Iterable[str] = (), resolver: Resolver | None = None
    ) -> AddressGuard:
        return cls(
            check=check,
            allowed=tuple(ipaddress.ip_network(net, strict=False) for net in allowed),
            resolver=resolver or system_resolver,
        )

    def refusal(self, address: IPAddress) -> Reason | None:
        """Why `address` is refused (None: it may be connected to)."""
        if not self.check or any(
            address.version == net.version and address in net for net in self.allowed
        ):
            return None
        return classify(address)

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        """Every address of `host`, all checked; AddressRefused if any is not
        allowed, Unresolvable if there is none."""
        if self.check and (reason := classify_name(host)) is not None:
            raise AddressRefused(host, reason)
        try:
            literal = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            literal = None
        try:
            found = (
                [literal]
                if literal is not None
                else [parse_address(a) for a in await self.resolver(host, port)]
            )
        except (OSError, UnicodeError, ValueError) as exc:
            raise Unresolvable(f"cannot resolve {host}: {exc}") from exc
        if not found:
            raise Unresolvable(f"cannot resolve {host}: no address")
        unique = list(dict.fromkeys(found))
        for address in unique:
            if (reason := self.refusal(address)) is not None:
                raise AddressRefused(host, reason, str(address))
        return unique
