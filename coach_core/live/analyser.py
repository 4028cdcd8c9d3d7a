"""Analysis while the person speaks: the report is nearly done when they press Stop.

A :class:`LiveAnalyser` is fed the live audio and video from the WebRTC callback threads. Two
worker threads do the heavy work as the answer comes in: the audio worker resamples to 16 kHz
mono, cuts the answer at pauses into chunks of about 5-12 s, transcribes each chunk with the same
decoding rules as an uploaded file (:func:`coach_core.analysis.transcribe.transcribe_chunk`), measures its
voice and embeds its sentences (for content coverage); the face worker runs one Face Landmarker
(VIDEO mode) on frames sampled at ``face_fps``. At Stop only the tail is left to transcribe (on
the second core, alongside any chunk still in progress), and :meth:`LiveAnalyser.finish`
assembles the report with the offline pipeline's own :func:`coach_core.analysis.pipeline.build_report`.

The recording file is still written in full and stays the source of truth: an analyser handed to
:func:`coach_core.live.handover.analyse_with_live` is only used when its audio covers the saved
file, and a retry always works from the file alone.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from coach_core.analysis.coverage import embed_ahead
from coach_core.analysis.face import MAX_WIDTH, FaceFrame, FaceTracker, one_core, summarise
from coach_core.analysis.pipeline import build_report, face_unavailable
from coach_core.analysis.text_metrics import speech_metrics
from coach_core.analysis.transcribe import ChunkTranscript, assemble_transcript, transcribe_chunk
from coach_core.analysis.voice import VoiceFeatures, acoustic_features, merge_features
from coach_core.config import Settings, load_settings
from coach_core.live.audio import Resampler, to_mono_float
from coach_core.live.chunker import MAX_CHUNK_S, MIN_CHUNK_S, Chunker
from coach_core.media.decode import SAMPLE_RATE, MediaError
from coach_core.schema import MediaInfo, Question, Report, Word

log = logging.getLogger(__name__)

# While the person speaks one chunk is transcribed at a time (the other core follows the face and
# the recording); at Stop, the rest is transcribed alongside the chunk still in progress.
ASR_THREADS = 2
# Words of the previous chunk added to the prompt as context. On a 2-min espeak answer, 20 words
# gave the same word error rate as none but more phantom fillers (25 vs 20; truth 21), so none.
CONTEXT_WORDS = 0
FACE_QUEUE = 32  # sampled frames waiting for the face worker; when full, new frames are skipped
LIVE_PACE_WINDOW_S = 30.0  # the live pace meter counts words in the last this many transcribed seconds
CHECK_EVERY_S = 0.25  # the workers look for new input this often
WAIT_S = 600.0  # finish() waits at most this long for the workers (a heavily loaded machine)


class LiveUnavailable(RuntimeError):
    """The live parts cannot stand in for the recording; the file is analysed instead."""


@dataclass
class LiveProgress:
    """What the recorder can show while the person speaks (read from the UI thread)."""

    audio_s: float = 0.0  # seconds of audio received
    transcribed_s: float = 0.0  # seconds of audio transcribed so far
    chunks: int = 0  # chunks transcribed
    words: int = 0
    fillers: int = 0
    wpm: float | None = None  # pace over the last LIVE_PACE_WINDOW_S transcribed seconds
    face_frames: int = 0
    face_pending: int = 0  # sampled frames waiting for the face worker
    face_visible: bool | None = None  # the latest analysed frame
    eye_contact: bool | None = None


@dataclass
class LiveParts:
    """Everything the workers produced: the report is built from this and the question."""

    samples: np.ndarray
    chunks: list[ChunkTranscript]
    voice: VoiceFeatures
    face_frames: list[FaceFrame]
    video_frames_seen: int
    face_skipped: int
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        return len(self.samples) / SAMPLE_RATE


class LiveAnalyser:
    """Analyse one answer while it is being recorded. Thread-safe; feed it from any thread.

    Args:
        settings: model settings and ``face_fps``; defaults from the environment.
        use_video: analyse the face in the video frames given to :meth:`add_video`.
        min_chunk_s / max_chunk_s: chunk lengths (tests shorten them).
        vocabulary: the question's domain terms, to bias transcription towards them.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        use_video: bool = True,
        min_chunk_s: float = MIN_CHUNK_S,
        max_chunk_s: float = MAX_CHUNK_S,
        vocabulary: Sequence[str] = (),
    ) -> None:
        self.settings = settings or load_settings()
        self.vocabulary = tuple(vocabulary)  # the question's domain terms (transcribe.question_vocabulary)
        self.use_video = use_video
        self.min_chunk_s = min_chunk_s
        self.max_chunk_s = max_chunk_s
        self._lock = threading.Lock()
        self._audio_ready = threading.Condition(self._lock)
        self._inbox: list[tuple[np.ndarray, int]] = []
        self._received_s = 0.0
        self._started = time.monotonic()
        self._stopped = False
        self._stop_event = threading.Event()
        self._stopped_at: float | None = None
        self._finished_at: float | None = None
        self._parts: LiveParts | None = None
        self._error: BaseException | None = None
        # Written by the audio worker only; read under the lock.
        self._buffer = np.zeros(SAMPLE_RATE * 60, np.float32)
        self._length = 0
        self._chunker = Chunker(min_chunk_s, max_chunk_s)
        self._ready: list[tuple[int, int]] = []  # chunks cut but not yet handed to Whisper (start, end samples)
        self._inflight: list[Future] = []  # chunks being transcribed (audio worker only)
        self._chunks: list[ChunkTranscript] = []
        self._voice: list[VoiceFeatures] = []
        self._progress = LiveProgress()
        # Video.
        self._next_video_t = -1.0
        self._video_seen = 0
        self._face_skipped = 0
        self._face_frames: list[FaceFrame] = []
        self._face_queue: queue.Queue = queue.Queue(maxsize=FACE_QUEUE)
        self._audio_done = threading.Event()
        self._face_done = threading.Event()
        self._audio_thread = threading.Thread(target=self._audio_worker, name="live-audio", daemon=True)
        self._audio_thread.start()
        if use_video:
            self._face_thread: threading.Thread | None = threading.Thread(
                target=self._face_worker, name="live-face", daemon=True
            )
            self._face_thread.start()
        else:
            self._face_thread = None
            self._face_done.set()

    # Feeding (callback threads) -------------------------------------------------------------
    def add_audio(self, samples: np.ndarray, sample_rate: int, channels: int = 1, *, planar: bool = False) -> None:
        """Add audio as it arrives: int16 or float samples, interleaved (packed) unless ``planar``."""
        mono = to_mono_float(samples, channels, planar)
        if mono.size == 0:
            return
        with self._lock:
            if self._stopped:
                return
            self._inbox.append((mono, int(sample_rate)))
            self._received_s += mono.size / sample_rate
            self._audio_ready.notify()

    def add_audio_frame(self, frame: Any) -> None:
        """Add an ``av.AudioFrame`` (what aiortc delivers: s16 packed, usually stereo at 48 kHz)."""
        self.add_audio(frame.to_ndarray(), frame.sample_rate, len(frame.layout.channels), planar=frame.format.is_planar)

    def clock(self) -> float:
        """Seconds into the answer now: audio received so far, or wall time before any audio."""
        with self._lock:
            return self._received_s if self._received_s > 0 else time.monotonic() - self._started

    def wants_video(self, t_s: float) -> bool:
        """Whether a frame at ``t_s`` would be analysed (frames are sampled at ``face_fps``)."""
        with self._lock:
            return self.use_video and not self._stopped and t_s + 1e-6 >= self._next_video_t

    def add_video(self, rgb: np.ndarray, t_s: float | None = None) -> bool:
        """Offer an RGB frame at ``t_s`` seconds into the answer (default: :meth:`clock`).

        Returns whether the frame was taken for face analysis.
        """
        t = self.clock() if t_s is None else float(t_s)
        step = 1.0 / max(self.settings.face_fps, 1e-3)
        with self._lock:
            if not self.use_video or self._stopped or t + 1e-6 < self._next_video_t:
                return False
            self._next_video_t = max(self._next_video_t + step, t + step * 0.5) if self._next_video_t >= 0 else t + step
            self._video_seen += 1
        if rgb.shape[1] > MAX_WIDTH:
            import cv2

            h = max(2, int(rgb.shape[0] * MAX_WIDTH / rgb.shape[1]) // 2 * 2)
            rgb = cv2.resize(rgb, (MAX_WIDTH, h), interpolation=cv2.INTER_AREA)
        try:
            self._face_queue.put_nowait((t, np.ascontiguousarray(rgb)))
        except queue.Full:
            with self._lock:
                self._face_skipped += 1
            return False
        return True

    def stop(self) -> None:
        """No more input: the workers finish the tail now. Safe to call more than once."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            self._stopped_at = time.perf_counter()
            self._audio_ready.notify()
        self._stop_event.set()

    # Reading --------------------------------------------------------------------------------
    def progress(self) -> LiveProgress:
        """A snapshot for the live panel (pace meter, filler counter, face light)."""
        with self._lock:
            snap = LiveProgress(**vars(self._progress))
            snap.audio_s = self._received_s
            snap.face_frames = len(self._face_frames)
            snap.face_pending = self._face_queue.qsize()
            return snap

    @property
    def stopped(self) -> bool:
        with self._lock:
            return self._stopped

    def parts(self, timeout: float = WAIT_S) -> LiveParts:
        """Stop, wait for the workers, and return what they produced.

        Raises:
            LiveUnavailable: a worker failed or did not finish in time.
        """
        self.stop()
        if not (self._audio_done.wait(timeout) and self._face_done.wait(timeout)):
            raise LiveUnavailable("The live analysis did not finish in time.")
        if self._error is not None:
            raise LiveUnavailable(f"The live analysis failed: {type(self._error).__name__}: {self._error}")
        with self._lock:
            if self._parts is None:
                samples = self._buffer[: self._length].copy()
                tail = (self._finished_at or 0.0) - (self._stopped_at or 0.0)
                self._parts = LiveParts(
                    samples=samples,
                    chunks=list(self._chunks),
                    voice=merge_features(self._voice) if self._voice else acoustic_features(samples),
                    face_frames=sorted(self._face_frames, key=lambda f: f.t),
                    video_frames_seen=self._video_seen,
                    face_skipped=self._face_skipped,
                    timings={"live_tail": round(max(tail, 0.0), 3), "live_chunks": float(len(self._chunks))},
                )
            return self._parts

    def finish(
        self,
        question: Question,
        session_id: str | None = None,
        *,
        media: MediaInfo | None = None,
        notices: Sequence[str] = (),
        progress: Callable[[str, float], None] | None = None,
        use_video: bool | None = None,
    ) -> Report:
        """Stop and build the full report from the live parts (only the tail is left to transcribe).

        Args:
            question: the question answered.
            session_id: id to put in the report (a new one if omitted).
            media: what the saved recording holds (its duration is set to the live audio's).
            notices: notices to carry into the report.
            progress: called with (step, overall fraction).
            use_video: include the face (default: when the analyser was made with ``use_video``).

        Raises:
            MediaError: the answer holds no speech or no recognisable words.
            LiveUnavailable: the live analysis failed; analyse the recording file instead.
        """
        started = time.perf_counter()
        if progress is not None:
            progress("transcribing", 0.3)
        parts = self.parts()
        duration = parts.duration_s
        if duration < self.settings.min_duration_s:
            minimum = self.settings.min_duration_s
            raise MediaError(f"The recording is only {duration:.1f} s long; answer for at least {minimum:.0f} s.")
        transcript = assemble_transcript(parts.chunks, self.settings)
        use_video = self.use_video if use_video is None else use_video and self.use_video
        has_video = parts.video_frames_seen > 0 or (media is not None and media.has_video)
        if use_video and parts.face_frames:
            face = summarise(parts.face_frames, duration, self.settings.face_fps)
        else:
            face = face_unavailable(has_video=has_video)
        timings = dict(parts.timings)
        report = build_report(
            question,
            transcript,
            parts.voice,
            face,
            duration_s=duration,
            media=media,
            notices=list(notices),
            session_id=session_id,
            timings=timings,
            progress=progress,
            face_attempted=use_video and has_video,
        )
        report.timings["total"] = round(time.perf_counter() - started, 3)
        return report

    def close(self) -> None:
        """Stop the workers and free the audio (the analyser cannot be used after this)."""
        self.stop()
        self._audio_done.wait(5.0)
        with self._lock:
            self._buffer = np.zeros(0, np.float32)
            self._length = 0
            self._parts = None

    # Workers --------------------------------------------------------------------------------
    def _append(self, chunk: np.ndarray) -> None:
        if chunk.size == 0:
            return
        with self._lock:
            need = self._length + chunk.size
            if need > self._buffer.size:
                grown = np.zeros(max(need, self._buffer.size * 2), np.float32)
                grown[: self._length] = self._buffer[: self._length]
                self._buffer = grown
            self._buffer[self._length : need] = chunk
            self._length = need

    def _audio_worker(self) -> None:
        resample = Resampler()
        pool = ThreadPoolExecutor(max_workers=ASR_THREADS, thread_name_prefix="live-asr")
        try:
            while True:
                with self._lock:
                    while not self._inbox and not self._stopped:
                        self._audio_ready.wait(0.5)
                    inbox, self._inbox = self._inbox, []
                    stopped = self._stopped
                for mono, rate in inbox:
                    self._append(resample(mono, rate))
                if stopped:
                    self._append(resample.flush())
                else:
                    self._stop_event.wait(CHECK_EVERY_S)  # gather some audio before looking for a cut
                self._reap(wait_all=False)
                with self._lock:
                    audio = self._buffer[: self._length]
                # Where the chunks end depends on the audio alone; when they are transcribed does not.
                self._ready += self._chunker.cuts(audio)
                # While recording, one chunk at a time; at Stop every complete chunk and the tail at once.
                while self._ready and (stopped or not self._inflight):
                    self._submit(pool, *self._ready.pop(0))
                if stopped:
                    if self._length > self._chunker.cut:
                        self._submit(pool, self._chunker.cut, self._length)
                    self._reap(wait_all=True)
                    self._finished_at = time.perf_counter()
                    return
        except BaseException as exc:  # reported by finish(); the file is analysed instead
            log.warning("live audio analysis failed: %s", exc, exc_info=True)
            self._error = exc
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            self._audio_done.set()

    def _submit(self, pool: ThreadPoolExecutor, start: int, end: int) -> None:
        with self._lock:
            samples = self._buffer[start:end].copy()
            context = _context(self._chunks)
        log.debug("submit %.1f-%.1f s at %.1f s received", start / SAMPLE_RATE, end / SAMPLE_RATE, self._received_s)
        self._inflight.append(pool.submit(self._process, samples, start / SAMPLE_RATE, context))

    def _reap(self, *, wait_all: bool) -> None:
        """Drop finished chunks from the in-flight list (all of them, waiting, when ``wait_all``)."""
        if wait_all:
            wait(self._inflight)
        done = [f for f in self._inflight if f.done()]
        self._inflight = [f for f in self._inflight if not f.done()]
        for future in done:
            future.result()  # a failed chunk fails the live analysis (the file is analysed instead)

    def _process(self, samples: np.ndarray, offset: float, context: str) -> None:
        started = time.perf_counter()
        part = transcribe_chunk(samples, self.settings, offset_s=offset, context=context, vocabulary=self.vocabulary)
        features = acoustic_features(samples, offset_s=offset)
        log.debug(
            "chunk %.1f-%.1f s: %d words in %.2f s%s", offset, offset + len(samples) / SAMPLE_RATE, len(part.words),
            time.perf_counter() - started, " (second decode)" if part.second_words is not None else "",
        )  # fmt: skip
        with self._lock:
            self._chunks.append(part)
            self._voice.append(features)
            self._chunks.sort(key=lambda c: c.offset_s)
            said = self._update_progress()
        try:
            embed_ahead(said)  # the sentences so far, embedded while the person speaks
        except Exception as exc:  # only a head start: the report embeds whatever is missing
            log.warning("embedding ahead failed: %s", exc)

    def _update_progress(self) -> list[Word]:
        """Update the live panel's figures; returns the words of the answer transcribed without a gap."""
        transcribed_s = 0.0  # the end of the transcribed audio with no gap before it
        words: list[Word] = []
        for c in self._chunks:
            if c.offset_s > transcribed_s + 1e-3:
                break
            transcribed_s = c.offset_s + c.duration_s
            words += c.words
        p = self._progress
        p.transcribed_s = transcribed_s
        p.chunks = len(self._chunks)
        p.words = len(words)
        if words:
            p.fillers = speech_metrics(words, transcribed_s).filler_count
            since = max(0.0, transcribed_s - LIVE_PACE_WINDOW_S)
            recent = sum(1 for w in words if w.start >= since)
            p.wpm = recent / max(transcribed_s - since, 1e-6) * 60.0
        return words

    def _face_worker(self) -> None:
        from coach_core.analysis.face import is_eye_contact

        tracker: FaceTracker | None = None
        try:
            with one_core():  # MediaPipe's threads stay off the core transcribing the answer
                while True:
                    try:
                        t, rgb = self._face_queue.get(timeout=CHECK_EVERY_S)
                    except queue.Empty:
                        if self._stop_event.is_set():
                            return  # stopped and every frame analysed
                        continue
                    if tracker is None:
                        tracker = FaceTracker()
                    frame = tracker.process(t, rgb)
                    with self._lock:
                        self._face_frames.append(frame)
                        self._progress.face_visible = frame.visible
                        self._progress.eye_contact = is_eye_contact(frame)
        except BaseException as exc:
            log.warning("live face analysis failed: %s", exc, exc_info=True)
            self._error = exc
        finally:
            if tracker is not None:
                tracker.close()
            self._face_done.set()


def _context(chunks: Sequence[ChunkTranscript]) -> str:
    if not CONTEXT_WORDS:
        return ""
    words = [w.word for c in chunks[-2:] for w in c.words][-CONTEXT_WORDS:]
    return " ".join(words)
