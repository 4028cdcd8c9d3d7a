"""Live analysis: a real espeak answer fed like WebRTC delivers it (20 ms of 48 kHz stereo int16 per frame)
plus astronaut face frames, from a background thread, with the real Whisper, MiniLM and Face Landmarker."""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jiwer
import numpy as np
import pytest
from conftest import CACHE_FULL, CACHE_QUESTION
from media_factory import concat_audio, speak

from coach_core.analysis.pipeline import analyse
from coach_core.analysis.voice import acoustic_features, merge_features, voice_metrics
from coach_core.config import Settings
from coach_core.live.analyser import LiveAnalyser, LiveProgress
from coach_core.live.chunker import Chunker, find_cut
from coach_core.live.handover import analyse_with_live
from coach_core.media.decode import SAMPLE_RATE, MediaError, decode_audio
from coach_core.schema import Question, Report

FRAME = 960  # 20 ms at 48 kHz, aiortc's audio frame
POLL_TIMEOUT_S = 600.0  # generous: the machine may be busy


@pytest.fixture(scope="module")
def question() -> Question:
    return Question(**CACHE_QUESTION)


@pytest.fixture(scope="module")
def answer_wav(media_dir: Path) -> Path:
    """The cache answer (7 fillers) spoken sentence by sentence with pauses between: about 33 s."""
    sentences = [s.strip() for s in re.split(r"(?<=\.) ", CACHE_FULL) if s.strip()]
    parts = [speak(s, media_dir / f"live_part{i}.wav") for i, s in enumerate(sentences)]
    return concat_audio(parts, media_dir / "live_answer.wav", silence_s=0.9)


@pytest.fixture(scope="module")
def short_wav(media_dir: Path, answer_wav: Path) -> Path:
    """The first two sentences only (about 12 s)."""
    parts = [media_dir / "live_part0.wav", media_dir / "live_part1.wav"]
    return concat_audio(parts, media_dir / "live_short.wav", silence_s=0.9)


def webrtc_pcm(path: Path) -> np.ndarray:
    """The file as WebRTC audio: 48 kHz stereo, s16 packed (interleaved), as one (1, n*2) array."""
    import av

    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=48000)  # FFmpeg's upmix would lower it 3 dB
        out = [f.to_ndarray().reshape(-1) for frame in container.decode(audio=0) for f in resampler.resample(frame)]
        out += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.repeat(np.concatenate(out), 2).reshape(1, -1)  # the browser's two identical channels


@pytest.fixture(scope="module")
def face_frame() -> np.ndarray:
    from skimage.data import astronaut

    return astronaut()  # 512x512 RGB, one clear face


@dataclass
class Feed:
    analyser: LiveAnalyser
    seen_mid_feed: LiveProgress | None = None  # progress when a chunk was done and the feed was not
    error: BaseException | None = None


