"""`tipline triage score|eval` run as an operator would: JSON out, clear refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tipline.crypto.keyfiles import init_keys
from tipline.triage.evaluate import DEV_SET, TEST_SET, load

TIPLINE = [sys.executable, "-m", "tipline.cli"]


def run(*args: str, data_dir: Path, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    if not (data_dir / "keys").exists():
        init_keys(data_dir / "keys", stored_data=None)  # `tipline keys init`: commands need keys
    env = dict(
        os.environ, TIPLINE_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="tipline.settings"
    )
    return subprocess.run(
        [*TIPLINE, "triage", *args], env=env, input=stdin, capture_output=True, check=False
    )


def test_score_prints_one_json_object_with_spans(tmp_path: Path) -> None:
    text = "He said: I know where you live and I will kill you."
    result = run("score", "--lang", "en", data_dir=tmp_path, stdin=text.encode())
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().strip().splitlines()
    assert len(lines) == 1
    scored = json.loads(lines[0])
    assert set(scored) == {"score", "tier", "reasons"}
    assert isinstance(scored["score"], int)
    assert scored["tier"] in {"P1", "P2", "P3", "P4"}
    assert scored["reasons"]
    for reason in scored["reasons"]:
        assert set(reason) == {"rule", "span", "start", "end", "points"}
        if reason["span"] is not None:
            assert text[reason["start"] : reason["end"]] == reason["span"]
    assert "en.threat.kill" in {r["rule"] for r in scored["reasons"]}


def test_score_reads_hindi_and_replaces_bad_bytes(tmp_path: Path) -> None:
    text = "पैसे भेजो नहीं तो तुम्हारी फोटो सबको भेज दूँगा".encode() + b"\xff"
    result = run("score", "--lang", "hi", data_dir=tmp_path, stdin=text)
    assert result.returncode == 0, result.stderr
    scored = json.loads(result.stdout)
    assert any(r["rule"].startswith("hi.sextortion.") for r in scored["reasons"])


def test_score_of_empty_input_is_p4(tmp_path: Path) -> None:
    result = run("score", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"score": 0, "tier": "P4", "reasons": []}


def test_score_refuses_an_unknown_language(tmp_path: Path) -> None:
    result = run("score", "--lang", "xx", data_dir=tmp_path, stdin=b"hello")
    assert result.returncode != 0
    assert "unknown language 'xx'" in result.stderr.decode()
    assert result.stdout == b""


def test_score_refuses_more_than_a_megabyte(tmp_path: Path) -> None:
    result = run("score", data_dir=tmp_path, stdin=b"a " * (600 * 1024))
    assert result.returncode != 0
    assert "larger than" in result.stderr.decode()


def test_eval_prints_the_table_then_json_as_the_last_line(tmp_path: Path) -> None:
    examples = tmp_path / "examples.jsonl"
    examples.write_text(
        "\n".join(
            [
                json.dumps({"text": "I will kill you tonight", "tier": "P2", "lang": "en"}),
                json.dumps({"text": "how do I report a profile?", "tier": "P4", "lang": "en"}),
                "not json at all",
                json.dumps({"text": "x", "tier": "P7"}),
            ]
        ),
        encoding="utf-8",
    )
    result = run("eval", str(examples), data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode().strip().splitlines()
    assert "precision (95% CI)" in "\n".join(out)
    last = json.loads(out[-1])
    assert set(last["tiers"]) == {"P1", "P2", "P3", "P4"}
    assert {"precision", "recall", "f1", "support"} <= set(last["tiers"]["P4"])
    assert last["examples"] == 2
    assert last["skipped"] == 2
    errors = result.stderr.decode()
    assert "examples.jsonl:3: skipped: not valid JSON" in errors
    assert "examples.jsonl:4: skipped:" in errors


def test_eval_without_a_file_reports_the_dev_and_test_sets_apart(tmp_path: Path) -> None:
    result = run("eval", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode().strip().splitlines()
    assert "team's development set" in out[0]
    test_header = next(i for i, line in enumerate(out) if "held-apart test set" in line)
    assert test_header > 0
    # Each set has its own tier table and its own per-language goals.
    assert sum("precision (95% CI)" in line for line in out) == 2
    assert sum(line.startswith("by language (95% Wilson") for line in out) == 2
    for lang in ("en", "fr", "hi"):
        verdicts = [line for line in out[test_header:] if line.startswith(f"{lang}: ")]
        assert verdicts, lang
    assert any("threat recall" in line and ("PASS" in line or "FAIL" in line) for line in out)
    last = json.loads(out[-1])
    assert set(last) == {"sets"}
    dev, test = last["sets"]["dev"], last["sets"]["test"]
    assert dev["examples"] >= 120
    assert dev["skipped"] == test["skipped"] == 0
    assert test["examples"] >= 900
    for lang in ("en", "fr", "hi"):
        goals = test["by_lang"][lang]["goals"]
        assert set(goals) == {"threat_recall", "p1_recall", "calm_urgent"}
        assert all(goal["pass"] in (True, False) for goal in goals.values())
        threat = test["by_lang"][lang]["rates"]["threat_recall"]
        assert threat["n"] >= 60
        low, high = threat["ci"]
        assert 0.0 <= low <= threat["value"] <= high <= 1.0
    # Each set's threat rate counts that set's own labelled threats: the development set labels
    # only the sentences added since the issue-20 rule rebuild, the test set every line.
    for name, path, summary in (("dev", DEV_SET, dev), ("test", TEST_SET, test)):
        labelled = sum(e.threat is True and e.lang == "en" for e in load(path).examples)
        assert summary["by_lang"]["en"]["rates"]["threat_recall"]["n"] == labelled > 0, name
    assert {"hi/deva", "hi/latn"} <= set(test["by_lang"])


def test_eval_set_dev_keeps_the_single_set_json(tmp_path: Path) -> None:
    result = run("eval", "--set", "dev", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode().strip().splitlines()
    assert "team's development set" in out[0]
    assert not any("held-apart" in line for line in out)
    last = json.loads(out[-1])
    assert last["examples"] >= 120
    assert last["skipped"] == 0
    # The third pass's development lines carry Hindi script labels, so Hindi is split too.
    assert set(last["by_lang"]) == {"en", "fr", "hi", "hi/deva", "hi/latn"}


def test_eval_refuses_a_file_and_a_set_together_and_an_unknown_set(tmp_path: Path) -> None:
    examples = tmp_path / "examples.jsonl"
    examples.write_text('{"text": "hello", "tier": "P4", "lang": "en"}\n', encoding="utf-8")
    result = run("eval", str(examples), "--set", "test", data_dir=tmp_path)
    assert result.returncode != 0
    assert "not both" in result.stderr.decode()
    result = run("eval", "--set", "train", data_dir=tmp_path)
    assert result.returncode != 0
    assert "invalid choice" in result.stderr.decode()


def test_eval_of_a_labelled_file_judges_the_goals(tmp_path: Path) -> None:
    examples = tmp_path / "labelled.jsonl"
    lines = [
        {"text": "how do I report a profile?", "tier": "P4", "lang": "en", "family": "calm"},
        {"text": "what time is it", "tier": "P4", "lang": "en", "family": "calm", "threat": False},
    ]
    examples.write_text("\n".join(json.dumps(line) for line in lines), encoding="utf-8")
    result = run("eval", str(examples), data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode().strip().splitlines()
    calm = next(line for line in out if "calm scored P1/P2" in line)
    assert "0/2" in calm
    assert "goal ≤ 0.05  PASS" in calm
    goals = json.loads(out[-1])["by_lang"]["en"]["goals"]
    assert goals["calm_urgent"]["pass"] is True
    assert goals["calm_urgent"]["settled"] is False  # two sentences cannot settle 5 %


def test_eval_refuses_an_unreadable_file(tmp_path: Path) -> None:
    result = run("eval", str(tmp_path / "missing.jsonl"), data_dir=tmp_path)
    assert result.returncode != 0
    assert "cannot read" in result.stderr.decode()
    result = run("eval", str(tmp_path), data_dir=tmp_path)  # a directory
    assert result.returncode != 0
    assert "cannot read" in result.stderr.decode()


def test_eval_refuses_a_file_without_usable_lines(tmp_path: Path) -> None:
    examples = tmp_path / "bad.jsonl"
    examples.write_text('{"text": "x", "tier": "P9"}\n', encoding="utf-8")
    result = run("eval", str(examples), data_dir=tmp_path)
    assert result.returncode != 0
    assert "no usable examples" in result.stderr.decode()


def test_eval_refuses_an_example_in_an_unknown_language(tmp_path: Path) -> None:
    examples = tmp_path / "de.jsonl"
    examples.write_text('{"text": "hallo", "tier": "P4", "lang": "de"}\n', encoding="utf-8")
    result = run("eval", str(examples), data_dir=tmp_path)
    assert result.returncode != 0
    assert "unknown language 'de'" in result.stderr.decode()


def test_eval_can_keep_one_language(tmp_path: Path) -> None:
    result = run("eval", "--set", "dev", "--lang", "hi", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode().strip().splitlines()
    assert "labelled 'hi'" in out[0]
    examples = load(DEV_SET).examples
    hindi = sum(e.lang == "hi" for e in examples)
    assert 30 <= json.loads(out[-1])["examples"] == hindi < len(examples)
    assert run("eval", "--lang", "xx", data_dir=tmp_path).returncode != 0
