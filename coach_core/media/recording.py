"""Writing a live WebRTC stream to a file without blocking the WebRTC event loop.

aiortc's ``MediaRecorder`` encodes every frame on the event loop (libx264 at its default preset for
Matroska). On a busy two-core machine that starves the loop: the browser's ICE consent checks go
unanswered for more than ~2.5 s, Chromium marks the connection "disconnected", and
streamlit-webrtc's front end then stops the recording by itself. ``FileRecorder`` has the same
interface (``addTrack``, ``start``, ``stop``) but the loop only hands frames to a queue; one worker
thread encodes (H.264 ``ultrafast``, AAC) and muxes.

Frames reach several consumers through streamlit-webrtc's relay (preview, frame callback,
recorder), and a frame object can be touched by another consumer, so timestamps are read when the
frame arrives and a frame whose timestamp does not move forward is dropped rather than failing the
file. The file is written under a temporary name and renamed when complete: once ``path`` exists it
is finished.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import threading
from fractions import Fraction
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

VIDEO_TIME_BASE = Fraction(1, 90000)  # RTP video clock; frames from aiortc already use it
MAX_PENDING_BEFORE_START = 300  # frames held back while waiting for the first frame of every track
_STOP = object()


class FileRecorder:
    """Record the tracks of one live session to a Matroska file (H.264 + AAC)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._partial = self.path.with_name(self.path.name + ".part")
        self._tracks: list[Any] = []
        self._tasks: list[asyncio.Task] = []
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self.dropped_frames = 0
        self.error: str | None = None

    def addTrack(self, track: Any) -> None:  # the name is aiortc MediaRecorder's
        if track.kind in ("audio", "video") and all(t.kind != track.kind for t in self._tracks):
            self._tracks.append(track)

    async def start(self) -> None:
        if self._thread is not None or not self._tracks:
            return
        kinds = tuple(t.kind for t in self._tracks)
        self._thread = threading.Thread(target=self._write, args=(kinds,), name="live-recorder", daemon=True)
        self._thread.start()
        self._tasks = [asyncio.ensure_future(self._pump(t)) for t in self._tracks]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks = []
        thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            await asyncio.get_running_loop().run_in_executor(None, thread.join)

    async def _pump(self, track: Any) -> None:
        from aiortc.mediastreams import MediaStreamError

        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            self._queue.put((track.kind, frame, frame.time))

    # Worker thread --------------------------------------------------------------------------
    def write_frames(self, kinds: tuple[str, ...], items: list[tuple[str, Any, float | None]]) -> None:
        """Encode ``(kind, frame, seconds)`` items to the file at once (the worker's loop, for tests)."""
        for item in items:
            self._queue.put(item)
        self._queue.put(_STOP)
        self._write(kinds)

    def _write(self, kinds: tuple[str, ...]) -> None:
        import av

        streams: dict[str, Any] = {}
        last_pts: dict[str, int] = {}
        pending: list[tuple[str, Any, float | None]] = []
        container = None
        try:
            container = av.open(str(self._partial), "w", format="matroska")
            while True:
                item = self._queue.get()
                if item is _STOP:
                    break
                kind, frame, _ = item
                if len(streams) < len(kinds):
                    # Every stream must exist before the first packet is written (the header).
                    if kind not in streams:
                        streams[kind] = _add_stream(container, kind, frame)
                    pending.append(item)
                    if len(streams) < len(kinds) and len(pending) < MAX_PENDING_BEFORE_START:
                        continue
                    batch, pending = pending, []
                else:
                    batch = [item]
                for kind, frame, seconds in batch:
                    if kind in streams:
                        self._encode(container, streams[kind], kind, frame, seconds, last_pts)
            for kind, frame, seconds in pending:
                if kind not in streams:
                    streams[kind] = _add_stream(container, kind, frame)
                self._encode(container, streams[kind], kind, frame, seconds, last_pts)
            for stream in streams.values():
                for packet in stream.encode(None):
                    container.mux(packet)
        except Exception as exc:  # keep what was written; the analysis reports a damaged file clearly
            self.error = f"{type(exc).__name__}: {exc}"
            log.warning("live recording to %s stopped early: %s", self.path, self.error)
        finally:
            if container is not None:
                try:
                    container.close()
                except Exception as exc:
                    self.error = self.error or f"{type(exc).__name__}: {exc}"
            if self._partial.exists():
                if streams:
                    os.replace(self._partial, self.path)
                else:
                    self._partial.unlink()

    def _encode(self, container: Any, stream: Any, kind: str, frame: Any, seconds: float | None,
                last_pts: dict[str, int]) -> None:  # fmt: skip
        time_base = VIDEO_TIME_BASE if kind == "video" else Fraction(1, stream.codec_context.sample_rate)
        if seconds is None:
            self.dropped_frames += 1
            return
        pts = round(seconds / time_base)
        if pts <= last_pts.get(kind, -(2**62)):
            self.dropped_frames += 1
            return
        last_pts[kind] = pts
        if frame.time_base != time_base:
            frame.time_base = time_base
        frame.pts = pts
        for packet in stream.encode(frame):
            try:
                container.mux(packet)
            except ValueError as exc:  # av errors subclass ValueError: one bad packet, not the whole file
                self.dropped_frames += 1
                log.debug("dropped a %s packet: %s", kind, exc)


def _add_stream(container: Any, kind: str, frame: Any) -> Any:
    if kind == "video":
        stream = container.add_stream("libx264", rate=30, options={"preset": "ultrafast", "crf": "23"})
        stream.pix_fmt = "yuv420p"
        stream.width, stream.height = frame.width, frame.height
        stream.codec_context.time_base = VIDEO_TIME_BASE
        return stream
    return container.add_stream("aac", rate=frame.sample_rate)
