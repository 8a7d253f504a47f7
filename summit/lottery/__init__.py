"""The two-stage lottery (loting).

Register import, the invitation draw, registration and the stratified selection.
"""

from __future__ import annotations

from summit.lottery.letters import LetterDetails, LetterPreview, letter_details, letter_preview

__all__ = ["LetterDetails", "LetterPreview", "letter_details", "letter_preview"]
