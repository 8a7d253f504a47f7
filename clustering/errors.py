"""Exceptions raised by the clustering library.

ClusteringError (ValueError)
├── InputError        bad texts, vectors, files or columns; the message names the field/row
├── ModelError        an embedding model that cannot be found or loaded
└── ConstraintError   a moderator decision that contradicts the board or another decision
"""

from __future__ import annotations

__all__ = ["ClusteringError", "ConstraintError", "InputError", "ModelError"]


class ClusteringError(ValueError):
    """Base class of every error this library raises on purpose."""


class InputError(ClusteringError):
    """Input texts, vectors, files or columns are unusable."""


class ModelError(ClusteringError):
    """The embedding model setting names nothing that can be loaded offline."""


class ConstraintError(ClusteringError):
    """A moderator decision cannot be applied (unknown idea or theme, contradiction)."""
