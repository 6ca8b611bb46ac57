"""Safe webhook targets: a subscription's URL is https (http only where the deployment allows
it, `WEBHOOK_ALLOW_HTTP`), and every address its host resolves to is a public one: loopback
(unless `WEBHOOK_ALLOW_LOOPBACK`), private, link-local, shared (CGNAT), multicast, reserved
and cloud metadata addresses are refused. Checked when a subscription is made and again at
each delivery, which then connects to the address that was checked (DNS may change between
the check and the connection: a name is resolved once per delivery, never twice).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

# Instance metadata services that are not in a private or link-local range everywhere
# (169.254.169.254 is link-local and refused as such; these are named for the message).
METADATA_ADDRESSES = {
    ipaddress.ip_address("169.254.169.254"): "cloud instance metadata",
    ipaddress.ip_address("fd00:ec2::254"): "cloud instance metadata (AWS IPv6)",
    ipaddress.ip_address("100.100.100.200"): "cloud instance metadata (Alibaba)",
    ipaddress.ip_address("192.0.0.192"): "cloud instance metadata (Oracle)",
}
MAX_URL_LENGTH = 2000


class UnsafeTarget(ValueError):
    """A URL the service will not deliver to; the message says why."""


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (`address`) and what to ask for there."""

    url: str
    scheme: str
    host: str  # as written in the URL (the TLS server name and the Host header)
    port: int
    address: str  # the checked address to connect to


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (the system resolver)."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise UnsafeTarget(f"The host {host!r} does not resolve.") from error
    return list(dict.fromkeys(str(answer[4][0]) for answer in answers))


def refusal(address: Address, allow_loopback: bool = False) -> str | None:
    """Why deliveries to `address` are refused, or None when it is a public address (or a
    loopback one, with `allow_loopback`)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return refusal(address.ipv4_mapped, allow_loopback)
    if address in METADATA_ADDRESSES:
        return METADATA_ADDRESSES[address]
    if address.is_loopback:
        return None if allow_loopback else "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "an address that is not public (shared or reserved)"
    return None


def parse(url: str, allow_http: bool = False) -> tuple[str, str, int]:
    """(scheme, host, port) of a webhook URL; UnsafeTarget when it is not one."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeTarget(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        raise UnsafeTarget("The URL holds a space or a control character.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeTarget(f"Not a valid URL: {error}.") from error
    allowed = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in allowed:
        raise UnsafeTarget(
            "The URL must be https."
            if not allow_http
            else "The URL must be http or https (this deployment allows http)."
        )
    if not parts.hostname:
        raise UnsafeTarget("The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("The URL must not hold credentials (user:password@).")
    if parts.fragment:
        raise UnsafeTarget("The URL must not have a fragment (#...).")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def check(
    url: str,
    allow_http: bool = False,
    allow_loopback: bool = False,
    resolver: Resolver = resolve,
) -> Target:
    """The checked target of `url`: its host resolved once and every address it resolves to
    allowed (one refused address refuses the URL); UnsafeTarget otherwise."""
    scheme, host, port = parse(url, allow_http)
    try:
        literal: Address | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    answers = [str(literal)] if literal is not None else resolver(host, port)
    if not answers:
        raise UnsafeTarget(f"The host {host!r} does not resolve.")
    for answer in answers:
        address = ipaddress.ip_address(answer.split("%", 1)[0])  # no IPv6 zone
        why = refusal(address, allow_loopback)
        if why is not None:
            raise UnsafeTarget(f"The host {host!r} resolves to {address}, {why}.")
    return Target(url, scheme, host, port, answers[0])
