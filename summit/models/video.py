"""Tables of the video part (imported by `summit.models` so migrations see them)."""

from __future__ import annotations
