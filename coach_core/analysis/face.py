"""Face cues from the video track with MediaPipe Face Landmarker (52 blendshapes + head pose).

Everything here is a **blendshape-based proxy**: eye contact from eye-look blendshapes and head
pose, Action-Unit proxies from the blendshapes named after them. It is not certified FACS coding
and not emotion detection; the report says so. One landmarker per recording (VIDEO mode state).
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from coach_core.models.engines import face_model_path
from coach_core.schema import FaceMetrics, Series

MAX_WIDTH = 640  # frames are scaled down to this width before analysis
EYE_CONTACT_MAX_HEAD_DEG = 20.0  # head turned further than this from the camera = looking away
EYE_CONTACT_MAX_GAZE = 0.45  # eye-look blendshape off-centre above this = eyes away from camera
BLINK_CLOSED = 0.5  # eyeBlink score above this = eyes closed
OUT_OF_VIEW_NOTICE_S = 2.0  # a face missing this long is worth telling the person
# Action-Unit proxies: AU name -> blendshapes averaged.
AU_PROXIES: dict[str, tuple[str, ...]] = {
    "AU1 inner brow raiser": ("browInnerUp",),
    "AU2 outer brow raiser": ("browOuterUpLeft", "browOuterUpRight"),
    "AU4 brow lowerer": ("browDownLeft", "browDownRight"),
    "AU12 lip corner puller": ("mouthSmileLeft", "mouthSmileRight"),
    "AU15 lip corner depressor": ("mouthFrownLeft", "mouthFrownRight"),
    "AU24 lip pressor": ("mouthPressLeft", "mouthPressRight"),
    "AU26 jaw drop": ("jawOpen",),
    "AU45 blink": ("eyeBlinkLeft", "eyeBlinkRight"),
}
EXPRESSION_SHAPES = (
    "browInnerUp", "browDownLeft", "browDownRight", "browOuterUpLeft", "browOuterUpRight",
    "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight", "jawOpen",
    "mouthPressLeft", "mouthPressRight", "eyeWideLeft", "eyeWideRight", "cheekSquintLeft",
    "cheekSquintRight",
)  # fmt: skip


@dataclass
class FaceFrame:
    t: float
    visible: bool
    faces: int = 0
    blendshapes: dict[str, float] = field(default_factory=dict)
    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    area: float = 0.0


def _rotation_of(frame: Any, stream_rotation: int) -> int:
    value = getattr(frame, "rotation", None)
    return int(value) % 360 if isinstance(value, (int, float)) and value else stream_rotation


@contextlib.contextmanager
def one_core() -> Iterator[None]:
    """Keep the calling thread, and the threads it starts (MediaPipe's, FFmpeg's), on one CPU.

    MediaPipe's graph and FFmpeg's decoder spread over every core by default; with Whisper busy on
    one of two cores that made both slower (640x480 landmarker: 55 frames/s unpinned vs 67 on one
    core; decoding a 2-min video 3.0 s vs 1.2 s; bench/RESULTS.md). The thread's own affinity is
    restored afterwards (pool threads are reused); threads started meanwhile keep the one CPU.
    """
    getter = getattr(os, "sched_getaffinity", None)
    setter = getattr(os, "sched_setaffinity", None)
    allowed = getter(0) if getter is not None else set()
    if setter is None or len(allowed) < 2:
        yield
        return
    try:
        setter(0, {max(allowed)})  # on Linux, 0 is the calling thread
    except OSError:
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            setter(0, allowed)


def sample_frames(path: Path | str, fps: float, max_width: int = MAX_WIDTH) -> Iterator[tuple[float, np.ndarray]]:
    """Yield (seconds, RGB frame) at about ``fps`` frames per second, upright and ≤ max_width wide."""
    import av

    with av.open(str(path), metadata_errors="ignore") as container:
        if not container.streams.video:
            return
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        stream_rotation = int(getattr(stream, "display_rotation", 0) or 0) % 360
        step = 1.0 / fps
        next_t = -1.0
        try:
            for frame in container.decode(stream):
                if frame.time is None or frame.time + 1e-6 < next_t:
                    continue
                next_t = max(next_t + step, frame.time + step * 0.5) if next_t >= 0 else frame.time + step
                w, h = frame.width, frame.height
                if w < 16 or h < 16:
                    continue
                scale = min(1.0, max_width / max(w, 1))
                tw, th = (
                    max(2, int(w * scale) // 2 * 2),
                    max(2, int(h * scale) // 2 * 2),
                )
                rgb: np.ndarray = frame.to_ndarray(format="rgb24", width=tw, height=th)
                rotation = _rotation_of(frame, stream_rotation)
                if rotation:
                    # FFmpeg rotation is counter-clockwise; turn the picture back upright.
                    rgb = np.ascontiguousarray(np.rot90(rgb, k=-(rotation // 90) % 4))
                yield float(frame.time), rgb
        except av.error.FFmpegError:
            return  # a damaged tail: keep what was read


def head_angles(matrix: np.ndarray) -> tuple[float, float, float]:
    """Yaw, pitch, roll in degrees from MediaPipe's facial transformation matrix."""
    r = np.asarray(matrix)[:3, :3]
    pitch = math.degrees(math.atan2(r[2, 1], r[2, 2]))
    yaw = math.degrees(math.asin(max(-1.0, min(1.0, -r[2, 0]))))
    roll = math.degrees(math.atan2(r[1, 0], r[0, 0]))
    return yaw, pitch, roll


