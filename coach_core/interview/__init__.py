"""Mock interview logic: which questions (plan), the follow-up after an answer (followups, with optional
phrasing by a local model), model answers, and the interview's summary. No UI and no database: the pages
and sessions call it."""
