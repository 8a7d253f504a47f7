"""G1000 summit platform: sortition, video tables, idea clustering and the Burgerraad vote."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
