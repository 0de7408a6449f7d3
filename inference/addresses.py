"""Which network addresses a fetched URL may reach: public ones only.

A URL from the internet is a request to open a connection from inside the AWS network, where
169.254.169.254 hands out the function's credentials and private ranges hold internal services.
Python's `ipaddress` flags cover most of it; the rest (shared CGNAT space, benchmarking and
protocol ranges, IPv4 hidden inside IPv6 by mapping, 6to4, Teredo or NAT64) is listed here.
`inference.fetch` asks `blocked_reason` about every address a host resolves to.
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Ranges Python's ipaddress flags do not all cover, or covers differently across versions.
EXTRA_BLOCKED = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",  # "this network"
        "100.64.0.0/10",  # carrier-grade NAT (shared address space)
        "192.0.0.0/24",  # IETF protocol assignments
        "198.18.0.0/15",  # benchmarking
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and 255.255.255.255
        "64:ff9b:1::/48",  # local-use NAT64
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # deprecated site-local
        "ff00::/8",  # multicast
    )
]
NAT64 = ipaddress.ip_network("64:ff9b::/96")


def blocked_reason(address: IPAddress) -> str | None:
    """Why connecting to `address` is refused, or None when it is a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo:
            embedded = address.teredo[1]
        if embedded is None and address in NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            reason = blocked_reason(embedded)
            return f"{reason} (inside an IPv6 address)" if reason else None
    for flag in (
        "is_loopback",
        "is_link_local",
        "is_multicast",
        "is_unspecified",
        "is_reserved",
        "is_private",
    ):
        if getattr(address, flag):
            return flag[3:].replace("_", "-") + " address"
    if any(address in net for net in EXTRA_BLOCKED if net.version == address.version):
        return "non-public address"
    if not address.is_global:
        return "non-public address"
    return None