class FaceTracker:
    """One MediaPipe landmarker in VIDEO mode for one recording or live stream."""

    def __init__(self, num_faces: int = 2) -> None:
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision

        self._mp = mp
        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(face_model_path())),
            running_mode=vision.RunningMode.VIDEO,
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
            num_faces=num_faces,
        )
        self._landmarker = vision.FaceLandmarker.create_from_options(options)
        self._last_ms = -1

    def process(self, t: float, rgb: np.ndarray) -> FaceFrame:
        ms = max(round(t * 1000), self._last_ms + 1)  # VIDEO mode needs increasing ms
        self._last_ms = ms
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        result = self._landmarker.detect_for_video(image, ms)
        if not result.face_landmarks:
            return FaceFrame(t=t, visible=False)
        areas = []
        for landmarks in result.face_landmarks:
            xs = [p.x for p in landmarks]
            ys = [p.y for p in landmarks]
            areas.append((max(xs) - min(xs)) * (max(ys) - min(ys)))
        k = int(np.argmax(areas))  # analyse the largest face
        shapes = {c.category_name: float(c.score) for c in result.face_blendshapes[k]}
        yaw, pitch, roll = head_angles(result.facial_transformation_matrixes[k])
        return FaceFrame(
            t=t,
            visible=True,
            faces=len(areas),
            blendshapes=shapes,
            yaw=yaw,
            pitch=pitch,
            roll=roll,
            area=areas[k],
        )

    def close(self) -> None:
        self._landmarker.close()

    def __enter__(self) -> FaceTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _mean(shapes: dict[str, float], names: tuple[str, ...]) -> float:
    # Plain Python: called for every frame and proxy (tens of thousands of times in a 5-min answer).
    return sum(shapes.get(n, 0.0) for n in names) / len(names)


def _clip(x: float, lo: float, hi: float) -> float:
    return float(min(max(x, lo), hi))


def gaze_offset(shapes: dict[str, float]) -> float:
    """How far the eyes look away from straight ahead (0 = centre, 1 = fully away)."""
    horizontal = max(
        abs(shapes.get("eyeLookInLeft", 0) - shapes.get("eyeLookOutLeft", 0)),
        abs(shapes.get("eyeLookInRight", 0) - shapes.get("eyeLookOutRight", 0)),
    )
    vertical = abs(
        _mean(shapes, ("eyeLookUpLeft", "eyeLookUpRight")) - _mean(shapes, ("eyeLookDownLeft", "eyeLookDownRight"))
    )
    return max(horizontal, vertical)


