"""Small formatting helpers shared by tips, charts, the PDF and the pages (no internal imports)."""

from __future__ import annotations


def clock(seconds: float) -> str:
    """A time in the answer as m:ss (rounded to the second; negative times read 0:00)."""
    seconds = max(0, round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"
