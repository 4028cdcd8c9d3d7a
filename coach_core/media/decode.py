"""Open and decode recordings with PyAV: validation with clear reasons, 16 kHz mono audio.

Every refusal raises :class:`MediaError` whose message is one plain sentence for the user.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from coach_core.schema import MediaInfo

SAMPLE_RATE = 16000
# Any container FFmpeg can open is accepted when an audio track in it decodes: whether a file can be
# analysed is decided by decoding, not by a list of containers (AIFF, MPEG-PS, 3GP, AU, WMA, CAF, TS
# all decode). These are the common ones, named in messages (PyAV/FFmpeg demuxer names).
SUPPORTED_FORMATS = {
    "wav": "WAV",
    "mp3": "MP3",
    "mov,mp4,m4a,3gp,3g2,mj2": "MP4/M4A/MOV/3GP",
    "ogg": "Ogg/Opus",
    "matroska,webm": "WebM/MKV",
    "flac": "FLAC",
    "aac": "AAC",
    "aiff": "AIFF",
    "mpeg": "MPEG-PS",
    "mpegts": "MPEG-TS",
    "asf": "WMA/WMV",
    "au": "AU",
    "caf": "CAF",
    "avi": "AVI",
}
SUPPORTED_LABEL = "an audio or video file FFmpeg can decode (WAV, MP3, M4A, MP4, MOV, OGG, WebM, MKV, FLAC, AIFF, ...)"
# File extensions the upload widget offers (the decoder, not the name, decides in the end).
UPLOAD_EXTENSIONS = [
    "wav", "mp3", "m4a", "ogg", "oga", "opus", "webm", "mp4", "m4v", "mov", "mkv", "mka", "flac", "aac",
    "aif", "aiff", "aifc", "mpg", "mpeg", "ts", "mts", "3gp", "3g2", "amr", "au", "snd", "wma", "wmv", "asf",
    "caf", "avi", "flv",
]  # fmt: skip
# FFmpeg demuxers that read stills or text, never a recording (a text file opens as "tty").
NOT_RECORDINGS = {"tty", "image2", "gif", "apng", "jpeg_pipe", "png_pipe", "webp_pipe", "bmp_pipe", "svg_pipe"}
SILENCE_DBFS = -60.0  # quieter than this over the whole file is treated as silence
TRUNCATION_TOLERANCE = 0.9  # decoded / declared duration below this means the file is cut short
# Audio frames missing inside a stream (a live recording on a busy computer loses packets; the frames
# around them keep their timestamps) are put back as silence so the audio keeps its timeline: gaps
# from GAP_MIN_S, each at most GAP_MAX_S (a larger jump is a broken timestamp, not lost audio).
GAP_MIN_S = 0.05
GAP_MAX_S = 30.0


class MediaError(ValueError):
    """A recording that cannot be analysed; the message says why in one sentence."""


@dataclass
class DecodedAudio:
    samples: np.ndarray  # float32 mono at SAMPLE_RATE, range [-1, 1]
    info: MediaInfo
    notices: list[str]

    @property
    def duration_s(self) -> float:
        return len(self.samples) / SAMPLE_RATE

    @property
    def level_dbfs(self) -> float:
        return rms_dbfs(self.samples)


def rms_dbfs(samples: np.ndarray) -> float:
    if samples.size == 0:
        return -120.0
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return 20.0 * np.log10(max(rms, 1e-6))


def _open(path: Path) -> Any:
    import av

    if not path.exists():
        raise MediaError(f"File not found: {path}")
    if not path.is_file():
        raise MediaError(f"Not a file: {path}")
    if path.stat().st_size == 0:
        raise MediaError("The file is empty (0 bytes).")
    try:
        return av.open(str(path), metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        raise MediaError(
            f"Not a readable audio or video file ({exc.strerror or type(exc).__name__}); use {SUPPORTED_LABEL}."
        ) from exc


def _rotation(stream: Any) -> int:
    for getter in ("display_rotation",):
        value = getattr(stream, getter, None)
        if isinstance(value, (int, float)):
            return round(value) % 360
    return 0


def probe(path: Path | str, max_duration_s: float | None = None) -> MediaInfo:
    """Check container, streams and declared duration without decoding everything."""
    path = Path(path)
    container = _open(path)
    try:
        fmt = container.format.name
        if fmt in NOT_RECORDINGS or (fmt.endswith("_pipe") and not container.streams.audio):
            raise MediaError(
                f"Not a recording ({container.format.long_name or fmt}: an image or text); use {SUPPORTED_LABEL}."
            )
        if not container.streams.audio:
            kind = "video without sound" if container.streams.video else "no audio"
            raise MediaError(f"The file has no audio track ({kind}); the answer needs sound.")
        declared = _declared_duration(container)
        if fmt == "wav":
            declared = wav_declared_duration(path) or declared
        if max_duration_s is not None and declared is not None and declared > max_duration_s:
            raise MediaError(
                f"The recording is {declared / 60:.1f} min long; the limit is "
                f"{max_duration_s / 60:.1f} min (COACH_MAX_DURATION_S)."
            )
        video = container.streams.video[0] if container.streams.video else None
        fps = None
        if video is not None and video.average_rate:
            fps = float(video.average_rate)
        return MediaInfo(
            format=fmt,
            duration_s=declared or 0.0,
            has_video=video is not None and (video.codec_context.width or 0) > 0,
            sample_rate=SAMPLE_RATE,
            width=video.codec_context.width if video is not None else None,
            height=video.codec_context.height if video is not None else None,
            fps=fps,
            rotation=_rotation(video) if video is not None else 0,
        )
    finally:
        container.close()


def wav_declared_duration(path: Path) -> float | None:
    """Seconds a WAV header promises (its data chunk size), or None when it does not say.

    FFmpeg derives a WAV's duration from the file size, which hides truncation; the header
    does not lie. Streaming writers put 0 or 0xFFFFFFFF there, meaning "unknown".
    """
    import struct

    with path.open("rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
            return None
        byte_rate = None
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                return None
            name, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if name == b"fmt ":
                fmt = f.read(size + (size & 1))
                byte_rate = struct.unpack("<I", fmt[8:12])[0] if len(fmt) >= 12 else None
            elif name == b"data":
                if not byte_rate or size in (0, 0xFFFFFFFF, 0x7FFFFFFF) or size >= 0x7FFFF000:
                    return None
                return size / byte_rate
            else:
                f.seek(size + (size & 1), 1)


def _declared_duration(container: Any) -> float | None:
    stream = container.streams.audio[0]
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return None


def decode_audio(
    path: Path | str,
    *,
    max_duration_s: float | None = None,
    min_duration_s: float = 1.0,
) -> DecodedAudio:
    """Decode the first audio track to 16 kHz mono float32, refusing files that cannot be analysed."""
    import av

    path = Path(path)
    info = probe(path, max_duration_s=max_duration_s)
    notices: list[str] = []
    container = _open(path)
    chunks: list[np.ndarray] = []
    decoded = 0
    limit = None if max_duration_s is None else int((max_duration_s + 1) * SAMPLE_RATE)
    error: str | None = None
    first: float | None = None  # the first frame's time: gaps are measured from it
    filled = 0
    try:
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        try:
            for frame in container.decode(stream):
                if frame.time is not None:
                    first = frame.time if first is None else first
                    gap = round((frame.time - first) * SAMPLE_RATE) - decoded
                    if GAP_MIN_S * SAMPLE_RATE <= gap <= GAP_MAX_S * SAMPLE_RATE:
                        chunks.append(np.zeros(gap, np.float32))
                        decoded += gap
                        filled += gap
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().reshape(-1)
                    chunks.append(chunk)
                    decoded += chunk.size
                if limit is not None and decoded > limit:
                    minutes = (max_duration_s or 0) / 60
                    raise MediaError(
                        f"The recording is longer than the {minutes:.1f} min limit (COACH_MAX_DURATION_S)."
                    )
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except av.error.FFmpegError as exc:
            error = exc.strerror or type(exc).__name__
    finally:
        container.close()
    samples = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
    samples = np.nan_to_num(np.clip(samples, -1.0, 1.0))
    got = samples.size / SAMPLE_RATE
    declared = info.duration_s
    if got == 0.0:
        reason = f" ({error})" if error else ""
        raise MediaError(f"No audio could be decoded from the file{reason}; it may be damaged.")
    if declared > 0 and got < declared * TRUNCATION_TOLERANCE:
        raise MediaError(
            f"The file is damaged or truncated: only {got:.1f} s of its {declared:.1f} s could be decoded."
        )
    if error is not None:
        notices.append(f"The end of the file could not be decoded ({error}); {got:.1f} s analysed.")
    if filled >= SAMPLE_RATE // 2:
        notices.append(
            f"{filled / SAMPLE_RATE:.1f} s of sound were missing from the recording (often a busy computer while "
            "recording); they count as silence."
        )
    if got < min_duration_s:
        raise MediaError(f"The recording is only {got:.1f} s long; answer for at least {min_duration_s:.0f} s.")
    info.duration_s = got
    audio = DecodedAudio(samples=samples, info=info, notices=notices)
    if audio.level_dbfs < SILENCE_DBFS:
        raise MediaError(f"The recording is silent (level {audio.level_dbfs:.0f} dBFS); check the microphone.")
    return audio