def is_eye_contact(frame: FaceFrame) -> bool:
    return (
        frame.visible
        and abs(frame.yaw) <= EYE_CONTACT_MAX_HEAD_DEG
        and abs(frame.pitch) <= EYE_CONTACT_MAX_HEAD_DEG
        and gaze_offset(frame.blendshapes) <= EYE_CONTACT_MAX_GAZE
    )


def valence_proxy(shapes: dict[str, float]) -> float:
    """Smile minus frown and brow lowering, in [-1, 1]."""
    smile = _mean(shapes, AU_PROXIES["AU12 lip corner puller"])
    frown = _mean(shapes, AU_PROXIES["AU15 lip corner depressor"])
    brow = _mean(shapes, AU_PROXIES["AU4 brow lowerer"])
    return _clip(smile - frown - 0.5 * brow, -1.0, 1.0)


def arousal_proxy(shapes: dict[str, float]) -> float:
    """Eye widening, brow raising and mouth opening, in [0, 1]."""
    return _clip(
        0.4 * _mean(shapes, ("eyeWideLeft", "eyeWideRight"))
        + 0.3 * _mean(shapes, ("browInnerUp", "browOuterUpLeft", "browOuterUpRight"))
        + 0.3 * shapes.get("jawOpen", 0.0),
        0.0,
        1.0,
    )


def _per_second(frames: list[FaceFrame], duration: float, value: Callable[[FaceFrame], float | None]) -> Series:
    seconds = max(1, math.ceil(duration))
    buckets: list[list[float]] = [[] for _ in range(seconds)]
    for f in frames:
        v = value(f)
        s = min(int(f.t), seconds - 1)
        if v is not None:
            buckets[s].append(v)
    return Series(
        t=[s + 0.5 for s in range(seconds)],
        values=[sum(b) / len(b) if b else None for b in buckets],
    )


def longest_gap(frames: list[FaceFrame]) -> tuple[float, float]:
    """(start, length in seconds) of the longest run of frames without a face."""
    best = (0.0, 0.0)
    run_start: float | None = None
    for f in [*frames, FaceFrame(t=frames[-1].t + 1e-3, visible=True)] if frames else []:
        if not f.visible and run_start is None:
            run_start = f.t
        elif f.visible and run_start is not None:
            if f.t - run_start > best[1]:
                best = (run_start, f.t - run_start)
            run_start = None
    return best


