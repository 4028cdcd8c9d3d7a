"""Does biasing transcription towards the question's words help? Domain-term recall, WER and fillers.

    .venv/bin/python -m bench.vocabulary          # a few minutes; prints the table, writes bench/VOCABULARY.md

The strong technical answers of the labelled set (bench/validity_data/answers.json) are spoken by
espeak-ng and by a natural neural voice (piper, en_US-joe-medium), then transcribed by the product's
transcription step (tiny.en, filler prompt) three ways: without a vocabulary; with the question's
vocabulary as faster-whisper ``hotwords`` (what the product does); and with the vocabulary appended
to the filler prompt instead (the alternative). Domain terms are the vocabulary's words that occur in
the answer as written; recall is the share of their occurrences the transcript has. "Heard" is the
transcript's length over the answer's (skipping shows as a drop).
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
OUT = ROOT / "bench" / "VOCABULARY.md"
ANSWERS = ROOT / "bench" / "validity_data" / "answers.json"
MAX_ANSWERS = 10
FILLERS = {"um", "uh", "umm", "uhm", "er", "erm", "ah"}


def tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower())


def answers() -> list[tuple[str, str, list[str]]]:
    """(question, answer, key points) for the strong technical answers, one per question."""
    bank = {q["id"]: q for q in json.loads((ROOT / "coach_core" / "data" / "questions.json").read_text())["questions"]}
    data = json.loads(ANSWERS.read_text())
    items = data["answers"] if isinstance(data, dict) else data
    out, seen = [], set()
    for a in items:
        q = bank.get(a["question_id"])
        if q and q["kind"] == "technical" and a.get("level") == "strong" and q["id"] not in seen:
            seen.add(q["id"])
            out.append((q["text"], a["text"], q["key_points"]))
    return out[:MAX_ANSWERS]


def main() -> int:
    import jiwer
    from media_factory import piper_speak, speak

    from coach_core.analysis.transcribe import transcribe_chunk
    from coach_core.analysis.vocabulary import question_vocabulary
    from coach_core.config import load_settings
    from coach_core.media.decode import decode_audio

    settings = load_settings()
    conditions = ("none", "hotwords", "prompt")
    stats: dict[tuple[str, str], Counter[str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for k, (question, answer, key_points) in enumerate(answers()):
            vocabulary = question_vocabulary(question, key_points)
            parts = {p for term in vocabulary for p in tokens(term) if len(p) >= 3}
            ref = tokens(answer)
            domain = Counter(t for t in ref if t in parts)
            for voice in ("espeak", "piper"):
                path = Path(tmp) / f"{k}_{voice}.wav"
                speak(answer, path) if voice == "espeak" else piper_speak(answer, path)
                samples = decode_audio(path).samples
                for condition in conditions if voice == "espeak" else conditions[:2]:
                    started = time.perf_counter()
                    part = transcribe_chunk(
                        samples, settings,
                        vocabulary=vocabulary if condition == "hotwords" else (),
                        context=", ".join(vocabulary) if condition == "prompt" else "",
                    )  # fmt: skip
                    seconds = time.perf_counter() - started
                    hyp = tokens(" ".join(w.word for w in part.words))
                    got = Counter(hyp)
                    s = stats.setdefault((voice, condition), Counter())
                    s["terms"] += sum(domain.values())
                    s["found"] += sum(min(n, got[t]) for t, n in domain.items())
                    s["ref_words"] += len(ref)
                    s["hyp_words"] += len(hyp)
                    s["errors"] += round(jiwer.wer(" ".join(ref), " ".join(hyp) or "-") * len(ref))
                    s["ref_fillers"] += sum(t in FILLERS for t in ref)
                    s["hyp_fillers"] += sum(t in FILLERS for t in hyp)
                    s["ms"] += round(seconds * 1000)
                    s["answers"] += 1
                    print(f"{k} {voice:6s} {condition:8s} terms {s['found']}/{s['terms']} {seconds:.1f} s", flush=True)
    lines = [
        "# Transcription that knows the vocabulary",
        "",
        "Command: `.venv/bin/python -m bench.vocabulary` (see the module docstring for the method).",
        "",
        "| voice | vocabulary | domain-term recall | WER | words heard / said | fillers heard / said | s per answer |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for (voice, condition), s in stats.items():
        lines.append(
            f"| {voice} | {condition} | {s['found'] / max(s['terms'], 1):.1%} ({s['found']}/{s['terms']}) "
            f"| {s['errors'] / max(s['ref_words'], 1):.1%} | {s['hyp_words'] / max(s['ref_words'], 1):.2f} "
            f"| {s['hyp_fillers']}/{s['ref_fillers']} | {s['ms'] / 1000 / max(s['answers'], 1):.1f} |"
        )
    OUT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
