"""scripts/serve.py: the app's launcher gives Streamlit's component scan the same answers, faster to
compute, and starts the real server with the options it is given."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from streamlit.components.v2 import manifest_scanner

ROOT = Path(__file__).resolve().parents[1]
SERVE = ROOT / "scripts" / "serve.py"


def _load_serve():
    spec = importlib.util.spec_from_file_location("coach_serve", SERVE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


serve = _load_serve()


def test_single_parse_filter_agrees_with_streamlits_for_every_installed_distribution() -> None:
    original = manifest_scanner._is_likely_streamlit_component_package
    assert original is not serve.likely_component_package  # this process was not patched
    dists = list(importlib.metadata.distributions())
    assert len(dists) > 50
    answers = {d.name: serve.likely_component_package(d) for d in dists}
    assert answers == {d.name: original(d) for d in dists}
    assert answers["streamlit"] and answers["streamlit-webrtc"]  # the positives are found too
    assert not answers["numpy"]


def test_metadata_headers_stop_before_the_description(tmp_path: Path) -> None:
    dist_info = tmp_path / "demo_pkg-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_bytes(
        b"Metadata-Version: 2.1\r\nName: st-demo\r\nVersion: 1.0\r\nSummary: A demo\r\n"
        b"Requires-Dist: numpy\r\n\r\nName: not-a-header\r\nA long description mentioning streamlit.\r\n"
    )
    dist = importlib.metadata.PathDistribution(dist_info)
    meta = serve.metadata_headers(dist)
    assert meta["Name"] == "st-demo" and meta.get_all("Requires-Dist") == ["numpy"]
    assert serve.likely_component_package(dist)  # by its name's prefix, like Streamlit's filter
    assert serve.likely_component_package(dist) == manifest_scanner._is_likely_streamlit_component_package(dist)


def test_patch_swaps_the_filter_and_the_scan_answers_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    before = manifest_scanner.scan_component_manifests()
    original = manifest_scanner._is_likely_streamlit_component_package
    monkeypatch.setattr(manifest_scanner, "_is_likely_streamlit_component_package", original)  # put back after
    assert serve.patch_component_scan()
    assert manifest_scanner._is_likely_streamlit_component_package is serve.likely_component_package
    after = manifest_scanner.scan_component_manifests()
    assert [(m.name, str(p)) for m, p in after] == [(m.name, str(p)) for m, p in before]


def test_patch_leaves_a_streamlit_without_the_function_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(manifest_scanner, "_is_likely_streamlit_component_package")
    assert serve.patch_component_scan() is False
    assert not hasattr(manifest_scanner, "_is_likely_streamlit_component_package")


def test_launcher_starts_the_app_on_the_given_port(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "COACH_DATA_DIR": str(tmp_path / "data")}
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, str(SERVE), "--server.port", str(port), "--server.address",
                                 "127.0.0.1"], cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=5) as r:
                        assert r.status == 200
                        break
                except OSError:
                    assert proc.poll() is None, log.read_text()
                    assert time.monotonic() < deadline, log.read_text()
                    time.sleep(0.2)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as r:
                assert b"<html" in r.read().lower()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    text = log.read_text()
    assert f"127.0.0.1:{port}" in text  # started from another folder, on the port it was given
    assert "Failed to scan component manifests" not in text and "Traceback" not in text
