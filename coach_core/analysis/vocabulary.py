"""The question's own words, given to Whisper as hotwords so domain terms are heard right (bench/VOCABULARY.md)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

VOCABULARY_MAX_TERMS = 40  # about 60 tokens of the 223 the prompt may hold
_TERM = re.compile(r"[A-Za-z][A-Za-z0-9+#]*(?:[-/'][A-Za-z0-9+#]+)*|\d+[A-Za-z][A-Za-z0-9]*")
# Words that carry no domain meaning, left out of the vocabulary (function words, interview verbs).
_PLAIN = frozenset(
    """
a about above after again against all also an and any are as at be because been before being below
between both but by can could did do does doing down during each either else even every few for from
further had has have having he her here hers him his how i if in into is it its itself just let like
many may me might more most much must my no nor not now of off on once one only or other our out over
own same she should so some such than that the their them then there these they this those through to
too under until up upon us very was we well were what when where whether which while who whom why will
with within without would you your yours also instead rather really quite often always never sure
explain describe tell walk talk give say make makes made use used using uses way ways thing things
keep keeps get gets got take takes know need needs want wants go goes going come comes work works
example examples time times first second next last new good better best bad lot lots kind kinds
approach approaches choose pick decide help helps show shows find finds check checks look looks
""".split()
)


def question_vocabulary(question: str, key_points: Sequence[str] = (), limit: int = VOCABULARY_MAX_TERMS) -> list[str]:
    """The domain terms of a question and its key points, to bias transcription towards them.

    Function words, plain verbs and short lowercase words are left out; each term once
    (case-insensitive). Terms are taken in turn from the question and each key point (first words
    first), so every key point is represented when ``limit`` cuts: "cache", "Redis", "TTL", "base62" …
    """
    sources: list[list[str]] = []
    for text in (question, *key_points):
        words = [w for w in _TERM.findall(text) if w.lower() not in _PLAIN]
        sources.append([w for w in words if len(w) >= 4 or any(c.isupper() or c.isdigit() for c in w[1:] or w)])
    terms: dict[str, str] = {}
    for round_ in itertools.zip_longest(*sources):
        for word in round_:
            if word is not None and word.lower() not in terms and len(terms) < limit:
                terms[word.lower()] = word
    return list(terms.values())
