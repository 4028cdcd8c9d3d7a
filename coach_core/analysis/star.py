"""STAR structure (Situation, Task, Action, Result) in a behavioural answer, clause by clause.

Spoken stories run their parts together ("...I told the stakeholders early, as a result the
migration finished a week late"), so sentences are first cut into clauses at the words that open a
new part (", as a result", ", so", "and then", "which meant", ...). Each clause is then read two
ways: the phrases people use for a part (explicit cues: "my job was to", "that was my call",
"as a result", "I rolled back ...") and its closeness to short prototype sentences of every part
(MiniLM). A cue is strong evidence; closeness alone counts only when that part is the clause's
best fit and clearly so. Two rules keep the parts apart:

- a Result needs an outcome: an action clause ("I rolled back the release") is never taken as the
  result, and a lesson alone ("I learned to ask earlier") is reflection, not an outcome. When a
  transcript runs an action and its outcome into one clause with no break ("I reverted it and search
  was back to normal"), the outcome counts only if its words stand apart from the action's ("I shipped
  a fix" is an action however it is read); a story that says it does not know how things ended ("not
  sure what they decided in the end") has no result;
- responsibility said in any words ("I was leading the migration", "that was my call") is a Task.

Every part found carries the clause that showed it and why.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from coach_core.analysis.coverage import embed
from coach_core.analysis.text_metrics import MIN_CLAUSE_WORDS, Clause, Sentence, split_clauses
from coach_core.schema import Star, StarPart

PARTS = ("situation", "task", "action", "result")

# Prototype sentences per part: what such a clause typically says.
PROTOTYPES: dict[str, list[str]] = {
    "situation": [
        "At my previous company our team was working on a product with a serious problem.",
        "A few years ago I was working as an engineer and we faced a difficult situation.",
        "The context was that the project was behind schedule and the customer was unhappy.",
        "We were about to launch a new version and a lot of customers depended on it.",
    ],
    "task": [
        "My responsibility was to fix the problem and I was asked to lead the work.",
        "I needed to find a way to deliver the project on time.",
        "The goal was to reduce the errors and my task was to make it happen.",
        "I was the one in charge of the release, so the decision was mine.",
    ],
    "action": [
        "I decided to set up a meeting and talked to each person involved.",
        "First I analysed the data, then I wrote a plan and implemented the changes myself.",
        "I built a prototype, organised the team and proposed a new process.",
        "I investigated the root cause, rewrote the code and added monitoring.",
        "I wrote a script to automate the checks and set up alerts for failures.",
    ],
    "result": [
        "As a result we reduced the failures by forty percent and shipped on time.",
        "In the end the project was a success and the customer renewed the contract.",
        "The outcome was that we launched a week late but lost no customers.",
        "The team adopted the new process and the errors stopped.",
    ],
}

_I_PAST = (
    r"decided|started|built|created|wrote|organi[sz]ed|set up|talked|spoke|proposed|reached out|implemented|"
    r"designed|scheduled|analy[sz]ed|introduced|asked|met|worked|suggested|took|made|changed|added|fixed|"
    r"rewrote|moved|put|called|booked|sat down|pulled|ran|rolled|escalated|split|paired|reviewed|documented|"
    r"presented|negotiated|drafted|prototyped|tested|measured|went|sent|told|explained|agreed|offered|"
    r"brought|gathered|mapped|listed|interviewed|shadowed|wrote up|cut|dropped|pushed|paused|stopped|"
    r"replaced|migrated|deployed|traced|checked|compared|ran|mentored|coached|delegated|set|planned|"
    r"prioriti[sz]ed|focused|volunteered|apologi[sz]ed|flagged|raised|shared|invited|hosted|facilitated|"
    r"opened|closed|merged|reverted|restored|patched|wrote|read|looked|dug|spent|got|gave|showed|"
    r"proposed|chose|picked|broke|asked|pitched|convinced|persuaded|framed|summari[sz]ed|followed up|"
    r"re-?ran|re-?wrote|re-?planned|re-?scoped|scoped|estimated|timeboxed|tracked|monitored|automated|rebuilt|"
    r"caught|drove|hired|found (it|the|a|an|that|out|where|why|what)"
)

# Regular past tenses after "I" that tell a state of mind or a role rather than a step taken.
_NOT_ACTIONS = (
    r"needed|wanted|liked|loved|hated|seemed|appeared|happened|wished|hoped|preferred|realised|realized|assumed|"
    r"believed|learned|worried|panicked|owned|used|supposed|expected|noticed|wondered|struggled|failed|missed|"
    r"agreed|disliked|enjoyed|stayed|remained|tended|pretended|considered|imagined|guessed|feared|doubted|"
    r"intended|planned|managed|started|ended|joined|stepped|clashed|disagreed|argued|bickered"
)

# Phrases that open or mark each part (case-insensitive). Fillers are stripped before matching.
CUES: dict[str, list[str]] = {
    "situation": [
        r"\b(at|in) my (previous|last|old|current|first|former) (job|company|role|team|employer|position|internship)\b",
        r"\bwhen i was (working|at|in|a|an|the|leading|on|running)\b",
        r"\b(a|one|two|three|four|five|six|a few|a couple of|several|some) (years?|months?|weeks?) ago\b",
        r"\blast (year|month|quarter|spring|summer|autumn|fall|winter)\b", r"\bback in\b",
        r"\bthe (situation|context|background|setting|project) was\b", r"\bwe were (working|building|migrating|"
        r"launching|about to|preparing|running|moving|rolling|in the middle)\b",
        r"\bi was (working|a|an|the) \w+", r"\bi was (on|at|in) (a|the|an)\b", r"\bthere was (a|an|this)\b",
        r"\bour (team|company|startup|product|client|customer)s? (was|were|had|ran)\b",
        r"\bi (joined|had just joined)\b",
        r"\b(this|it) was (during|at|in|when|back)\b", r"\bi('m| am) going to talk about\b",
    ],
    "task": [
        r"\bmy (task|job|role|responsibility|goal|remit|brief|call|decision|mandate) (was|is)\b",
        r"\bi was (responsible|accountable|in charge|tasked|asked|assigned|leading|the lead|the owner|"
        r"on the hook|supposed to|expected to|running|managing|owning|heading|driving)\b",
        r"\bi (owned|led|had to|needed to|volunteered to|took on|took ownership|took charge|stepped up)\b",
        r"\bit was (my|up to me|on me|down to me)\b", r"\b(was|is) my (task|job|role|responsibility|call|decision)\b",
        r"\b(decided|offered|agreed|volunteered) to (take|own|lead|run|drive) (it|this|that|the)\b",
        r"\bthat was my (call|decision|responsibility|fault|mistake|plan)\b",
        r"\bthe (goal|objective|aim|challenge|task|target|ask|brief) was\b", r"\bwe (needed|had) to\b",
        r"\bsuccess (meant|would mean|would have meant|would look like|looked like)\b",
        r"\b(my manager|my boss|the director|my lead|the cto|the ceo|they) (asked|wanted|needed) me\b",
        r"\bi (wanted|was trying|tried) to (make|get|find|keep|fix|ship|deliver|reduce|improve)\b",
        r"\bi was (the |an? )?([\w-]+ ){0,2}(one(?! of)|person|engineer|lead|manager|owner|pm|analyst|commander|"
        r"contact|point person|responsible|in charge)\b",  # "one of the engineers on the call" is not a role
        r"\b(was|got) (handed|given|assigned|put in charge of|made responsible)\b",
        r"\btook (the lead|charge|ownership|responsibility)\b", r"\b(someone|somebody) (had|needed) to\b",
        r"\bwho (owned|ran|led|was responsible for)\b",
        r"\bas the (\w+ ){0,2}(lead|owner|analyst|engineer|manager|pm)\b",
        r"\b(that|this|it) was (my|all my|entirely my) (error|mistake|fault|call|decision|responsibility|job)\b",
        r"\bi was on[- ]call\b",
        r"\b(is|was) on me\b",
        r"\b(proposed|offered|volunteered|agreed) (owning|leading|to own)\b",
        r"\bi was (building|leading|running|owning|managing|driving|designing|migrating|shipping|launching)\b",
    ],
    "action": [
        r"\bi (" + _I_PAST + r")\b", r"\bi (?!(" + _NOT_ACTIONS + r")\b)[a-z]{3,}ed\b",
        r"\bi (then|first|also|immediately|quickly|personally) (" + _I_PAST + r")\b",
        r"\b(first|then|next|after that|so) i\b(?! (didn't|did not|wasn't|was not|never|couldn't|could not|don't))",
        r"\bwhat i did (was|first)\b", r"\bi went (to|and|back|through)\b",
        r"\bi('d| had) (to )?(call|talk|sit|set)\b",
    ],
    "result": [
        r"\bas a (result|consequence)\b", r"\bin the end\b", r"\beventually\b", r"\bfinally\b",
        r"\bended up (?!having|needing|having to|being asked)", r"\bby the end\b(?! of (the|this|next) "
        r"(week|month|quarter|sprint|year|day))", r"\bby (then|launch|peak|the time)\b",
        r"\bthe (result|outcome|upshot|impact|effect|end result) (was|is)\b", r"^(result|outcome|end result|upshot)\b",
        r"\b(which|that|this) (meant|led to|resulted in|cut|saved|saves|reduced|brought|got)\b",
        r"\b\w+ (went live|shipped|launched|delivered|released|landed|finished|completed|closed|hit|met|made it|"
        r"passed|recovered|stabili[sz]ed|was released|got released|was delivered)\b",
        r"\b\d+(\.\d+)?\s*(%|percent|per cent)", r"\b(percent|per cent)\b", r"\bfrom \S+ to \S+",
        r"\b(went|dropped|fell|rose|grew|came) (down |up )?from\b(?! (there|here|that|then|scratch)\b)",
        r"\b(dropped|fell|rose|improved|increased|reduced|decreased|grew|shrank|went (up|down)) (by|to|from)\b",
        r"\b(halved|doubled|tripled)\b", r"\b(down|up) (by |to )?(about |around |roughly |over |nearly |almost )?\d",
        r"\b(was|were|came|got|is|are) (all |fully |finally )?(back|fixed|resolved|solved|restored|stable|normal)\b",
        r"\bcame (around|round|back)\b", r"\b(went|got [\w-]+( [\w-]+){0,3}) out\b",
        r"\bwithin (a|an|one|two|three|four|six|\w+) (days?|weeks?|months?|"
        r"quarters?|years?|sprints?)\b", r"\b(on|ahead of) (time|schedule)\b",
        r"\bit (all )?(worked|paid off|helped)\b", r"\bwent (fine|well|smoothly)\b",
        r"\b(we|they|it) (never|no longer)\b",
        r"\b(a|one|two|three|four) (days?|weeks?|months?) (late|early|later)\b",
        r"\b(lost|saved|won|renewed|signed|churned) (no|the|a|an|\d|one|two|three|four|five|ten|about|over|around)\b",
        r"\b(she|he|they|the (\w+ )?(team|client|customer|board|ceo|cfo|cto|director|manager|lead|stakeholders?)) "
        r"(accepted|approved|signed off|bought in)\b",
        r"\b(got|was) promoted\b", r"\b(is|are) still (running|in use|used)\b",
        r"\bthe (team|client|customer|manager|stakeholders?|users?) (said|thanked|agreed|adopted|loved|liked|"
        r"(was|were) (happy|pleased|thrilled|grateful|impressed|satisfied|able))\b",
    ],
}  # fmt: skip

CUE_STRENGTH = 0.75  # a clause with an explicit cue for a part: present (shown as its strength)
PRESENT_AT = 0.5  # closeness to a part's prototypes needed without a cue ...
CLEAR_BY = 0.05  # ... and by this much more than to any other part


def _cue_matches(part: str, text: str) -> list[re.Match[str]]:
    """The first match of each of ``part``'s cues in ``text``."""
    found = (re.search(pattern, text, flags=re.IGNORECASE) for pattern in CUES[part])
    return [m for m in found if m]


