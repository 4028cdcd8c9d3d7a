"""A mock interview as stored (questions, answer sessions, follow-ups) turned into its report and export."""

from __future__ import annotations

from typing import Any

from coach_core.interview.followups import FollowUp
from coach_core.interview.summary import InterviewItem, InterviewSummary, summarise
from coach_core.schema import Question
from coach_core.storage.store import InterviewRow, Store


def interview_items(store: Store, row: InterviewRow) -> list[InterviewItem]:
    """Each question with its answer's report and the follow-up (with its answer's report), as stored."""
    items = []
    for item in row.items:
        items.append(InterviewItem(
            question=Question.from_dict(item.question),
            report=store.report(item.session_id) if item.session_id else None,
            follow_up=FollowUp.from_dict(item.follow_up) if item.follow_up else None,
            follow_up_report=store.report(item.follow_up_session_id) if item.follow_up_session_id else None,
        ))  # fmt: skip
    return items


def finish_interview(store: Store, row: InterviewRow) -> InterviewSummary:
    """Summarise what was answered (skipped questions count as skipped) and mark the interview finished."""
    summary = summarise(interview_items(store, row))
    store.finish_interview(row.id, summary.to_dict())
    return summary


def summary_of(store: Store, row: InterviewRow) -> InterviewSummary:
    """The stored summary of a finished interview; computed afresh for one still in progress."""
    if row.summary is not None:
        return InterviewSummary.from_dict(row.summary)
    return summarise(interview_items(store, row))


def interview_export(store: Store, row: InterviewRow) -> dict[str, Any]:
    """The interview as JSON: its summary and, per question, the answer's and the follow-up answer's full
    reports (each in the single-answer report format)."""
    items = interview_items(store, row)
    return {
        "interview": {
            "id": row.id,
            "created_at": row.created_at.isoformat(),
            "role": row.role,
            "status": row.status,
            "summary": summary_of(store, row).to_dict(),
            "questions": [
                {
                    "position": i,
                    "question": item.question.to_dict(),
                    "answer": item.report.to_dict() if item.report else None,
                    "follow_up": item.follow_up.to_dict() if item.follow_up else None,
                    "follow_up_answer": item.follow_up_report.to_dict() if item.follow_up_report else None,
                }
                for i, item in enumerate(items)
            ],
        }
    }
