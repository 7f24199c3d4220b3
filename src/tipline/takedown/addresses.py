"""Which addresses Tipline may fetch or accept as a provider's: the SSRF guard and e-mail checks.

The re-check fetches URLs that members of the public typed. A name can resolve to the hotline's
own network (127.0.0.1, 10.x, the cloud metadata address 169.254.169.254), so every address is
checked after resolution, on the address actually connected to, and again after each redirect.
"""

from __future__ import annotations

import ipaddress
import re

# Anything but ordinary public unicast: loopback, RFC 1918, link-local, CGNAT, multicast,
# reserved, documentation, the unspecified address and IPv4-mapped forms of all of these.
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


def is_public(address: str, *, allow_loopback: bool = False) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return allow_loopback
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return False
    return not (
        ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


# A plain addr-spec, nothing a mail header could be split on: no CR, LF, comma, angle brackets,
# quotes or spaces. Provider addresses come from RDAP replies and analysts, so are untrusted.
_EMAIL = re.compile(
    r"\A[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+\Z"
)


def clean_email(value: object) -> str:
    """The address if it is one plain mailbox, else ""."""
    if not isinstance(value, str) or len(value) > 254:
        return ""
    return value if _EMAIL.match(value) else ""
