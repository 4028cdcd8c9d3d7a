"""``python -m coach_core`` as a user runs it: exit codes, one-line errors, JSON written, sessions stored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COACH_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "coach_core", *args], capture_output=True, text=True, env=env, cwd=ROOT
    )


def test_questions_list_filters(tmp_path: Path) -> None:
    out = cli("questions", "--kind", "behavioral", data_dir=tmp_path)
    assert out.returncode == 0
    lines = out.stdout.strip().splitlines()
    assert len(lines) >= 20 and all("\tbehavioural\t" in line for line in lines)


def test_analyze_saves_then_show_and_history(tmp_path: Path, star_wav: Path) -> None:
    out_json = tmp_path / "r.json"
    run = cli("analyze", str(star_wav), "--question", "beh-failure-01", "--json", str(out_json), data_dir=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "transcribing" in run.stderr  # progress on stderr
    report = json.loads(out_json.read_text())
    assert report["question"]["id"] == "beh-failure-01" and report["metrics"]["star"] is not None
    assert "overall" in run.stdout and report["session_id"] in run.stdout
    history = cli("history", data_dir=tmp_path)
    assert history.returncode == 0 and report["session_id"] in history.stdout and "analysed" in history.stdout
    shown = cli("show", report["session_id"], "--json", "-", data_dir=tmp_path)
    assert shown.returncode == 0
    assert json.loads(shown.stdout.split("\nSession ")[0])["session_id"] == report["session_id"]
    # The recording was copied into the data directory before analysis.
    assert any((tmp_path / "recordings" / report["session_id"]).iterdir())


def test_analyze_custom_question_without_saving(tmp_path: Path, cache_one_wav: Path) -> None:
    run = cli("analyze", str(cache_one_wav), "--question-text", "How would you speed up reads?",
              "--key-point", "Use an in-memory cache", "--no-save", "--json", "-", data_dir=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.split("\nSession ")[0])
    assert report["question"]["key_points"] == ["Use an in-memory cache"]
    assert not (tmp_path / "coach.duckdb").exists()


@pytest.mark.parametrize(
    ("content", "name", "reason"),
    [
        (b"", "empty.wav", "empty"),
        (b"hello, this is text\n" * 50, "text.wav", "Not a readable audio or video file"),
    ],
)
def test_bad_file_one_line_reason_and_nothing_stored(tmp_path: Path, content: bytes, name: str, reason: str) -> None:
    bad = tmp_path / name
    bad.write_bytes(content)
    run = cli("analyze", str(bad), "--question-text", "Q?", data_dir=tmp_path / "d")
    assert run.returncode == 2
    assert run.stderr.strip().startswith("error: ") and reason in run.stderr
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1
    history = cli("history", data_dir=tmp_path / "d")
    assert "No sessions yet." in history.stdout


def test_silent_recording_refused_and_not_kept(tmp_path: Path) -> None:
    silent = tmp_path / "silent.wav"
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", str(silent), "trim", "0", "3"], check=True)
    run = cli("analyze", str(silent), "--question-text", "Q?", data_dir=tmp_path / "d")
    assert run.returncode == 2 and "silent" in run.stderr and "Traceback" not in run.stderr
    assert "No sessions yet." in cli("history", data_dir=tmp_path / "d").stdout


def test_unknown_question_and_session(tmp_path: Path, star_wav: Path) -> None:
    run = cli("analyze", str(star_wav), "--question", "nope", data_dir=tmp_path)
    assert run.returncode == 2 and "No question with id 'nope'" in run.stderr
    run = cli("show", "abc", data_dir=tmp_path)
    assert run.returncode == 2 and run.stderr == "error: Session abc not found\n"
    run = cli("analyze", str(tmp_path / "missing.wav"), "--question-text", "Q?", data_dir=tmp_path)
    assert run.returncode == 2 and "File not found" in run.stderr
