import math

from tipline.cases import receipts


def test_receipt_has_at_least_80_bits_and_is_grouped() -> None:
    receipt = receipts.generate()
    assert len(receipt) == 19
    assert [len(g) for g in receipt.split("-")] == [4, 4, 4, 4]
    assert receipts.SYMBOLS * math.log2(len(receipts.ALPHABET)) >= 80


def test_receipts_do_not_repeat() -> None:
    assert len({receipts.generate() for _ in range(2000)}) == 2000


def test_normalise_forgives_case_spacing_and_lookalikes() -> None:
    canonical = receipts.normalise("7KQ2-M9XF-TR2B-8HZP")
    assert canonical == "7KQ2M9XFTR2B8HZP"
    assert receipts.normalise(" 7kq2 m9xf tr2b 8hzp ") == canonical
    assert receipts.normalise("1O00-0000-0000-0000") == receipts.normalise("1000-0000-0000-0000")
    assert receipts.normalise("L000-0000-0000-0000") == "1000000000000000"


def test_normalise_refuses_what_cannot_be_a_receipt() -> None:
    for bad in [
        "",
        "ABC",
        "7KQ2-M9XF-TR2B-8HZ",
        "7KQ2-M9XF-TR2B-8HZPX",
        "UUUU-UUUU-UUUU-UUUU",
        "x" * 10_000,
        "7KQ2-M9XF-TR2B-8HZ\x00",
        "<script>",
    ]:
        assert receipts.normalise(bad) is None
