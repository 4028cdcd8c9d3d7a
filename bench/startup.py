"""Figures that need a fresh process: the app's cold start to its first page, and a first analysis.

Cold start: ``streamlit run app.py`` (as the set-up command starts it) on a free
port with an empty data dir, timed from spawn until the home page's title is visible in headless
Chromium (Playwright driving /usr/bin/chromium, launched before the app so the browser's own start is
not counted, with a fresh profile: nothing cached).
First analysis: a fresh Python process that imports the app's core, loads the models on demand and
analyses one answer, timed from spawn until the report is saved.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("COACH_CHROMIUM_PATH", "/usr/bin/chromium")
HOME_TITLE = "Interview Coach"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _peak_rss_mb(pid: int) -> float | None:
    """VmHWM (peak resident set) of a running process, from /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _wait_idle(pid: int, deadline: float, window_s: float = 1.0, busy_share: float = 0.1) -> float | None:
    """perf_counter time at which the process used < ``busy_share`` of a core over ``window_s``; None on timeout."""
    try:
        last = _cpu_seconds(pid)
        while time.perf_counter() < deadline:
            time.sleep(window_s)
            now = _cpu_seconds(pid)
            if now - last < busy_share * window_s:
                return time.perf_counter() - window_s
            last = now
    except OSError:
        return None
    return None


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def app_cold_start(data_dir: Path, timeout_s: float = 180.0, settle: bool = True) -> dict[str, Any]:
    """Seconds from starting the app (streamlit run app.py) to the home page's title visible in Chromium.

    With ``settle``, also waits for the server to go idle (models loaded) and times a second visit."""
    from playwright.sync_api import sync_playwright

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {**os.environ, "COACH_DATA_DIR": str(data_dir)}
    env.pop("COACH_DB_PATH", None)
    data_dir.mkdir(parents=True, exist_ok=True)
    log = (data_dir.parent / "streamlit.log").open("wb")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        )
        page = browser.new_page()
        page.goto("about:blank")
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [
                sys.executable,  # what `bash scripts/setup.sh app` runs: streamlit run app.py
                "-m",
                "streamlit",
                "run",
                "app.py",
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
                "--server.headless",
                "true",
                "--server.fileWatcherType",
                "none",
                "--browser.gatherUsageStats",
                "false",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = t0 + timeout_s
            while True:  # the server is up when its health endpoint answers
                if proc.poll() is not None:
                    raise RuntimeError(f"streamlit exited with code {proc.returncode}; see {log.name}")
                try:
                    with urllib.request.urlopen(url + "_stcore/health", timeout=2) as resp:
                        if resp.status == 200:
                            break
                except OSError:
                    pass
                if time.perf_counter() > deadline:
                    raise TimeoutError("the app did not answer its health check in time")
                time.sleep(0.05)
            health_s = time.perf_counter() - t0
            page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
            title = page.locator("h1", has_text=HOME_TITLE)
            title.wait_for(state="visible", timeout=max(1.0, deadline - time.perf_counter()) * 1000)
            first_page_s = time.perf_counter() - t0
            server_rss_mb = _peak_rss_mb(proc.pid)
            if not settle:
                return {"first_page_s": first_page_s, "health_s": health_s,
                        "server_peak_rss_mb_at_first_page": server_rss_mb}  # fmt: skip
            # The app loads its models in a background thread; once the server is idle they are loaded.
            settled_s = _wait_idle(proc.pid, deadline=time.perf_counter() + 120)
            models_ready_s = None if settled_s is None else settled_s - t0
            server_rss_loaded_mb = _peak_rss_mb(proc.pid)
            # A second visit to the running app (new browser tab), for comparison.
            t1 = time.perf_counter()
            page2 = browser.new_page()
            page2.goto(url, wait_until="commit")
            page2.locator("h1", has_text=HOME_TITLE).wait_for(state="visible", timeout=timeout_s * 1000)
            warm_page_s = time.perf_counter() - t1
        finally:
            _stop(proc)
            browser.close()
            log.close()
    return {
        "first_page_s": first_page_s,
        "health_s": health_s,
        "warm_page_s": warm_page_s,
        "server_peak_rss_mb_at_first_page": server_rss_mb,
        "server_idle_after_s": models_ready_s,
        "server_peak_rss_mb_models_loaded": server_rss_loaded_mb,
    }


CHILD = r"""
import json, sys, threading, time
spawn_ts, path, data_dir = float(sys.argv[1]), sys.argv[2], sys.argv[3]
started = time.time()
sys.path.insert(0, {root!r}); sys.path.insert(0, {root!r} + "/bench")
step = ["imports"]
rss_by_step = {{}}

def sample():  # resident memory every 0.1 s, by the pipeline step running at the time
    while True:
        with open("/proc/self/status") as f:
            kb = next(int(x.split()[1]) for x in f if x.startswith("VmRSS"))
        rss_by_step[step[0]] = max(rss_by_step.get(step[0], 0), kb / 1024)
        time.sleep(0.1)

threading.Thread(target=sample, daemon=True).start()
from pathlib import Path
from coach_core.config import load_settings
from coach_core.sessions.lifecycle import analyse_session, save_recording
from coach_core.storage.store import Store
from answers import QUESTION
imported = time.time()
settings = load_settings().with_overrides(data_dir=Path(data_dir), db_path=None)
store = Store(settings.database)
sid = save_recording(store, settings, Path(path), QUESTION, original_name=Path(path).name)
t = time.time()
report = analyse_session(store, settings, sid, progress=lambda name, fraction: step.__setitem__(0, name))
done = time.time()
time.sleep(0.15)
print(json.dumps({{
    "ready_after_spawn_s": done - spawn_ts,
    "interpreter_start_s": started - spawn_ts,
    "imports_s": imported - started,
    "analysis_s": done - t,
    "timings": report.timings,
    # VmHWM, not ru_maxrss: after fork+exec ru_maxrss keeps the parent's high-water mark.
    "peak_rss_mb": next(int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM")) / 1024,
    "peak_rss_mb_by_step": rss_by_step,
}}))
"""


def first_analysis(path: Path, data_dir: Path) -> dict[str, Any]:
    """A fresh Python process analyses ``path``: seconds from spawn to the saved report, and its parts."""
    env = {**os.environ}
    env.pop("COACH_DB_PATH", None)
    code = CHILD.format(root=str(ROOT))
    spawn_ts = time.time()
    out = subprocess.run(
        [sys.executable, "-c", code, repr(spawn_ts), str(path), str(data_dir)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    if out.returncode != 0:
        raise RuntimeError(f"first-analysis process failed: {out.stderr.strip().splitlines()[-1:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])
