"""`summit` commands of the video part."""

from __future__ import annotations

import click


def register(main: click.Group) -> None:
    """Add this part's commands to the `summit` group."""
