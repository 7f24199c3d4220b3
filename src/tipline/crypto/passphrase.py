"""Locker passphrases: generation, strength, and the keys derived from them.

Design (the evidence locker, ``tipline.locker``):

* A locker is found *and* opened with its passphrase alone: no user name, no cookie. Argon2id
  (parameters from ``TIPLINE_LOCKER_ARGON2``) stretches the normalised passphrase, salted with a
  server-wide secret salt from the key file ``locker.key`` under KEY_DIR, into 64 bytes:
  - the first 32 are a *lookup value*; it is digested again with a keyed BLAKE2b (same key file,
    its own personalisation) before it is stored, so the database holds neither the Argon2
    output nor anything testable offline without the key file;
  - the last 32 are the *unlock key*. The locker's random data key is sealed under it and the
    result is wrapped again with the server KEK (``box.wrap_data_key``). Opening needs the
    passphrase (the server keeps no copy) *and* the key files: a database copy plus a passphrase
    is not enough, and neither is the server without the passphrase.
* The salt must be server-wide (not per locker) because the passphrase alone has to find the
  locker. Two lockers with one passphrase are refused at creation; at >= 80 bits that never
  happens by chance.
* A lost passphrase cannot be recovered: nothing on the server can unseal the data key.
* Passphrases are normalised (Unicode NFKC, case folded, runs of white space made one space) so
  that a phone's automatic capital or a double space does not lock the victim out; strength is
  judged on the normalised form.
* Session tokens (see ``tipline.locker.sessions``) are 128-bit random values; the database keeps
  only their keyed digest and the data key sealed under a key derived from the token, so a
  database copy cannot open a live session either.

Strength: a generated passphrase is 7 words from the EFF large word list (7,776 words, shipped
by ``xkcdpass``): 7 x 12.9 = 90.5 bits. A chosen one is estimated with zxcvbn (``guesses_log10``
of its first 72 characters, zxcvbn's limit; no credit for the rest) and, when every word is on the
EFF list, also as words x 12.9 bits; the lower estimate must reach 80 bits.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import math
import re
import secrets
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from argon2.low_level import Type, hash_secret_raw
from django.conf import settings
from zxcvbn import zxcvbn  # type: ignore[import-untyped]

from tipline.crypto import keyfiles

MIN_BITS = 80.0
GENERATED_WORDS = 7
# zxcvbn refuses input over 72 characters (its cost grows faster than linearly with length).
# Longer passphrases are judged on their first 72 characters only: no credit for the rest,
# which could be a repetition.
_ESTIMATE_CHARS = 72
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Derived:
    lookup: str  # keyed digest of the Argon2 lookup half; stored to find the locker
    unlock_key: bytes  # never stored: unseals the locker's data key


@dataclass(frozen=True)
class Strength:
    bits: float
    strong_enough: bool


@cache
def word_list() -> tuple[str, ...]:
    """The EFF large word list as shipped by xkcdpass (read once; nothing is downloaded)."""
    text = (importlib.resources.files("xkcdpass") / "static" / "eff-long").read_text()
    words = {line.strip().lower() for line in text.splitlines() if line.strip()}
    return tuple(sorted(words))


def generate(words: int = GENERATED_WORDS) -> str:
    wordlist = word_list()
    return " ".join(secrets.choice(wordlist) for _ in range(words))


def looks_generated(passphrase: str) -> bool:
    """Seven words of the list, as `generate` makes them (a page may carry only such a phrase)."""
    words = passphrase.split(" ")
    return len(words) == GENERATED_WORDS and all(word in _word_set() for word in words)


def normalise(passphrase: str) -> str:
    text = unicodedata.normalize("NFKC", passphrase).casefold()
    return _SPACES.sub(" ", text).strip()


def estimate(passphrase: str) -> Strength:
    text = normalise(passphrase)
    if not text:
        return Strength(bits=0.0, strong_enough=False)
    guesses_log10 = float(zxcvbn(text[:_ESTIMATE_CHARS])["guesses_log10"])
    bits = guesses_log10 * math.log2(10)
    parts = text.split(" ")
    if all(part in _word_set() for part in parts):
        bits = min(bits, len(parts) * math.log2(len(word_list())))
    return Strength(bits=bits, strong_enough=bits >= MIN_BITS)


@cache
def _word_set() -> frozenset[str]:
    return frozenset(word_list())


def _locker_key() -> bytes:
    return keyfiles.load_key(Path(settings.KEY_DIR), keyfiles.LOCKER)


def derive(passphrase: str) -> Derived:
    params = settings.TIPLINE_LOCKER_ARGON2
    key = _locker_key()
    raw = hash_secret_raw(
        secret=normalise(passphrase).encode(),
        salt=key,
        time_cost=int(params["time_cost"]),
        memory_cost=int(params["memory_kib"]),
        parallelism=int(params["parallelism"]),
        hash_len=64,
        type=Type.ID,
    )
    lookup = hashlib.blake2b(raw[:32], key=key, digest_size=32, person=b"tl-locker-find")
    return Derived(lookup=lookup.hexdigest(), unlock_key=raw[32:])


def throttle_bucket(passphrase: str, buckets: int) -> int:
    """Which of ``buckets`` failure counters an open with this passphrase draws on
    (``tipline.throttle``). Keyed, so a counter says nothing about a passphrase; cheap, so the
    budget is checked before Argon2 runs."""
    digest = hashlib.blake2b(
        normalise(passphrase).encode(), key=_locker_key(), digest_size=8, person=b"tl-locker-bckt"
    )
    return int.from_bytes(digest.digest(), "big") % buckets


def new_session_token() -> str:
    return secrets.token_urlsafe(16)  # 128 bits


def session_digest(token: str) -> str:
    return hashlib.blake2b(
        token.encode(), key=_locker_key(), digest_size=32, person=b"tl-locker-sess"
    ).hexdigest()


def session_key(token: str) -> bytes:
    return hashlib.blake2b(
        token.encode(), key=_locker_key(), digest_size=32, person=b"tl-locker-skey"
    ).digest()


def idempotency_digest(data_key: bytes, sha256_hex: str) -> str:
    """Recognises a re-import of the same bytes inside one locker only (keyed by its key)."""
    return hashlib.blake2b(
        sha256_hex.encode(), key=data_key, digest_size=32, person=b"tl-locker-idem"
    ).hexdigest()
