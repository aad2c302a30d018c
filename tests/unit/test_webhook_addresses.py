"""Where a webhook may go: every refused range (IPv4, IPv6, IPv4 inside
IPv6), the names refused before any lookup, a name with a public and a
private address, the networks a district lets through, and when the check
is on."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

import pytest

from mpp_notify.settings import NotifySettings
from mpp_notify.webhooks.addresses import (
    AddressGuard,
    AddressRefused,
    Unresolvable,
    classify,
    classify_name,
    embedded_ipv4,
)

REFUSED = [
    # IPv4
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "unspecified"),
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("10.0.0.1", "private"),
    ("10.255.255.255", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("192.168.1.10", "private"),
    ("169.254.169.254", "link_local"),  # the cloud metadata service
    ("169.254.0.1", "link_local"),
    ("100.64.0.1", "shared"),
    ("100.127.255.254", "shared"),
    ("100.100.100.200", "shared"),  # another cloud's metadata service
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("192.0.0.192", "reserved"),  # yet another cloud's metadata service
    ("192.0.2.1", "reserved"),
    ("198.18.0.1", "reserved"),
    ("198.51.100.7", "reserved"),
    ("203.0.113.9", "reserved"),
    # IPv6
    ("::", "unspecified"),
    ("::1", "loopback"),
    ("fc00::1", "private"),
    ("fd00:ec2::254", "private"),  # the metadata service over IPv6
    ("fdff:ffff::1", "private"),
    ("fe80::1", "link_local"),
    ("febf::1", "link_local"),
    ("fe80::1%2", "link_local"),
    ("ff02::1", "multicast"),
    ("fec0::1", "reserved"),
    ("2001:db8::1", "reserved"),
    ("100::1", "reserved"),
    ("::7f00:1", "reserved"),  # IPv4-compatible, deprecated
    ("64:ff9b:1::1", "reserved"),
    # IPv4 inside IPv6: judged by the IPv4 address
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:10.1.2.3", "private"),
    ("::ffff:169.254.169.254", "link_local"),
    ("::ffff:100.64.1.1", "shared"),
    ("::ffff:0.0.0.0", "unspecified"),
    ("::ffff:0:192.168.0.1", "private"),  # IPv4-translated
    ("64:ff9b::a9fe:a9fe", "link_local"),  # NAT64 of 169.254.169.254
    ("64:ff9b::7f00:1", "loopback"),
    ("2002:a00:1::1", "private"),  # 6to4 of 10.0.0.1
    ("2002:7f00:1::", "loopback"),
]
PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "103.10.20.30",
    "100.63.255.255",  # just below the shared range
    "100.128.0.0",  # just above it
    "172.15.255.255",
    "172.32.0.0",
    "169.253.255.255",
    "192.0.1.1",
    "223.255.255.255",
    "2001:4860:4860::8888",
    "2400:cb00::1",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",  # NAT64 of 8.8.8.8
    "2002:808:808::1",  # 6to4 of 8.8.8.8
]


@pytest.mark.parametrize(("address", "reason"), REFUSED)
def test_every_non_public_range_is_refused_with_its_reason(address: str, reason: str) -> None:
    assert classify(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert classify(ipaddress.ip_address(address)) is None


def test_embedded_ipv4_addresses_are_found() -> None:
    assert embedded_ipv4(ipaddress.IPv6Address("::ffff:169.254.169.254")) == (
        ipaddress.IPv4Address("169.254.169.254")
    )
    assert embedded_ipv4(ipaddress.IPv6Address("2002:c0a8:0101::1")) == (
        ipaddress.IPv4Address("192.168.1.1")
    )
    assert embedded_ipv4(ipaddress.IPv6Address("2001:4860::1")) is None


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("localhost", "loopback"),
        ("LOCALHOST.", "loopback"),
        ("api.localhost", "loopback"),
        ("ip6-localhost", "loopback"),
        ("metadata.google.internal", "metadata"),
        ("metadata.google.internal.", "metadata"),
        ("metadata", "metadata"),
        ("instance-data.ec2.internal", "metadata"),
    ],
)
def test_local_and_metadata_names_are_refused_before_any_lookup(name: str, reason: str) -> None:
    assert classify_name(name) == reason


def test_ordinary_names_are_left_to_their_addresses() -> None:
    assert classify_name("dukcapil.kedirikab.go.id") is None
    assert classify_name("localhost-dukcapil.example") is None


@dataclass
class FakeDns:
    table: dict[str, list[str]]
    calls: list[str] = field(default_factory=list)

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        if host not in self.table:
            raise OSError(f"{host}: name not known")
        return self.table[host]


async def test_a_name_with_a_public_and_a_private_address_is_refused() -> None:
    resolver = FakeDns(
        {
            "mixed.example": ["203.0.114.5", "10.0.0.7"],
            "public.example": ["203.0.114.5", "2400:cb00::1"],
            "mapped.example": ["::ffff:127.0.0.1"],
        }
    )
    guard = AddressGuard.of(check=True, resolver=resolver)
    with pytest.raises(AddressRefused) as refused:
        await guard.resolve("mixed.example", 443)
    assert refused.value.reason == "private" and refused.value.address == "10.0.0.7"
    assert "mixed.example resolves to 10.0.0.7" in str(refused.value)
    assert refused.value.texts() == (
        "tidak boleh mengarah ke alamat jaringan privat (10.0.0.7)",
        "must not point to a private network address (10.0.0.7)",
    )
    with pytest.raises(AddressRefused, match="loopback"):
        await guard.resolve("mapped.example", 443)
    assert [str(a) for a in await guard.resolve("public.example", 443)] == [
        "203.0.114.5",
        "2400:cb00::1",
    ]


async def test_names_and_literals_are_refused_and_unknown_names_do_not_resolve() -> None:
    resolver = FakeDns({"127.0.0.1": ["127.0.0.1"]})
    guard = AddressGuard.of(check=True, resolver=resolver)
    with pytest.raises(AddressRefused) as refused:
        await guard.resolve("metadata.google.internal", 80)
    assert refused.value.reason == "metadata"
    with pytest.raises(AddressRefused):
        await guard.resolve("localhost", 80)
    assert resolver.calls == []  # refused by name, no lookup
    with pytest.raises(AddressRefused, match="loopback"):
        await guard.resolve("127.0.0.1", 80)
    with pytest.raises(Unresolvable):
        await guard.resolve("nowhere.example", 80)


async def test_the_system_resolver_refuses_what_localhost_literals_become() -> None:
    guard = AddressGuard.of(check=True)
    for host in ("127.0.0.1", "::1", "0.0.0.0", "2130706433", "169.254.169.254"):
        with pytest.raises(AddressRefused):
            await guard.resolve(host, 80)


async def test_allowed_networks_pass_and_no_check_passes_everything() -> None:
    resolver = FakeDns({"intranet.opd": ["10.20.1.5"], "other.opd": ["10.30.1.5"]})
    guard = AddressGuard.of(check=True, allowed=["10.20.0.0/16"], resolver=resolver)
    assert [str(a) for a in await guard.resolve("intranet.opd", 443)] == ["10.20.1.5"]
    with pytest.raises(AddressRefused):
        await guard.resolve("other.opd", 443)
    unchecked = AddressGuard.of(check=False, resolver=resolver)
    assert [str(a) for a in await unchecked.resolve("other.opd", 443)] == ["10.30.1.5"]
    assert [str(a) for a in await AddressGuard.of(check=False).resolve("localhost", 80)]


def test_the_check_is_on_in_production_unless_a_setting_says_otherwise() -> None:
    assert not NotifySettings().webhooks_check_addresses()
    assert NotifySettings(webhook_allow_private_addresses=False).webhooks_check_addresses()
    production = NotifySettings().model_copy(update={"mpp_env": "production"})
    assert production.webhooks_check_addresses()
    allowed = production.model_copy(update={"webhook_allow_private_addresses": True})
    assert not allowed.webhooks_check_addresses()
    assert NotifySettings(webhook_allowed_networks=[" 10.20.0.0/16"]).webhook_allowed_networks == [
        "10.20.0.0/16"
    ]
    for metadata in (["169.254.0.0/16"], ["fd00::/8"], ["not-a-network"]):
        with pytest.raises(ValueError):
            NotifySettings(webhook_allowed_networks=metadata)
