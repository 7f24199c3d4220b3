import pytest

from tipline import crypto
from tipline.crypto.box import HEADER


def test_seal_round_trips_and_hides_plaintext() -> None:
    key = crypto.new_data_key()
    blob = crypto.seal(key, b"a secret sentence", context="report:1:payload")
    assert b"secret" not in blob
    assert blob.startswith(HEADER)
    assert crypto.open_sealed(key, blob, context="report:1:payload") == b"a secret sentence"


def test_same_plaintext_seals_differently_each_time() -> None:
    key = crypto.new_data_key()
    assert crypto.seal(key, b"x", context="c") != crypto.seal(key, b"x", context="c")


@pytest.mark.parametrize(
    "mangle",
    [
        lambda b: b[:-1],  # truncated tag
        lambda b: b[:10],  # truncated header and nonce
        lambda b: b[:-5] + bytes([b[-5] ^ 1]) + b[-4:],  # flipped bit in ciphertext
        lambda b: b[:3] + bytes([b[3] ^ 1]) + b[4:],  # flipped bit in nonce
        lambda b: b"XX" + b[2:],  # wrong magic
        lambda b: b[:2] + b"\x09" + b[3:],  # unknown version
        lambda b: b"",
    ],
)
def test_damaged_ciphertext_fails(mangle: object) -> None:
    key = crypto.new_data_key()
    blob = crypto.seal(key, b"evidence", context="c")
    with pytest.raises(crypto.DecryptionError):
        crypto.open_sealed(key, mangle(blob), context="c")  # type: ignore[operator]


def test_blob_moved_to_another_context_fails() -> None:
    key = crypto.new_data_key()
    blob = crypto.seal(key, b"evidence", context="report:1:payload")
    with pytest.raises(crypto.DecryptionError):
        crypto.open_sealed(key, blob, context="report:2:payload")


def test_wrong_key_fails() -> None:
    blob = crypto.seal(crypto.new_data_key(), b"evidence", context="c")
    with pytest.raises(crypto.DecryptionError):
        crypto.open_sealed(crypto.new_data_key(), blob, context="c")


def test_wrapped_key_round_trips_only_in_its_context() -> None:
    data_key = crypto.new_data_key()
    wrapped = crypto.wrap_data_key(data_key, context="report:abc:content")
    assert data_key not in wrapped
    assert crypto.unwrap_data_key(wrapped, context="report:abc:content") == data_key
    with pytest.raises(crypto.DecryptionError):
        crypto.unwrap_data_key(wrapped, context="report:abd:content")


def test_receipt_digest_is_keyed_and_stable() -> None:
    a = crypto.receipt_digest("ABCDEFGHJKMNPQRS")
    assert a == crypto.receipt_digest("ABCDEFGHJKMNPQRS")
    assert a != crypto.receipt_digest("ABCDEFGHJKMNPQRT")
    assert len(a) == 64
