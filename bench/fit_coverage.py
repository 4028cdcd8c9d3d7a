"""Fit the key-point model (coach_core/data/coverage_model.json) on the labelled validity set.

    .venv/bin/python -m bench.fit_coverage           # prints the cross-validated F1, writes the model
    .venv/bin/python -m bench.fit_coverage --check   # cross-validation only

The model is a logistic regression over six measures (coverage.FEATURES) per (answer, key point),
computed by the product's own code on the text path. It learns from two sets:

- the labelled validity answers (bench/validity_data: strong, partial and weak; every point labelled
  present or absent by hand);
- the mock interview's model answers (coach_core/data/model_answers.json: one complete answer per
  bank question; the points each one covers count as present), weighted MODEL_ANSWER_WEIGHT, so the
  model also sees long complete answers to 75 questions and keeps finding their points.

To say how it does on questions it has not seen, every question is left out in turn: the model is
fitted on every other question's answers and judged on the left-out one (leave-one-question-out);
those figures are printed and written with the model. The audio paths are never used for fitting.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from datetime import date
from pathlib import Path

import numpy as np

from bench.validity import Labelled, load_answers, timed_words

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "coach_core" / "data" / "coverage_model.json"
MODEL_ANSWERS = ROOT / "coach_core" / "data" / "model_answers.json"
C = 1.0  # inverse regularisation strength (sklearn's default)
MODEL_ANSWER_WEIGHT = 0.5  # a model answer's point counts half a hand label


def model_answers() -> list[Labelled]:
    """The mock interview's model answers as labelled answers: the points each covers are present."""
    doc = json.loads(MODEL_ANSWERS.read_text("utf-8"))["answers"]
    out = []
    for question_id, entry in doc.items():
        covers = entry["covers"]
        covers = json.loads(covers) if isinstance(covers, str) else covers
        present = [False] * (max(covers) + 1)
        for k in covers:
            present[k] = True
        out.append(Labelled(f"model-{question_id}", question_id, "model", entry["text"], present, None))
    return out


def features(answers: list[Labelled]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(features, labels, question ids, behavioural?) with one row per labelled (answer, key point);
    a model answer gives rows only for the points it covers."""
    from coach_core.analysis import coverage as cov
    from coach_core.analysis.text_metrics import split_sentences
    from coach_core.questions import get

    rows, labels, groups, behavioural = [], [], [], []
    for answer in answers:
        question = get(answer.question_id)
        assert question is not None
        _, clean = cov.matchable(split_sentences(timed_words(answer.text)))
        found = cov.point_features(
            cov.embed([k.strip() for k in question.key_points]),
            cov.embed(clean),
            [cov.embed(list(e.says)) for e in cov.evidence_for(question)],
            cov.embed([question.text])[0],
            behavioural=question.is_behavioural,
        )
        for k, present in enumerate(answer.key_points):
            if answer.level == "model" and not present:
                continue
            rows.append(found.values[k])
            labels.append(present)
            groups.append(answer.question_id)
            behavioural.append(question.is_behavioural)
    return np.array(rows), np.array(labels), np.array(groups), np.array(behavioural)


def fit(x: np.ndarray, y: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, float]:
    """Weights and bias on the raw features (the standardisation folded in)."""
    from sklearn.linear_model import LogisticRegression

    mean, sd = x.mean(axis=0), x.std(axis=0) + 1e-9
    model = LogisticRegression(C=C, max_iter=5000).fit((x - mean) / sd, y, sample_weight=weight)
    weights = model.coef_[0] / sd
    return weights, float(model.intercept_[0] - (weights * mean).sum())


def f1(found: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    tp = int((found & truth).sum())
    fp = int((found & ~truth).sum())
    fn = int((~found & truth).sum())
    precision, recall = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    return {
        "precision": round(precision, 3),
        "recall": round(recall, 3),
        "f1": round(2 * precision * recall / max(precision + recall, 1e-9), 3),
    }


def leave_one_question_out(
    x: np.ndarray, y: np.ndarray, groups: np.ndarray, weight: np.ndarray, behavioural: np.ndarray
) -> np.ndarray:
    """Whether each point is met, judged by a model fitted without its question: probability >= 0.5 and
    best_specific at or above the kind's floor, as the product decides (coverage.SPECIFIC_FLOOR)."""
    from coach_core.analysis.coverage import FEATURES, SPECIFIC_FLOOR

    floor = np.where(behavioural, SPECIFIC_FLOOR["behavioural"], SPECIFIC_FLOOR["technical"])
    specific_enough = x[:, FEATURES.index("best_specific")] >= floor
    found = np.zeros(len(y), dtype=bool)
    for question in np.unique(groups):
        held = groups == question
        weights, bias = fit(x[~held], y[~held], weight[~held])
        found[held] = (x[held] @ weights + bias >= 0) & specific_enough[held]  # probability >= 0.5
    return found


def main() -> None:
    from coach_core.analysis.coverage import FEATURES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="cross-validate only, do not write the model")
    args = parser.parse_args()
    labelled, written = load_answers(), model_answers()
    x, y, groups, behavioural = features(labelled + written)
    is_model = np.zeros(len(y), dtype=bool)
    is_model[-sum(sum(a.key_points) for a in written) :] = True
    weight = np.where(is_model, MODEL_ANSWER_WEIGHT, 1.0)
    found = leave_one_question_out(x, y, groups, weight, behavioural)
    hand = ~is_model
    scores: dict[str, dict[str, float]] = {
        "technical": f1(found[hand & ~behavioural], y[hand & ~behavioural]),
        "behavioural": f1(found[hand & behavioural], y[hand & behavioural]),
    }
    for kind, s in scores.items():
        print(
            f"labelled {kind}: leave-one-question-out F1 {s['f1']:.3f} "
            f"(precision {s['precision']:.3f}, recall {s['recall']:.3f})"
        )
    for kind, rows in (("technical", is_model & ~behavioural), ("behavioural", is_model & behavioural)):
        scores[f"model answers {kind}"] = {"recall": round(float(found[rows].mean()), 3)}
        print(f"model answers {kind}: leave-one-question-out recall {found[rows].mean():.3f} ({rows.sum()} points)")
    weights, bias = fit(x, y, weight)
    print("weights:", dict(zip(FEATURES, np.round(weights, 3), strict=True)), "bias:", round(bias, 3))
    if args.check:
        return
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout
    MODEL.write_text(
        json.dumps(
            {
                "about": "Key-point model (coach_core/analysis/coverage.py); written by python -m bench.fit_coverage.",
                "fitted_on": (
                    f"text path: bench/validity_data/answers.json ({int(hand.sum())} hand labels) and "
                    f"coach_core/data/model_answers.json ({int(is_model.sum())} covered points, "
                    f"weight {MODEL_ANSWER_WEIGHT})"
                ),
                "commit": commit.strip(),
                "date": date.today().isoformat(),
                "leave_one_question_out": scores,
                "features": list(FEATURES),
                "weights": [round(float(w), 5) for w in weights],
                "bias": round(bias, 5),
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {MODEL.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
