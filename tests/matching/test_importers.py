"""Importers and exporters: every format, every kind of bad input, and round trips."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tipline.audit.models import AuditEntry
from tipline.matching import banks, exporters
from tipline.matching.importers import ImportRefused, ImportResult, import_file, vics
from tipline.matching.models import BankEntry, HashBank

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"
PDQ_A = "e64cc9d91e623842f8d1f1d9a398e78c9f199a3bd87924f2b7e11e0bf061b064"
MD5_A = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def bank() -> HashBank:
    return banks.bank_create(actor="t", name="test", default_classification="baseline")


def _import(bank: HashBank, path: Path, fmt: str, **kw: object) -> ImportResult:
    return import_file(actor="t", bank=bank, path=path, fmt=fmt, **kw)  # type: ignore[arg-type]


def _write(tmp_path: Path, data: bytes | str, name: str = "list") -> Path:
    path = tmp_path / name
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return path


def _entries(bank: HashBank) -> set[tuple[object, ...]]:
    return {
        (e.kind, e.value, e.classification, e.quality, json.dumps(e.metadata, sort_keys=True))
        for e in BankEntry.objects.filter(bank=bank, removed_at=None)
    }


def _positions(result: ImportResult) -> list[int]:
    return [position for position, _ in result.errors]


# --- pdq-tsv ------------------------------------------------------------------------------------


def test_pdq_tsv_reads_tabs_commas_crlf_and_reports_bad_lines(bank: HashBank) -> None:
    progress: list[tuple[int, int]] = []
    result = _import(
        bank, DATA / "te-pdq.tsv", "pdq-tsv", progress=lambda d, t: progress.append((d, t))
    )
    assert (result.added, result.updated, result.skipped) == (4, 0, 0)
    reasons = dict(result.errors)
    assert _positions(result) == [7, 8, 9]
    assert "62 hex digits, expected 64" in reasons[7]
    assert "not hexadecimal" in reasons[8]
    assert "quality is not a whole number" in reasons[9]
    entry = BankEntry.objects.get(value=PDQ_A)
    assert (entry.kind, entry.quality, entry.metadata) == ("pdq", 100, {"extra": ["c.png"]})
    size = (DATA / "te-pdq.tsv").stat().st_size
    assert progress[-1] == (size, size)
    again = _import(bank, DATA / "te-pdq.tsv", "pdq-tsv")
    assert (again.added, again.updated, again.skipped) == (0, 0, 4)


def test_pdq_tsv_with_a_bom_and_no_header(bank: HashBank, tmp_path: Path) -> None:
    path = _write(tmp_path, b"\xef\xbb\xbf" + PDQ_A.encode() + b"\t77\n")
    result = _import(bank, path, "pdq-tsv")
    assert (result.added, result.errors) == (1, [])
    assert BankEntry.objects.get().quality == 77


def test_an_overlong_line_is_skipped_and_the_next_one_read(bank: HashBank, tmp_path: Path) -> None:
    path = _write(tmp_path, "a" * 200_000 + "\n" + PDQ_A + "\n")
    result = _import(bank, path, "pdq-tsv")
    assert result.added == 1
    assert result.errors == [(1, "line longer than 64 KB")]


def test_an_empty_file_is_refused(bank: HashBank, tmp_path: Path) -> None:
    for fmt in ("pdq-tsv", "csv", "vics", "ncmec-xml"):
        with pytest.raises(ImportRefused, match="the file is empty"):
            _import(bank, _write(tmp_path, b""), fmt)


def test_a_utf16_file_is_refused_with_the_reason(bank: HashBank, tmp_path: Path) -> None:
    path = _write(tmp_path, "\ufeff" + PDQ_A + "\n", name="u16")
    path.write_bytes(("\ufeff" + PDQ_A + "\n").encode("utf-16-le"))
    with pytest.raises(ImportRefused, match="UTF-16"):
        _import(bank, path, "pdq-tsv")


def test_bytes_that_are_not_utf8_fail_their_line_only(bank: HashBank, tmp_path: Path) -> None:
    path = _write(tmp_path, PDQ_A.encode() + b"\n\xc3\x28" + b"0" * 62 + b"\n")
    result = _import(bank, path, "pdq-tsv")
    assert result.added == 1
    assert result.errors == [(2, "PDQ value is not hexadecimal")]


# --- csv ----------------------------------------------------------------------------------------


def test_csv_with_bom_and_crlf_reports_each_bad_row(bank: HashBank) -> None:
    result = _import(bank, DATA / "hashes.csv", "csv")
    assert result.added == 4
    reasons = dict(result.errors)
    assert _positions(result) == [6, 7, 8, 9, 10, 11]
    assert reasons[6] == "expected 5 columns, found 2"
    assert reasons[7] == "expected 5 columns, found 6"
    assert "32 hex digits, expected 40" in reasons[8]
    assert "unknown hash kind" in reasons[9]
    assert "unknown classification" in reasons[10]
    assert "between 0 and 100" in reasons[11]
    assert result.ignored == {"column 'note'": 1}
    pdq = BankEntry.objects.get(kind="pdq")
    assert (pdq.classification, pdq.quality) == ("baseline", 95)


def test_csv_with_a_column_per_kind(bank: HashBank) -> None:
    result = _import(bank, DATA / "hashes-wide.csv", "csv")
    assert result.added == 5
    assert result.errors[0] == (4, "no hash in the row")
    assert result.errors[1][0] == 5
    assert result.errors[1][1].startswith("sha1: ")
    assert set(BankEntry.objects.filter(classification="A2").values_list("kind", flat=True)) == {
        "md5",
        "sha1",
        "pdq",
    }


def test_csv_without_a_usable_header_is_refused(bank: HashBank, tmp_path: Path) -> None:
    with pytest.raises(ImportRefused, match="header must name"):
        _import(bank, _write(tmp_path, "a,b\n1,2\n"), "csv")
    with pytest.raises(ImportRefused, match="names a column twice"):
        _import(bank, _write(tmp_path, "md5,md5\n"), "csv")


def test_csv_bad_quoting_and_bad_metadata_fail_their_rows(bank: HashBank, tmp_path: Path) -> None:
    text = (
        "kind,value,metadata\n"
        f'md5,{MD5_A},"{{""case"": ""1""}}"\n'
        f"md5,{MD5_A[::-1]},[1]\n"
        f'md5,"{MD5_A[:5]}"x,\n'
        f"pdq,{PDQ_A},\n"
    )
    result = _import(bank, _write(tmp_path, text), "csv")
    assert result.added == 2
    assert _positions(result) == [3, 4]
    assert result.errors[0][1] == "metadata is not a JSON object"
    assert BankEntry.objects.get(kind="md5").metadata == {"case": "1"}


# --- vics ---------------------------------------------------------------------------------------


def test_vics_2_media_with_alternative_hashes(bank: HashBank) -> None:
    result = _import(bank, DATA / "vics-2.json", "vics")
    assert result.added == 7
    assert _positions(result) == [4, 5]
    assert "MD5 value" in result.errors[0][1]
    assert "no MD5, SHA1, SHA256 or PDQ hash" in result.errors[1][1]
    assert result.ignored == {"hash type PhotoDNA": 2}
    first = BankEntry.objects.filter(metadata__vics_media_id=1)
    assert {(e.kind, e.classification) for e in first} == {
        ("md5", "baseline"),
        ("sha1", "baseline"),
        ("pdq", "baseline"),
    }
    assert BankEntry.objects.get(kind="sha256").classification == "national"
    assert BankEntry.objects.get(metadata__vics_media_id=3).classification == "unknown"
    assert BankEntry.objects.get(metadata__vics_media_id=6).classification == ""


def test_vics_1_cases_holding_media(bank: HashBank) -> None:
    result = _import(bank, DATA / "vics-1.json", "vics")
    assert result.added == 4
    assert _positions(result) == [3]
    assert "39 hex digits" in result.errors[0][1]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"value": [ {"MD5": "ab"', "not valid JSON: Expecting"),
        ("{'value': []}", "not valid JSON"),
        ('{"odata.metadata": "x"}', "no top-level 'value' list"),
        ("[1, 2]", "no top-level 'value' list"),
        ("[" * 65 + "]" * 65, "nested deeper than 64"),
        ('{"value": [' + "[" * 100_000 + "]" * 100_000 + "]}", "nested deeper than 64"),
    ],
    ids=["truncated", "malformed", "no-value", "not-object", "nesting-65", "nesting-bomb"],
)
def test_vics_refusals(bank: HashBank, tmp_path: Path, text: str, reason: str) -> None:
    with pytest.raises(ImportRefused, match=reason):
        _import(bank, _write(tmp_path, text), "vics")
    assert BankEntry.objects.count() == 0


def test_vics_brackets_inside_strings_do_not_count_as_nesting(
    bank: HashBank, tmp_path: Path
) -> None:
    doc = {"value": [{"MD5": MD5_A, "Note": "[" * 100 + '\\"{' * 100}]}
    result = _import(bank, _write(tmp_path, json.dumps(doc)), "vics")
    assert result.added == 1


def test_vics_larger_than_the_limit_is_refused(
    bank: HashBank, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vics, "MAX_JSON_BYTES", 100)
    with pytest.raises(ImportRefused, match="larger than"):
        _import(bank, _write(tmp_path, json.dumps({"value": [{"MD5": MD5_A}] * 5})), "vics")


# --- ncmec-xml ----------------------------------------------------------------------------------


def test_ncmec_xml_entries_with_attributes_children_and_namespaces(bank: HashBank) -> None:
    result = _import(bank, DATA / "ncmec.xml", "ncmec-xml")
    assert result.added == 5
    assert _positions(result) == [3, 4, 5]
    assert result.errors[0][1].startswith("entry 3 (id 1003): ")
    assert "unknown classification" in result.errors[1][1]
    assert "no MD5, SHA1, SHA256 or PDQ fingerprint" in result.errors[2][1]
    assert result.ignored == {"fingerprint type PhotoDNA": 1}
    assert {e.classification for e in BankEntry.objects.filter(metadata__ncmec_id="1001")} == {"A1"}
    assert BankEntry.objects.get(kind="sha256").metadata == {"ncmec_id": "1002"}


@pytest.mark.parametrize(
    ("name", "reason"),
    [("xml-bomb.xml", "declares a DTD"), ("xml-external-entity.xml", "declares a DTD")],
)
def test_xml_dtds_entities_and_external_entities_are_refused(
    bank: HashBank, name: str, reason: str
) -> None:
    with pytest.raises(ImportRefused, match=reason):
        _import(bank, DATA / name, "ncmec-xml")
    assert BankEntry.objects.count() == 0


def test_malformed_xml_is_refused_after_keeping_the_entries_before_it(
    bank: HashBank, tmp_path: Path
) -> None:
    text = (
        f'<entries><entry id="1"><fingerprints><md5>{MD5_A}</md5></fingerprints></entry>\n'
        "<entry><fingerprints><md5>oops</fingerprints></entry></entries>"
    )
    with pytest.raises(ImportRefused, match="malformed XML at line 2") as refused:
        _import(bank, _write(tmp_path, text), "ncmec-xml")
    assert refused.value.partial is not None
    assert refused.value.partial.added == 1
    assert BankEntry.objects.count() == 1


def test_deeply_nested_xml_is_refused(bank: HashBank, tmp_path: Path) -> None:
    with pytest.raises(ImportRefused, match="nested deeper than 64"):
        _import(bank, _write(tmp_path, "<a>" * 100 + "</a>" * 100), "ncmec-xml")


# --- batches, exporters and round trips --------------------------------------------------------


def test_large_imports_are_committed_in_batches(bank: HashBank, tmp_path: Path) -> None:
    lines = "".join(f"{i:064x}\n" for i in range(25))
    result = _import(bank, _write(tmp_path, lines), "pdq-tsv", batch_size=10)
    assert result.added == 25
    assert AuditEntry.objects.filter(action="hashes.import").count() == 3


def _round_trip(bank: HashBank, source: Path, fmt: str, tmp_path: Path) -> HashBank:
    exported = io.StringIO()
    writer = exporters.export_vics if fmt == "vics" else exporters.export_csv
    count = writer(bank, exported)
    assert count == BankEntry.objects.filter(bank=bank, removed_at=None).count()
    copy = banks.bank_create(actor="t", name=f"copy-{fmt}", default_classification="baseline")
    result = _import(copy, _write(tmp_path, exported.getvalue(), name=f"out.{fmt}"), fmt)
    assert result.errors == []
    return copy


@pytest.mark.parametrize("source", ["hashes.csv", "hashes-wide.csv", "te-pdq.tsv", "ncmec.xml"])
def test_csv_round_trip_gives_identical_entries(
    bank: HashBank, tmp_path: Path, source: str
) -> None:
    fmt = {"csv": "csv", "tsv": "pdq-tsv", "xml": "ncmec-xml"}[source.rsplit(".", 1)[1]]
    _import(bank, DATA / source, fmt)
    copy = _round_trip(bank, DATA / source, "csv", tmp_path)
    assert _entries(copy) == _entries(bank)


@pytest.mark.parametrize("source", ["vics-2.json", "vics-1.json"])
def test_vics_round_trip_gives_identical_entries(
    bank: HashBank, tmp_path: Path, source: str
) -> None:
    _import(bank, DATA / source, "vics")
    copy = _round_trip(bank, DATA / source, "vics", tmp_path)
    assert _entries(copy) == _entries(bank)


def test_vics_export_is_the_2_0_shape_with_one_media_per_source_media(bank: HashBank) -> None:
    _import(bank, DATA / "vics-2.json", "vics")
    out = io.StringIO()
    exporters.export_vics(bank, out)
    document = json.loads(out.getvalue())
    assert document["@odata.context"].endswith("2.0.xml/Default/$metadata#Media")
    first = document["value"][0]
    assert first["MediaID"] == 1
    assert first["Category"] == 1
    assert first["MD5"] == first["MD5"].upper()
    assert first["AlternativeHashes"] == [{"HashName": "PDQ", "HashValue": PDQ_A}]
    assert len(document["value"]) == 4


def test_exports_leave_out_removed_entries(bank: HashBank, tmp_path: Path) -> None:
    _import(bank, DATA / "te-pdq.tsv", "pdq-tsv")
    banks.entry_remove(actor="t", bank_name="test", value=PDQ_A)
    out = io.StringIO()
    assert exporters.export_csv(bank, out) == 3
    assert PDQ_A not in out.getvalue()