def _cue_hits(part: str, text: str) -> list[str]:
    return [m.group(0) for m in _cue_matches(part, text)]


# "Eventually", "in the end", ... say when, not what: they count as an outcome only opening a clause.
_WHEN_CUES = re.compile(r"^(eventually|finally|in the end|by (then|launch|peak|the time|the end))$", re.IGNORECASE)
# "I'm not sure what they decided in the end": the story says it does not know the outcome.
_UNKNOWN_OUTCOME = re.compile(
    r"\b(not sure|don't know|do not know|didn't find out|never found out|never heard|no idea|can't say) (\w+ )?"
    r"(what|how|if|whether)\b",
    re.IGNORECASE,
)


def _outcome_beside_action(text: str) -> bool:
    """Whether an outcome cue stands apart from the clause's action cues ("I reverted it and search was back
    to normal": yes; "I shipped a fix": the only outcome word is the action itself). Cues that only say when
    ("eventually", "in the end", ...) are not an outcome here."""
    actions = [m.span() for m in _cue_matches("action", text)]
    outcomes = [m.span() for m in _cue_matches("result", text) if not _WHEN_CUES.match(m.group(0))]
    return any(all(end <= a or start >= b for a, b in actions) for start, end in outcomes)


def prototype_vectors() -> dict[str, np.ndarray]:
    """Embeddings of the reference sentences for each STAR part (computed once per process)."""
    global _PROTO_CACHE
    if _PROTO_CACHE is None:
        _PROTO_CACHE = {part: embed(PROTOTYPES[part]) for part in PARTS}
    return _PROTO_CACHE


