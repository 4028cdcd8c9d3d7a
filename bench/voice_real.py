"""Voice measures on real recordings and on a natural neural voice: pitch median, variation in
semitones, stress spikes and how reliable the voice measures are.

Run: .venv/bin/python bench/voice_real.py  (prints a table and writes bench/VOICE.md)
Real clips are read from ../shared/media/real-speech (skipped when absent); piper (en_US joe),
espeak-ng and a stressed stretch (sox: pitch up, faster, louder) are made here.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from media_factory import speak  # noqa: E402
from test_voice_real import CALM_REAL, CALM_TEXT, REAL, STRESS_PITCH_CENTS, STRESS_TEMPO, piper_speak, stressed_stretch  # noqa: E402

from coach_core.analysis.pipeline import analyse  # noqa: E402
from coach_core.config import Settings  # noqa: E402
from coach_core.media.decode import decode_audio  # noqa: E402
from coach_core.schema import Question  # noqa: E402

Q = Question(text="Tell me about a project you are proud of.", key_points=["What it was", "Your part"])
HEADER = "| clip | expect | median Hz | SD st | range Hz | spikes | confidence | notes |"


def row(name: str, path: Path, expect: str, where: tuple[float, float] | None = None) -> str:
    report = analyse(path, Q, settings=Settings())
    v, s = report.voice, report.stress
    assert v is not None
    spikes = "n/a" if s is None or not s.available else str(len(s.spikes))
    if s is not None and s.spikes:
        spikes += " (" + ", ".join(f"{x.start:.0f}-{x.end:.0f} s: {'+'.join(x.drivers)}" for x in s.spikes) + ")"
    notes = "; ".join(v.confidence_reasons)
    if where is not None:
        notes = f"stressed {where[0]:.1f}-{where[1]:.1f} s" + (f"; {notes}" if notes else "")
    rng = "–" if v.pitch_floor_hz is None else f"{v.pitch_floor_hz:.0f}-{v.pitch_ceiling_hz:.0f}"
    med = "–" if v.pitch_median_hz is None else f"{v.pitch_median_hz:.0f}"
    sd = "–" if v.pitch_variability_st is None else f"{v.pitch_variability_st:.2f}"
    line = f"| {name} | {expect} | {med} | {sd} | {rng} | {spikes} | {v.confidence:.2f} | {notes} |"
    print(line, flush=True)
    return line


def main() -> None:
    started = time.perf_counter()
    lines = [HEADER, "| --- | --- | ---: | ---: | --- | --- | ---: | --- |"]
    print(HEADER)
    if REAL.exists():
        for name in CALM_REAL:
            lines.append(row(name, REAL / name, "calm"))
    else:
        print(f"(no real clips at {REAL})")
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        calm = piper_speak(CALM_TEXT, d / "piper_calm.wav")
        lines.append(row("piper joe (calm)", calm, "calm"))
        lines.append(row("espeak en (calm)", speak(CALM_TEXT, d / "espeak.wav", rate=150), "calm"))
        length = decode_audio(calm).duration_s
        start, end = 0.55 * length, 0.8 * length
        stressed = stressed_stretch(calm, d / "piper_stressed.wav", start, end)
        hot = (start, start + (end - start) / STRESS_TEMPO)
        lines.append(row("piper joe, one stretch stressed", stressed, "spike", hot))
    text = "\n".join(
        [
            "# Voice measures on real and natural voices",
            "",
            "Command: `.venv/bin/python bench/voice_real.py` (this file is its output). Calm clips should have no",
            "stress spikes and a pitch SD in a normal speaking range (~1-6 semitones); the stressed stretch",
            f"(sox pitch +{STRESS_PITCH_CENTS} cents, tempo x{STRESS_TEMPO}, gain +8 dB over 25% of the clip)",
            "should give a spike there.",
            "SD st: SD of f0 in semitones around the speaker's median, after the speaker's own range",
            "(0.75 x q25 to 2 x q75, after De Looze & Hirst) and octave-jump repair. Confidence: 0-1, how far",
            "the voice measures are trusted (level, noise, HNR, seconds of voiced speech).",
            "",
            *lines,
            "",
            f"Total {time.perf_counter() - started:.0f} s.",
            "",
        ]
    )
    (ROOT / "bench" / "VOICE.md").write_text(text)


if __name__ == "__main__":
    main()
