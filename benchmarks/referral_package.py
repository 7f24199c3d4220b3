"""Referral package benchmark (issue 16): build the signed package for ~1 GB of evidence and
compare with what an agency's own tools take on the same bytes, in one run.

The baseline is `sha256sum` over the original files plus `age -r RECIPIENT` encrypting each of
them (Debian's tools, one `age` process per file, files already in the page cache). Tipline's
build does more on the same files: it reads each sealed object from the evidence store and opens
it (XChaCha20-Poly1305), checks its intake SHA-256, encrypts it to the agency (rage), hashes every
member for the manifest, writes the ZIP while hashing it (SHA-256 for the audit record,
BLAKE2b-512 for the minisign signature), renders the PDF summary and records the audit entry.
The goal is a speed ratio (baseline time / build time) of at least 0.5.

Evidence is random bytes (incompressible, like photos and video), written to a throw-away data
directory; 50 files of 20 MiB (the default per-file upload limit) make 1000 MiB.

    .venv/bin/python benchmarks/referral_package.py [--files 50] [--mib 20] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))


def django_setup(data_dir: Path) -> None:
    os.environ["TIPLINE_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tipline.settings"
    os.environ.pop("DATABASE_URL", None)
    import django

    from tipline.crypto.keyfiles import init_keys

    # Settings only read keys (as a real installation, created by `tipline keys init`).
    init_keys(data_dir / "keys", stored_data=None)
    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--no-input", verbosity=0)


def referred_report(originals: list[Path], recipient: str) -> object:
    from tipline.cases import actions, transitions
    from tipline.cases.states import Outcome
    from tipline.evidence.validate import ValidatedUpload
    from tipline.outputs import agencies
    from tipline.staff import actions as staff_actions

    uploads = []
    for path in originals:
        data = path.read_bytes()
        uploads.append(
            ValidatedUpload(
                name=path.name,
                content_type="image/jpeg",
                data=data,
                sha256=hashlib.sha256(data).hexdigest(),
            )
        )
    created = actions.report_create(
        category="sextortion",
        channel="web",
        language="en",
        details={"what_happened": "Benchmark report.", "urls": [], "handles": []},
        contact=None,
        uploads=uploads,
    )
    del uploads
    password = "quiet river lantern 2047"  # noqa: S105 - a throw-away benchmark account
    ana = staff_actions.staff_create(actor=None, username="ana", role="analyst", password=password)
    ben = staff_actions.staff_create(actor=None, username="ben", role="analyst", password=password)
    agencies.agency_add(actor=None, name="Bench Police", key=recipient)
    report = actions.report_claim(actor=ana.user, report=created.report)
    transitions.report_decide(
        actor=ana.user, report=report, outcome=Outcome.REFERRED, agency="Bench Police"
    )
    transitions.report_confirm(actor=ben.user, report=report)
    report.refresh_from_db()
    return report


def baseline(originals: list[Path], recipient: str, out: Path) -> float:
    start = time.perf_counter()
    subprocess.run(["sha256sum", *map(str, originals)], check=True, stdout=subprocess.DEVNULL)
    for path in originals:
        subprocess.run(
            ["age", "-r", recipient, "-o", str(out / (path.name + ".age")), str(path)], check=True
        )
    return time.perf_counter() - start


def build(report: object, out: Path) -> tuple[float, int]:
    from tipline.outputs import actions

    start = time.perf_counter()
    with out.open("xb") as handle:
        built = actions.referral_package_export(
            report=report,  # type: ignore[arg-type]
            agency="Bench Police",
            out=handle,
            filename=out.name,
        )
    # Not fsynced (the CLI does): neither are the baseline's outputs, so both leave the writeback
    # to the kernel and the comparison is of the work, not of the disk's flush.
    return time.perf_counter() - start, built.size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--mib", type=int, default=20, help="size of each file in MiB")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    for tool in ("age", "age-keygen", "sha256sum", "minisign"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is needed (Debian: apt-get install age minisign)")
    with tempfile.TemporaryDirectory(prefix="tipline-bench-referral-") as root:
        work = Path(root)
        django_setup(work / "data")
        keygen = subprocess.run(["age-keygen"], capture_output=True, text=True, check=True)
        recipient = next(
            line.split(": ", 1)[1]
            for line in keygen.stderr.splitlines() + keygen.stdout.splitlines()
            if line.startswith("Public key: ") or line.startswith("# public key: ")
        )
        plain = work / "originals"
        plain.mkdir()
        originals = []
        for index in range(args.files):
            path = plain / f"{index:03d}.bin"
            path.write_bytes(os.urandom(args.mib * 1024 * 1024))
            originals.append(path)
        total = sum(p.stat().st_size for p in originals)
        report = referred_report(originals, recipient)
        encrypted = work / "baseline"
        encrypted.mkdir()
        baseline(originals[:2], recipient, encrypted)  # warm up the tools
        shutil.rmtree(encrypted)
        encrypted.mkdir()
        base = baseline(originals, recipient, encrypted)
        ours, size = build(report, work / "package.zip")
        result = {
            "evidence_bytes": total,
            "files": args.files,
            "package_bytes": size,
            "baseline_s": round(base, 2),
            "build_s": round(ours, 2),
            "baseline_mb_s": round(total / base / 1e6, 1),
            "build_mb_s": round(total / ours / 1e6, 1),
            "ratio": round(base / ours, 2),
        }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{args.files} files, {total / 2**20:.0f} MiB of evidence;"
            f" package {size / 2**20:.0f} MiB"
        )
        print(f"sha256sum + age:      {base:6.2f} s  ({result['baseline_mb_s']} MB/s)")
        print(f"tipline package:      {ours:6.2f} s  ({result['build_mb_s']} MB/s)")
        print(f"ratio (goal >= 0.5):  {result['ratio']}")


if __name__ == "__main__":
    main()