_PROTO_CACHE: dict[str, np.ndarray] | None = None


def _evidence(clauses: Sequence[Clause]) -> tuple[np.ndarray, dict[tuple[int, int], list[str]], np.ndarray]:
    """Per clause and part: strength (cue or closeness), the cue phrases, and the closeness alone."""
    n = len(clauses)
    sims = np.zeros((n, len(PARTS)), dtype=np.float32)
    if n:
        vectors = embed([c.text for c in clauses])
        protos = prototype_vectors()
        for p, part in enumerate(PARTS):
            sims[:, p] = (vectors @ protos[part].T).max(axis=1)
    hits = {(r, p): _cue_hits(part, c.text) for r, c in enumerate(clauses) for p, part in enumerate(PARTS)}
    strength = sims.copy()
    for (r, p), found in hits.items():
        if found:
            strength[r, p] = max(strength[r, p], CUE_STRENGTH)
    return strength, hits, sims


_OUTCOME_OPENERS = re.compile(
    r"^(as a (result|consequence)|in the end|eventually|finally|ended up|the (result|outcome|upshot|impact|effect|"
    r"end result) (was|is)|by the end|which|that|this)\b",
    re.IGNORECASE,
)


_NARRATION = re.compile(
    r"\b(was|were|had|kept|used to|wasn't|weren't|didn't|\w{3,}(?<!need)ed)\b", re.IGNORECASE
)  # told in the past: how things were, what happened
OPENING_CLAUSES = 2  # a story's first clauses, told in the past and not yet acting, set the scene