def feed(analyser: LiveAnalyser, pcm: np.ndarray, *, rgb: np.ndarray | None = None, speed: float = 2.0,
         wait_for_chunk_at: float | None = 0.7, upto: float = 1.0) -> Feed:  # fmt: skip
    """Feed ``pcm`` in 20 ms frames from a background thread at ``speed`` times real time, plus 15
    video frames per second when ``rgb`` is given. At ``wait_for_chunk_at`` of the feed it waits
    (polling, no fixed sleep) until the analyser has transcribed a chunk, and records what it saw."""
    result = Feed(analyser)
    frames = pcm.reshape(-1)
    total = int(len(frames) // 2 * upto)  # stereo samples

    def run() -> None:
        try:
            started = time.monotonic()
            next_video = 0.0
            waited = wait_for_chunk_at is None
            for i in range(0, total, FRAME):
                t = i / 48000
                if not waited and t >= wait_for_chunk_at * total / 48000:
                    deadline = time.monotonic() + POLL_TIMEOUT_S
                    while analyser.progress().chunks == 0 and time.monotonic() < deadline:
                        time.sleep(0.05)
                    if not analyser.stopped:
                        result.seen_mid_feed = analyser.progress()
                    waited = True
                    started = time.monotonic() - t / speed
                analyser.add_audio(frames[2 * i : 2 * min(i + FRAME, total)].reshape(1, -1), 48000, channels=2)
                if rgb is not None and t >= next_video:
                    if analyser.wants_video(t):
                        analyser.add_video(rgb, t)
                    next_video += 1 / 15
                ahead = t / speed - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
        except BaseException as exc:
            result.error = exc

    thread = threading.Thread(target=run, name="test-feed")
    thread.start()
    thread.join(POLL_TIMEOUT_S)
    assert not thread.is_alive(), "the feed did not finish"
    if result.error is not None:
        raise result.error
    return result


def words_of(text: str) -> str:
    return " ".join(re.sub(r"[^a-z' ]", " ", text.lower()).split())


@pytest.fixture(scope="module")
def offline_report(answer_wav: Path, question: Question) -> Report:
    return analyse(answer_wav, question, settings=Settings())


@pytest.fixture(scope="module")
def live_run(answer_wav: Path, question: Question, face_frame: np.ndarray) -> tuple[Feed, Report]:
    analyser = LiveAnalyser(Settings(), use_video=True)
    fed = feed(analyser, webrtc_pcm(answer_wav), rgb=face_frame)
    return fed, analyser.finish(question, "live-test")


@pytest.mark.slow
def test_chunks_are_transcribed_while_the_answer_comes_in(live_run: tuple[Feed, Report]) -> None:
    fed, report = live_run
    seen = fed.seen_mid_feed
    assert seen is not None, "no chunk was transcribed before the feed ended"
    assert seen.chunks >= 1 and seen.words > 5
    assert 0 < seen.transcribed_s < seen.audio_s  # the rest was still coming in
    assert seen.fillers >= 1  # "Um, first I would ..." is in the first chunk
    assert seen.wpm is not None and 60 < seen.wpm < 300
    assert seen.face_frames > 0 and seen.face_visible is True
    assert report.timings["live_chunks"] >= 2  # the answer was cut into chunks, not done at the end


@pytest.mark.slow
def test_live_report_matches_the_offline_pipeline(live_run: tuple[Feed, Report], offline_report: Report) -> None:
    _, live = live_run
    off = offline_report
    assert live.session_id == "live-test"
    assert live.duration_s == pytest.approx(off.duration_s, abs=0.1)
    # The same words, give or take Whisper's choices at chunk edges.
    assert jiwer.wer(words_of(off.transcript), words_of(live.transcript)) < 0.3
    assert live.metrics.word_count == pytest.approx(off.metrics.word_count, rel=0.15)
    assert abs(live.metrics.filler_count - off.metrics.filler_count) <= 2
    assert live.metrics.filler_count >= 4
    live_cov, off_cov = live.metrics.coverage, off.metrics.coverage
    assert live_cov is not None and off_cov is not None
    live_points = {m.key_point for m in live_cov.matched}
    off_points = {m.key_point for m in off_cov.matched}
    assert len(live_points ^ off_points) <= 1, (live_points, off_points)
    assert len(live_points) >= 2
    # Word times are on the answer's clock, in order, inside the recording.
    starts = [w.start for w in live.words]
    assert starts == sorted(starts) and 0 <= starts[0] and live.words[-1].end <= live.duration_s + 0.2
    # The voice is measured chunk by chunk and merged: the same voice.
    assert live.voice is not None and off.voice is not None
    assert live.voice.pitch_median_hz == pytest.approx(off.voice.pitch_median_hz, rel=0.05)
    assert live.voice.loudness_dbfs == pytest.approx(off.voice.loudness_dbfs, abs=1.0)
    assert len(live.voice.pace.values) == len(off.voice.pace.values)
    assert live.scores.content == pytest.approx(off.scores.content, abs=25)


@pytest.mark.slow
def test_live_face_metrics_from_the_video_feed(live_run: tuple[Feed, Report]) -> None:
    fed, report = live_run
    face = report.face
    assert face is not None and face.available, face
    # 15 frames/s offered, sampled at face_fps (10): about 10 per second of the answer. A busy machine
    # may skip some sampled frames (the face worker's queue is bounded, by design); most are analysed.
    parts = fed.analyser.parts()
    sampled = len(parts.face_frames) + parts.face_skipped
    assert sampled == pytest.approx(report.duration_s * Settings().face_fps, rel=0.25)
    assert face.frames_analysed == len(parts.face_frames) >= 0.5 * sampled
    assert face.visible_ratio > 0.95
    assert face.eye_contact_ratio is not None
    assert len(face.visible.values) == pytest.approx(report.duration_s, abs=1.5)
    assert not any("Face analysis unavailable" in n for n in report.notices)


@pytest.fixture(scope="module")
def short_pcm(short_wav: Path) -> np.ndarray:
    return webrtc_pcm(short_wav)


@pytest.mark.slow
def test_handed_over_live_parts_are_used_and_audio_only_has_no_face(
    short_wav: Path, short_pcm: np.ndarray, question: Question
) -> None:
    analyser = LiveAnalyser(Settings(), use_video=False, min_chunk_s=4.0, max_chunk_s=8.0)
    feed(analyser, short_pcm, speed=4.0, wait_for_chunk_at=None)
    report = analyse_with_live(short_wav, question, analyser, settings=Settings(), session_id="sess-live")
    assert report.timings.get("live_chunks", 0) >= 1  # the live parts were used
    assert analyser.parts().duration_s == 0  # and closed: its audio is freed
    assert report.face is not None and not report.face.available
    assert "audio-only" in report.face.reason
    assert report.media is not None and report.media.format == "wav"
    assert "cache" in words_of(report.transcript) or "cash" in words_of(report.transcript)
    # A retry works from the file alone.
    again = analyse(short_wav, question, settings=Settings(), session_id="sess-live")
    assert "live_chunks" not in again.timings
    assert jiwer.wer(words_of(again.transcript), words_of(report.transcript)) < 0.35


@pytest.mark.slow
def test_live_parts_that_miss_part_of_the_file_fall_back_to_the_file(
    short_wav: Path, short_pcm: np.ndarray, question: Question
) -> None:
    analyser = LiveAnalyser(Settings(), use_video=False)
    feed(analyser, short_pcm, speed=8.0, wait_for_chunk_at=None, upto=0.5)  # the stream broke half way
    report = analyse_with_live(short_wav, question, analyser, settings=Settings())
    assert "live_chunks" not in report.timings  # analysed from the file
    assert report.duration_s == pytest.approx(decode_audio(short_wav).duration_s, abs=0.05)
    assert report.metrics.word_count > 15


def test_finish_without_speech_says_so(question: Question) -> None:
    analyser = LiveAnalyser(Settings(), use_video=False)
    analyser.add_audio(np.zeros(48000 * 3, np.int16).reshape(1, -1), 48000, channels=2)
    with pytest.raises(MediaError, match="No speech was found"):
        analyser.finish(question)


def test_video_is_sampled_at_face_fps_and_stops_with_the_answer() -> None:
    analyser = LiveAnalyser(Settings(face_fps=5.0), use_video=True)
    rgb = np.zeros((480, 640, 3), np.uint8)
    taken = [analyser.add_video(rgb, i / 30) for i in range(60)]  # 2 s at 30 fps
    assert 9 <= sum(taken) <= 11
    analyser.stop()
    assert not analyser.add_video(rgb, 2.5) and not analyser.wants_video(2.5)
    parts = analyser.parts()
    assert len(parts.face_frames) == sum(taken) and not any(f.visible for f in parts.face_frames)


def _tone_bursts(pattern: list[tuple[float, bool]]) -> np.ndarray:
    rng = np.random.default_rng(0)
    out = []
    for seconds, loud in pattern:
        n = int(seconds * SAMPLE_RATE)
        out.append((0.3 * rng.standard_normal(n) if loud else 1e-4 * rng.standard_normal(n)).astype(np.float32))
    return np.concatenate(out)


@pytest.mark.parametrize(
    ("pattern", "expect"),
    [
        ([(5.0, True), (0.2, False), (4.0, True), (0.7, False), (3.0, True)], (9.3, 9.6)),  # the long pause after 8 s
        ([(9.0, True), (0.35, False), (0.8, True)], None),  # a short pause: a long one may still come
        ([(9.0, True), (0.35, False), (6.0, True)], (9.1, 9.3)),  # none came 1 s after it: the short one
        ([(9.0, True), (0.35, False), (0.8, True), (0.45, False), (1.2, True)], (10.3, 10.5)),  # the longer one
        ([(9.0, True), (0.35, False), (0.5, True), (0.8, False), (1.0, True)], (9.9, 10.3)),  # a long one came
        ([(25.0, True)], (8.0, 20.0)),  # no pause at all: the quietest moment before 20 s
        ([(6.0, True)], None),  # too short to cut yet
    ],
)
def test_chunks_are_cut_in_pauses(pattern: list[tuple[float, bool]], expect: tuple[float, float] | None) -> None:
    samples = _tone_bursts(pattern)
    cut = find_cut(samples, min_s=8.0, max_s=20.0)  # the rule, with chunks of 8-20 s
    if expect is None:
        assert cut is None
    else:
        assert cut is not None and expect[0] <= cut / SAMPLE_RATE <= expect[1]
        assert cut % round(0.05 * SAMPLE_RATE) == 0  # on a loudness frame, so voice parts merge exactly


def _chunks_of(
    samples: np.ndarray, packets: list[int], min_s: float = 5.0, max_s: float = 12.0
) -> list[tuple[int, int]]:
    """Feed ``samples`` to a Chunker in packets of the given sizes (cycled), asking for cuts after each."""
    chunker, out, at = Chunker(min_s, max_s), [], 0
    for size in itertools.cycle(packets):
        if at >= len(samples):
            break
        at = min(at + size, len(samples))
        out += chunker.cuts(samples[:at])
    return out


def test_chunk_cuts_depend_on_the_audio_only(answer_wav: Path) -> None:
    """The same answer in 10 ms packets, in 1.3 s packets, in one piece, in random sizes: the same chunks."""
    samples = decode_audio(answer_wav).samples
    rng = np.random.default_rng(7)
    reference = _chunks_of(samples, [160])
    assert len(reference) >= 2 and reference[0][0] == 0
    assert all(a[1] == b[0] for a, b in itertools.pairwise(reference))  # no gap, no overlap
    assert all(5.0 * SAMPLE_RATE < b - a <= 12.25 * SAMPLE_RATE for a, b in reference)
    for packets in ([20800], [len(samples)], [int(n) for n in rng.integers(1, 40000, 50)]):
        assert _chunks_of(samples, packets) == reference, packets


def test_a_pause_still_running_at_the_end_of_the_audio_so_far_is_cut_alike() -> None:
    """A pause reaching the end of what has arrived is judged at the same points whatever arrives when."""
    samples = _tone_bursts(
        [(6.0, True), (0.2, False), (3.0, True), (2.0, False), (4.0, True), (0.5, False), (9.0, True)]
    )
    whole = _chunks_of(samples, [len(samples)])
    assert whole == _chunks_of(samples, [333]) == _chunks_of(samples, [4000, 17, 9100])
    first_end = whole[0][1] / SAMPLE_RATE
    assert 9.2 <= first_end <= 11.2  # in the 2 s pause, not in the 0.2 s gap or in speech


@pytest.mark.slow
def test_live_chunks_do_not_depend_on_packet_size_or_timing(answer_wav: Path, live_run: tuple[Feed, Report]) -> None:
    """The real analyser fed the same answer in other packets, at another speed, with no wait: same chunks."""
    fed, _ = live_run
    reference = [(c.offset_s, c.duration_s) for c in fed.analyser.parts().chunks]
    pcm = webrtc_pcm(answer_wav).reshape(-1)
    analyser = LiveAnalyser(Settings(), use_video=False)
    packet = 2 * 4410  # 92 ms of stereo, not WebRTC's 20 ms
    for i in range(0, len(pcm), packet):
        analyser.add_audio(pcm[i : i + packet].reshape(1, -1), 48000, channels=2)  # as fast as possible
    chunks = [(c.offset_s, c.duration_s) for c in analyser.parts().chunks]
    analyser.close()
    assert chunks == reference


def test_voice_measured_in_chunks_merges_to_the_whole(answer_wav: Path) -> None:
    samples = decode_audio(answer_wav).samples
    whole = voice_metrics(acoustic_features(samples), [], [])
    cuts = [0, 800 * 200, 800 * 410, len(samples)]
    parts = [acoustic_features(samples[a:b], a / SAMPLE_RATE) for a, b in itertools.pairwise(cuts)]
    merged = voice_metrics(merge_features(parts), [], [])
    assert merged.loudness_dbfs == pytest.approx(whole.loudness_dbfs, abs=1e-9)
    assert merged.loudness.values == whole.loudness.values
    assert merged.pitch_median_hz == pytest.approx(whole.pitch_median_hz, rel=0.01)
    assert merged.jitter_local_pct == pytest.approx(whole.jitter_local_pct, rel=0.1)
    assert merged.hnr_db == pytest.approx(whole.hnr_db, abs=1.0)


@pytest.mark.parametrize(
    ("make", "channels", "planar"),
    [
        (lambda x: (np.stack([x, x], axis=1).reshape(1, -1) * 32767).astype(np.int16), 2, False),
        (lambda x: np.stack([x, x]).astype(np.float32), 2, True),
        (lambda x: x.astype(np.float32), 1, False),
    ],
)
def test_audio_in_any_layout_becomes_16k_mono(make: Callable[[np.ndarray], np.ndarray], channels: int,
                                              planar: bool) -> None:  # fmt: skip
    t = np.arange(48000 * 2) / 48000
    tone = 0.5 * np.sin(2 * np.pi * 440 * t)
    analyser = LiveAnalyser(Settings(), use_video=False, min_chunk_s=60, max_chunk_s=60)
    data = make(tone)
    step = FRAME * channels
    flat = data.reshape(-1) if not planar else None
    for i in range(0, tone.size * channels, step):
        if planar:
            analyser.add_audio(data[:, i // channels : (i + step) // channels], 48000, channels, planar=True)
        else:
            analyser.add_audio(flat[i : i + step], 48000, channels)  # type: ignore[index]
    samples = analyser.parts().samples
    assert len(samples) == pytest.approx(2 * SAMPLE_RATE, abs=50)
    spectrum = np.abs(np.fft.rfft(samples[1000:-1000]))
    assert np.argmax(spectrum) * SAMPLE_RATE / len(samples[1000:-1000]) == pytest.approx(440, abs=2)
    assert np.sqrt(np.mean(samples[1000:-1000] ** 2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.02)
    analyser.close()


def test_the_pipeline_alone_never_uses_a_live_analysis(
    short_wav: Path, short_pcm: np.ndarray, question: Question
) -> None:
    """Nothing global: a live analyser of the same answer is used only when it is handed over."""
    analyser = LiveAnalyser(Settings(), use_video=False, min_chunk_s=4.0, max_chunk_s=8.0)
    try:
        feed(analyser, short_pcm, speed=8.0, wait_for_chunk_at=None)
        report = analyse(short_wav, question, settings=Settings(), session_id="sess-not-handed")
        assert "live_chunks" not in report.timings
        assert analyser.parts().duration_s > 0  # untouched, still the caller's
    finally:
        analyser.close()
