"""Optional: a local language model rephrases the chosen follow-up so it sounds less like a template.

Off by default. With ``COACH_LLM_URL`` set to an OpenAI-compatible base URL (a llama.cpp server,
``http://localhost:8080/v1``; Ollama, ``http://localhost:11434/v1``) the follow-up text is sent to
``{url}/chat/completions`` (model ``COACH_LLM_MODEL``) with the question, and the reply replaces the text.
Any error, a reply that is empty or too long, or no reply within ``timeout_s`` keeps the template's
text: the interview never waits on, or needs, the model. Standard library only (urllib); the endpoint
is reached directly, never through a proxy, since it is meant to be local.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.request
from dataclasses import replace
from typing import Any

from coach_core.config import Settings, load_settings
from coach_core.interview.followups import FollowUp
from coach_core.schema import Question

log = logging.getLogger(__name__)

TIMEOUT_S = 3.0
MAX_REPLY_CHARS = 300  # a follow-up is one or two sentences; anything longer is the model rambling
SYSTEM_PROMPT = (
    "You are a friendly job interviewer. Rephrase the follow-up question you are given so it sounds natural "
    "when spoken aloud. Keep its meaning and what it asks about; do not answer it, do not add new topics. "
    "Reply with the rephrased follow-up question only, one or two sentences, no quotes."
)


def rephrase(
    follow_up: FollowUp, question: Question, settings: Settings | None = None, timeout_s: float = TIMEOUT_S
) -> FollowUp:
    """The follow-up with its text rephrased by the configured local model, or unchanged.

    Args:
        follow_up: the follow-up chosen from the templates (:func:`choose_follow_up`).
        question: the question the person answered (context for the model).
        settings: ``llm_url`` (empty: off, the follow-up is returned as it is) and ``llm_model``.
        timeout_s: the longest wait for the whole exchange; past it the template's text is kept.

    Returns:
        A copy with ``phrased_by="llm"`` and the new text, or ``follow_up`` itself on any failure.
    """
    settings = settings or load_settings()
    if not settings.llm_url.strip():
        return follow_up
    outcome: dict[str, Any] = {}

    def ask() -> None:
        try:
            outcome["text"] = _ask(settings.llm_url, settings.llm_model, follow_up, question, timeout_s)
        except Exception as exc:  # any failure of an optional helper means: keep the template
            outcome["error"] = exc

    # urllib's timeout bounds each socket wait, not the whole exchange; the thread bounds the total.
    worker = threading.Thread(target=ask, name="follow-up-phrasing", daemon=True)
    worker.start()
    worker.join(timeout_s)
    text = outcome.get("text")
    if worker.is_alive() or not text:
        why = "no reply in time" if worker.is_alive() else outcome.get("error", "an empty reply")
        log.info("Follow-up phrasing by %s not used (%s); keeping the template.", settings.llm_url, why)
        return follow_up
    return replace(follow_up, text=text, phrased_by="llm")


def _ask(url: str, model: str, follow_up: FollowUp, question: Question, timeout_s: float) -> str | None:
    body = {
        "model": model,
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {
                "role": "user",
                "content": f"Interview question: {question.text}\nWhy we follow up: {follow_up.reason}\n"
                f"Follow-up to rephrase: {follow_up.text}",
            },
        ],
        "temperature": 0.3,
        "max_tokens": 80,
        "stream": False,
    }
    request = urllib.request.Request(
        url.strip().rstrip("/") + "/chat/completions",
        data=json.dumps(body).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=timeout_s) as response:
        reply = json.loads(response.read(64 * 1024).decode("utf-8"))
    return _clean_reply(reply["choices"][0]["message"]["content"])


def _clean_reply(content: object) -> str | None:
    if not isinstance(content, str):
        return None
    text = " ".join(content.split()).strip().strip("\"'“”").strip()
    if len(text) < 5 or len(text) > MAX_REPLY_CHARS:
        return None
    return text
