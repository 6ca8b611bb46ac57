"""Safe webhook targets, decided on the resolver's answer (api/push/targets.py): nothing here
connects anywhere, and no name is looked up on the network (a fake resolver answers)."""

from __future__ import annotations

import ipaddress

import pytest

from api.push.targets import UnsafeTarget, check, parse, refusal

REFUSED = {
    "10.0.0.1": "private",
    "172.16.5.4": "private",
    "192.168.1.1": "private",
    "fd12:3456::1": "private",
    "169.254.169.254": "metadata",
    "169.254.10.10": "link-local",
    "fe80::1": "link-local",
    "fd00:ec2::254": "metadata",
    "100.100.100.200": "metadata",
    "100.64.0.1": "not public",
    "0.0.0.0": "unspecified",
    "224.0.0.1": "multicast",
    "::ffff:10.0.0.1": "private",  # IPv4-mapped: judged as the IPv4 address
    "::ffff:127.0.0.1": "loopback",
    "127.0.0.1": "loopback",
    "127.8.9.10": "loopback",
    "::1": "loopback",
    "192.0.2.1": "private",  # documentation range (Python counts it private)
}


@pytest.mark.parametrize("address", sorted(REFUSED))
def test_non_public_addresses_are_refused(address):
    why = refusal(ipaddress.ip_address(address))
    assert why is not None and REFUSED[address] in why, why


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"])
def test_public_addresses_are_allowed(address):
    assert refusal(ipaddress.ip_address(address)) is None


def test_loopback_only_is_allowed_by_the_setting():
    for address in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
        assert refusal(ipaddress.ip_address(address), allow_loopback=True) is None
    for address in ("10.0.0.1", "169.254.169.254", "fe80::1"):
        assert refusal(ipaddress.ip_address(address), allow_loopback=True) is not None


def answers(*addresses: str):
    return lambda host, port: list(addresses)


def test_a_name_is_refused_when_any_answer_is_not_public():
    assert check("https://hooks.example/x", resolver=answers("93.184.216.34")).address == (
        "93.184.216.34"
    )
    with pytest.raises(UnsafeTarget, match=r"10\.1\.2\.3, a private address"):
        check("https://hooks.example/x", resolver=answers("93.184.216.34", "10.1.2.3"))
    with pytest.raises(UnsafeTarget, match="metadata"):
        check("https://metadata.example/", resolver=answers("169.254.169.254"))
    with pytest.raises(UnsafeTarget, match="does not resolve"):
        check("https://nowhere.example/", resolver=answers())


def test_address_literals_are_checked_without_a_resolver():
    def no_lookup(host, port):
        raise AssertionError("a literal address is not resolved")

    # a literal is judged as its address (refusal(), above); only loopback is named in a URL
    with pytest.raises(UnsafeTarget, match="loopback"):
        check("https://127.0.0.8/hook", resolver=no_lookup)
    with pytest.raises(UnsafeTarget, match="loopback"):
        check("https://[::1]/hook", resolver=no_lookup)
    assert check("https://93.184.216.34:8443/h", resolver=no_lookup).port == 8443


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.example/", "must be https"),
        ("ftp://hooks.example/", "must be https"),
        ("https://user:secret@hooks.example/", "credentials"),
        ("https:///path-only", "no host"),
        ("https://hooks.example/a b", "space"),
        ("https://hooks.example/#frag", "fragment"),
        ("https://hooks.example:99999/", "valid URL"),
        ("https://hooks.example/" + "a" * 2000, "longer"),
    ],
)
def test_malformed_or_insecure_urls_are_refused(url, message):
    with pytest.raises(UnsafeTarget, match=message):
        parse(url)


def test_http_only_where_the_deployment_allows_it():
    assert parse("http://hooks.example/h", allow_http=True) == ("http", "hooks.example", 80)
    with pytest.raises(UnsafeTarget, match="http or https"):
        parse("ftp://hooks.example/", allow_http=True)
