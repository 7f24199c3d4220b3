import pytest
from django.conf import LazySettings

from tests import factories
from tipline.cases.access import ReportNotFound, TooManyAttempts, report_by_receipt
from tipline.cases.models import ReceiptThrottle

pytestmark = pytest.mark.django_db


def test_receipt_finds_its_report_however_it_is_typed() -> None:
    created = factories.report()
    for typed in (created.receipt, created.receipt.lower(), created.receipt.replace("-", " ")):
        assert report_by_receipt(typed).id == created.report.id


@pytest.mark.parametrize(
    "receipt", ["", "nonsense", "AAAA-AAAA-AAAA-AAAA", "<script>", "\x00" * 16, "A" * 5000]
)
def test_unknown_and_malformed_receipts_raise_the_same_error(receipt: str) -> None:
    factories.report()
    with pytest.raises(ReportNotFound):
        report_by_receipt(receipt)


def test_another_reports_receipt_never_opens_this_one() -> None:
    first, second = factories.report(), factories.report()
    assert report_by_receipt(second.receipt).id != first.report.id


@pytest.mark.usefixtures("one_minute")
def test_guessing_is_throttled_in_the_bucket_even_for_a_right_receipt(
    settings: LazySettings,
) -> None:
    settings.TIPLINE_RECEIPT_FAILURES_PER_MINUTE = 3
    settings.TIPLINE_RECEIPT_BUCKETS = 1  # every receipt shares one bucket (tests/test_throttle.py)
    created = factories.report()
    for _ in range(3):
        with pytest.raises(ReportNotFound):
            report_by_receipt("AAAA-AAAA-AAAA-AAAA")
    # Past the limit even the right receipt is refused, so the throttle is not an oracle.
    with pytest.raises(TooManyAttempts):
        report_by_receipt(created.receipt)
    # The refused attempt is counted too; nothing else about it is kept.
    assert ReceiptThrottle.objects.get().failures == 4
    assert not any(hasattr(row, "address") for row in ReceiptThrottle.objects.all())
