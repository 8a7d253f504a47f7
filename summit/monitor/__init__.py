"""The Monitor: partner agreement and responses, the Monitor group, progress, notifications,
open data and the whole public record."""

from __future__ import annotations

from summit.monitor.mail import enqueue
from summit.monitor.opendata import Dataset, register

__all__ = [
    "Dataset",
    "enqueue",
    "register",
]
