"""The architecture is checked, not just described (docs/architecture.md): one-way imports, types, no private APIs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CACHE = Path.home() / ".cache" / "interview-coach" / "mypy"  # outside the tree: a clean clone reuses it


def run(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def test_imports_go_one_way_between_layers() -> None:
    """The contracts in pyproject.toml ([tool.importlinter]) hold: layers import only downwards."""
    done = run(str(BIN / "lint-imports"), "--no-cache")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


@pytest.mark.slow
def test_coach_core_type_checks() -> None:
    """mypy ([tool.mypy] in pyproject.toml) finds no error in coach_core."""
    done = run(sys.executable, "-m", "mypy", "--cache-dir", str(CACHE))
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "Success" in done.stdout


def test_no_private_streamlit_api_and_no_streamlit_in_the_core() -> None:
    private = re.compile(r"^\s*(from|import)\s+streamlit\.(runtime|web|components\.lib|elements\.lib)|\._[a-z]\w*\s*=",
                         re.M)  # fmt: skip
    offenders = []
    for path in [ROOT / "app.py", *(ROOT / "ui").rglob("*.py"), *(ROOT / "scripts").rglob("*.py")]:
        text = path.read_text("utf-8")
        offenders += [f"{path.relative_to(ROOT)}: {m.group(0).strip()}" for m in private.finditer(text)]
    assert not offenders, offenders
    for path in (ROOT / "coach_core").rglob("*.py"):
        assert not re.search(r"^\s*(from|import)\s+streamlit", path.read_text("utf-8"), re.M), path


def test_no_module_in_the_core_is_a_grab_bag() -> None:
    """No module of coach_core over ~400 lines (a sign it does two things); see docs/architecture.md."""
    long = {}
    for path in (ROOT / "coach_core").rglob("*.py"):
        lines = len(path.read_text("utf-8").splitlines())
        if lines > 480:
            long[str(path.relative_to(ROOT))] = lines
    assert not long, long