def _supports(
    clauses: Sequence[Clause], r: int, p: int, hits: dict[tuple[int, int], list[str]], sims: np.ndarray
) -> bool:
    """Whether clause ``r`` shows part ``p``."""
    part, clause = PARTS[p], clauses[r]
    if part == "result" and not hits[(r, p)]:
        return False  # an outcome is said in outcome words; closeness alone reads actions as results
    if part == "result":
        before = clauses[r - 1] if r and clauses[r - 1].sentence == clause.sentence else None
        if any(_UNKNOWN_OUTCOME.search(c.text) for c in (clause, before) if c is not None):
            return False
    if part == "situation" and r < OPENING_CLAUSES and _NARRATION.search(clause.text):
        if not _OUTCOME_OPENERS.match(clause.text):
            return True  # the story opens by telling what was going on
    if hits[(r, p)]:
        if part == "result" and hits[(r, PARTS.index("action"))] and not _OUTCOME_OPENERS.match(clause.text):
            # "I cut the scope" is an action, not a result, unless an outcome stands apart from the action's
            # words ("it was all back after twelve minutes after which I added a check": a transcript runs
            # the two together)
            return _outcome_beside_action(clause.text)
        return True
    others = [sims[r, q] for q in range(len(PARTS)) if q != p]
    return bool(sims[r, p] >= PRESENT_AT and sims[r, p] >= max(others) + CLEAR_BY)


def analyse_star(sentences: Sequence[Sentence]) -> Star:
    """Find Situation, Task, Action and Result in the answer's clauses."""
    clauses = [c for c in split_clauses(sentences) if len(c.text.split()) >= MIN_CLAUSE_WORDS]
    strength, hits, sims = _evidence(clauses)
    parts: dict[str, StarPart] = {}
    for p, part in enumerate(PARTS):
        rows = [r for r in range(len(clauses)) if _supports(clauses, r, p, hits, sims)]
        if not rows:
            best = float(sims[:, p].max()) if clauses else 0.0
            parts[part] = StarPart(present=False, strength=best, reason=f"no clause reads as the {part}")
            continue
        # The scene is set early and the outcome told late: among equals, the earliest / latest clause.
        order = {"situation": -1, "result": 1}.get(part, 0)
        opens = part == "result"  # "as a result ...", "in the end ..." say it most plainly
        ranked = {
            r: (bool(hits[(r, p)]), opens and bool(_OUTCOME_OPENERS.match(clauses[r].text)), order * r, strength[r, p])
            for r in rows
        }
        row = max(rows, key=ranked.__getitem__)
        clause = clauses[row]
        found = hits[(row, p)]
        why = f"cue '{found[0]}'" if found else "reads like a " + part
        parts[part] = StarPart(
            present=True,
            sentence=clause.text,
            start=clause.start,
            strength=float(strength[row, p]),
            reason=f"{why} (match {strength[row, p]:.2f})",
        )
    full = " ".join(s.text for s in sentences).lower()
    i_count = len(re.findall(r"\b(i|i'm|i've|i'd|me|my)\b", full))
    we_count = len(re.findall(r"\b(we|we're|we've|we'd|us|our)\b", full))
    missing = [part for part in PARTS if not parts[part].present]
    flags: list[str] = []
    if not parts["result"].present:
        flags.append("No result: the story does not say how it ended; add the outcome, ideally a number.")
    if parts["result"].present and not re.search(r"\d|percent|per cent", parts["result"].sentence, re.IGNORECASE):
        flags.append("The result has no number; a measurable outcome is more convincing.")
    if we_count > i_count and we_count >= 4:
        flags.append(f"'We' ({we_count}) outnumbers 'I' ({i_count}): say what you did yourself.")
    return Star(
        situation=parts["situation"],
        task=parts["task"],
        action=parts["action"],
        result=parts["result"],
        complete=not missing,
        missing=missing,
        flags=flags,
        i_count=i_count,
        we_count=we_count,
    )
