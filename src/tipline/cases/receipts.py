"""Receipts: the reporter's only key to their report.

16 symbols of Crockford's base32 (80 bits), written in four groups of four: easy to copy by hand,
no letters that look alike (no I, L, O, U), and forgiving when read back (case, spaces, dashes,
and the look-alikes O->0, I/L->1 are normalised).
"""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SYMBOLS = 16
GROUP = 4
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_IGNORED = str.maketrans("", "", " -\t\u00a0")


def generate() -> str:
    # 80 random bits in one read, 5 bits a symbol (32 symbols: no bias); secrets.choice made one
    # getrandom() system call per symbol, 16 a report (docs/BENCHMARKS.md, intake profile).
    bits = int.from_bytes(secrets.token_bytes(SYMBOLS * 5 // 8), "big")
    raw = "".join(ALPHABET[(bits >> (5 * i)) & 31] for i in range(SYMBOLS))
    return format_receipt(raw)


def format_receipt(raw: str) -> str:
    return "-".join(raw[i : i + GROUP] for i in range(0, len(raw), GROUP))


def normalise(text: str) -> str | None:
    """Canonical form of a typed receipt, or None if it cannot be one."""
    if len(text) > 64:
        return None
    cleaned = text.upper().translate(_IGNORED).translate(_LOOKALIKES)
    if len(cleaned) != SYMBOLS or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned
