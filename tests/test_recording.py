"""The live recorder's file writer: real PyAV encoding of WebRTC-like frames, with the timestamp faults seen live."""

from __future__ import annotations

import asyncio
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError

from coach_core.media.decode import SAMPLE_RATE, decode_audio, probe
from coach_core.media.recording import FileRecorder

SAMPLES = 960  # 20 ms of 48 kHz audio, what aiortc's Opus decoder gives


def audio_frame(i: int) -> av.AudioFrame:
    t = (np.arange(SAMPLES) + i * SAMPLES) / 48000
    tone = (3000 * np.sin(2 * np.pi * 220 * t)).astype(np.int16)
    frame = av.AudioFrame.from_ndarray(np.repeat(tone, 2)[None, :], format="s16", layout="stereo")
    frame.sample_rate = 48000
    frame.pts = i * SAMPLES
    frame.time_base = Fraction(1, 48000)
    return frame


def video_frame(seconds: float, shade: int) -> av.VideoFrame:
    frame = av.VideoFrame.from_ndarray(np.full((240, 320, 3), shade, np.uint8), format="rgb24")
    frame = frame.reformat(format="yuv420p")
    frame.pts = round(seconds * 90000)
    frame.time_base = Fraction(1, 90000)
    return frame


def webrtc_items(seconds: float, faults: bool) -> list[tuple[str, object, float]]:
    """Audio every 20 ms, video at 15 fps; with faults: repeated and backwards video timestamps."""
    items: list[tuple[str, object, float]] = []
    for i in range(int(seconds / 0.02)):
        a = audio_frame(i)
        items.append(("audio", a, float(a.time)))
        if i % 3 == 0:
            v = video_frame(i * 0.02, i % 255)
            items.append(("video", v, float(v.time)))
            if faults and i % 30 == 0:
                items.append(("video", v, float(v.time)))  # the same frame twice
            if faults and i % 45 == 0 and i:
                items.append(("video", v, float(v.time) - 0.3))  # a re-stamped frame, back in time
    return items


def packets(path: Path) -> dict[str, int]:
    counts = {"audio": 0, "video": 0}
    with av.open(str(path)) as container:
        for packet in container.demux():
            if packet.size:
                counts[packet.stream.type] += 1
    return counts


@pytest.mark.parametrize("faults", [False, True])
def test_recording_keeps_audio_and_video_despite_bad_timestamps(tmp_path: Path, faults: bool) -> None:
    out = tmp_path / "live.mkv"
    recorder = FileRecorder(out)
    recorder.write_frames(("audio", "video"), webrtc_items(3.0, faults))
    assert recorder.error is None
    assert out.exists() and not (tmp_path / "live.mkv.part").exists()
    counts = packets(out)
    assert counts["video"] >= 45  # 50 distinct frames in, only repeats and backwards ones dropped
    assert counts["audio"] >= 135  # 3 s of 48 kHz audio in 1024-sample AAC packets
    assert (recorder.dropped_frames > 0) is faults
    info = probe(out, max_duration_s=60)
    assert info.has_video
    assert 2.7 <= info.duration_s <= 3.3


def test_audio_only_recording(tmp_path: Path) -> None:
    out = tmp_path / "voice.mkv"
    recorder = FileRecorder(out)
    items = [("audio", f, float(f.time)) for f in (audio_frame(i) for i in range(100))]
    recorder.write_frames(("audio",), items)
    info = probe(out, max_duration_s=60)
    assert not info.has_video and packets(out)["audio"] >= 90
    assert 1.8 <= info.duration_s <= 2.2


def test_audio_lost_while_recording_is_silence_on_the_timeline_not_a_damaged_file(tmp_path: Path) -> None:
    # Seen live on a loaded machine: WebRTC lost 9 s of audio packets in a 34 s answer; the frames around
    # each hole keep their timestamps, and the file was refused as "damaged or truncated".
    out = tmp_path / "gaps.mkv"
    kept = [i for i in range(250) if not (50 <= i < 100 or 150 <= i < 200)]  # 5 s, two 1-s holes
    FileRecorder(out).write_frames(("audio",), [("audio", f, float(f.time)) for f in map(audio_frame, kept)])
    audio = decode_audio(out, max_duration_s=60)
    assert 4.8 <= audio.samples.size / SAMPLE_RATE <= 5.2  # the recording's own length, holes included
    assert any("2.0 s of sound were missing" in n for n in audio.notices), audio.notices
    rms = [float(np.sqrt(np.mean(audio.samples[int(a * SAMPLE_RATE) : int(b * SAMPLE_RATE)] ** 2)))
           for a, b in ((0.2, 0.9), (1.2, 1.8), (2.2, 2.9), (3.2, 3.8), (4.1, 4.8))]  # fmt: skip
    assert min(rms[0], rms[2], rms[4]) > 0.05 and max(rms[1], rms[3]) < 0.01, rms  # tone, hole, tone, hole, tone


def test_nothing_received_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "empty.mkv"
    FileRecorder(out).write_frames(("audio", "video"), [])
    assert not out.exists() and not (tmp_path / "empty.mkv.part").exists()


class FakeTrack:
    """A track that yields frames then ends, like aiortc's remote track when the browser stops."""

    def __init__(self, kind: str, frames: list) -> None:
        self.kind = kind
        self._frames = list(frames)

    async def recv(self):
        await asyncio.sleep(0)
        if not self._frames:
            raise MediaStreamError
        return self._frames.pop(0)


def test_start_and_stop_on_an_event_loop(tmp_path: Path) -> None:
    """The aiortc interface: addTrack, start, stop; the file is complete once stop() returns."""
    out = tmp_path / "loop.mkv"

    async def session() -> None:
        recorder = FileRecorder(out)
        recorder.addTrack(FakeTrack("audio", [audio_frame(i) for i in range(100)]))
        recorder.addTrack(FakeTrack("video", [video_frame(i / 15, i) for i in range(30)]))
        await recorder.start()
        await asyncio.sleep(0.5)
        await recorder.stop()

    asyncio.run(session())
    assert out.exists()
    counts = packets(out)
    assert counts["video"] >= 28 and counts["audio"] >= 90
