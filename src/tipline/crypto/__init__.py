"""The only code that touches keys.

Design (after GlobaLeaks and SecureDrop):

* Every report has random 256-bit data keys: one for its content (text, identifiers, messages,
  files) and one for the reporter's contact details, so that retention can destroy contact details
  earlier than content. Data keys are stored only *wrapped* by the key-encryption key (KEK), a file
  under ``TIPLINE_DATA_DIR/keys`` that never enters the database. Deleting a wrapped data key makes
  everything sealed under it unrecoverable (crypto-shredding).
* Sealing is XChaCha20-Poly1305 (libsodium through PyNaCl) with a random 192-bit nonce and a
  versioned header. The header and a *context* string (for example ``report:42:payload``) are
  authenticated as associated data, so a blob moved to another report or field fails to open.
* Receipts are stored only as a keyed BLAKE2b digest under a second key file. A one-time
  submission token makes a re-sent form or a retried API call return the first answer: its
  digest finds the report, and a key derived from it (plus the receipt key) seals the receipt.
"""

from tipline.crypto.box import (
    DecryptionError,
    identifier_digest,
    new_data_key,
    open_sealed,
    open_secret,
    receipt_digest,
    seal,
    seal_secret,
    submission_digest,
    submission_key,
    unwrap_data_key,
    wrap_data_key,
)
from tipline.crypto.sealed import context, open_json, open_text, seal_json, seal_text

__all__ = [
    "DecryptionError",
    "context",
    "identifier_digest",
    "new_data_key",
    "open_json",
    "open_sealed",
    "open_secret",
    "open_text",
    "receipt_digest",
    "seal",
    "seal_json",
    "seal_secret",
    "seal_text",
    "submission_digest",
    "submission_key",
    "unwrap_data_key",
    "wrap_data_key",
]