def summarise(frames: list[FaceFrame], duration: float, sample_fps: float) -> FaceMetrics:
    """Turn per-frame results into the report's face section."""
    if not frames:
        return FaceMetrics(available=False, reason="The video has no frames that could be decoded.")
    seen = [f for f in frames if f.visible]
    if not seen:
        return FaceMetrics(
            available=False,
            reason="No face was found in the video (camera covered, dark, or out of frame).",
            frames_analysed=len(frames),
            sample_fps=sample_fps,
        )
    notices: list[str] = []
    multi = sum(f.faces > 1 for f in seen) / len(seen)
    if multi > 0.05:
        notices.append(f"More than one face was in view in {multi:.0%} of frames; the largest face was analysed.")
    visible_ratio = len(seen) / len(frames)
    start, longest = longest_gap(frames)
    if longest >= OUT_OF_VIEW_NOTICE_S:
        notices.append(
            f"Your face was out of view for {longest:.0f} s from {int(start) // 60}:{int(start) % 60:02d} "
            f"({1 - visible_ratio:.0%} of the answer in all)."
        )
    blinks = 0
    closed_before = False
    for f in seen:
        closed = _mean(f.blendshapes, AU_PROXIES["AU45 blink"]) > BLINK_CLOSED
        blinks += closed and not closed_before
        closed_before = closed
    seen_time = len(seen) / max(sample_fps, 1e-6)
    movement = []
    for a, b in itertools.pairwise(seen):
        dt = b.t - a.t
        if 0 < dt < 1.0:
            movement.append(math.dist((a.yaw, a.pitch, a.roll), (b.yaw, b.pitch, b.roll)) / dt)
    expression = np.array([[f.blendshapes.get(n, 0.0) for n in EXPRESSION_SHAPES] for f in seen])
    expressiveness = float(np.clip(expression.std(axis=0).mean() * 5.0, 0, 1)) if len(seen) > 1 else 0.0
    au = {name: float(np.mean([_mean(f.blendshapes, shapes) for f in seen])) for name, shapes in AU_PROXIES.items()}

    def visible_only(
        fn: Callable[[FaceFrame], float],
    ) -> Callable[[FaceFrame], float | None]:
        return lambda f: fn(f) if f.visible else None

    blink_value = visible_only(lambda f: float(_mean(f.blendshapes, AU_PROXIES["AU45 blink"]) > BLINK_CLOSED))
    return FaceMetrics(
        available=True,
        frames_analysed=len(frames),
        sample_fps=sample_fps,
        visible_ratio=visible_ratio,
        eye_contact_ratio=sum(is_eye_contact(f) for f in seen) / len(seen),
        head_yaw_deg=float(np.mean([f.yaw for f in seen])),
        head_pitch_deg=float(np.mean([f.pitch for f in seen])),
        head_movement_deg_per_s=float(np.median(movement)) if movement else 0.0,
        blink_rate_per_min=blinks / (seen_time / 60.0) if seen_time > 0 else None,
        smile=au["AU12 lip corner puller"],
        expressiveness=expressiveness,
        valence=float(np.mean([valence_proxy(f.blendshapes) for f in seen])),
        arousal=float(np.mean([arousal_proxy(f.blendshapes) for f in seen])),
        au_proxies=au,
        multiple_faces_ratio=multi,
        notices=notices,
        visible=_per_second(frames, duration, lambda f: float(f.visible)),
        eye_contact=_per_second(frames, duration, lambda f: float(is_eye_contact(f))),
        smile_series=_per_second(
            frames,
            duration,
            visible_only(lambda f: _mean(f.blendshapes, AU_PROXIES["AU12 lip corner puller"])),
        ),
        brow_lowering=_per_second(
            frames,
            duration,
            visible_only(lambda f: _mean(f.blendshapes, AU_PROXIES["AU4 brow lowerer"])),
        ),
        lip_press=_per_second(
            frames,
            duration,
            visible_only(lambda f: _mean(f.blendshapes, AU_PROXIES["AU24 lip pressor"])),
        ),
        blinks=_per_second(frames, duration, blink_value),
        gaze_away=_per_second(frames, duration, visible_only(lambda f: float(not is_eye_contact(f)))),
        valence_series=_per_second(frames, duration, visible_only(lambda f: valence_proxy(f.blendshapes))),
        arousal_series=_per_second(frames, duration, visible_only(lambda f: arousal_proxy(f.blendshapes))),
        head_movement=_per_second(frames, duration, visible_only(lambda f: abs(f.yaw) + abs(f.pitch))),
    )


def analyse_face(
    path: Path | str,
    duration: float,
    fps: float = 10.0,
    progress: Callable[[float, str], None] | None = None,
) -> FaceMetrics:
    """Analyse the face in a recording's video track (one landmarker for this recording)."""
    frames: list[FaceFrame] = []
    with one_core(), FaceTracker() as tracker:
        for t, rgb in sample_frames(path, fps):
            frames.append(tracker.process(t, rgb))
            if progress is not None and duration > 0 and len(frames) % 10 == 0:
                progress(min(t / duration, 1.0), "face")
    return summarise(frames, duration, fps)
