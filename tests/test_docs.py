"""Documentation stays true to the code: every command, setting and route is documented."""

from __future__ import annotations

from pathlib import Path

import click
from starlette.routing import Mount

from summit.app import create_app
from summit.cli import main
from summit.config import ENVIRONMENT_VARIABLES, Settings
from summit.core.routing import access_of

DOCS = Path(__file__).resolve().parents[1] / "docs"


def command_paths(group: click.Group, prefix: str = "summit") -> list[str]:
    paths = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            paths += command_paths(command, path)
        else:
            paths.append(path)
    return paths


def test_every_command_is_in_the_cli_reference() -> None:
    text = (DOCS / "cli.md").read_text()
    missing = [path for path in command_paths(main) if f"## `{path}" not in text]
    assert not missing


def test_every_setting_is_in_the_configuration_reference() -> None:
    text = (DOCS / "configuration.md").read_text()
    assert not [name for name in ENVIRONMENT_VARIABLES if f"`{name}`" not in text]
    root = Path(__file__).resolve().parents[1]
    source = (
        "\n".join(
            path.read_text()
            for package in ("summit", "clustering")
            for path in (root / package).rglob("*.py")
            if path.name != "config.py"
        )
        + (root / "summit" / "config.py").read_text().split("ENVIRONMENT_VARIABLES")[0]
    )
    assert not [name for name in ENVIRONMENT_VARIABLES if f'"{name}"' not in source]


def test_every_route_and_who_may_call_it_is_in_the_security_document(tmp_path: Path) -> None:
    text = (DOCS / "security.md").read_text()
    app = create_app(
        Settings(data_dir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db")
    )
    for route in app.routes:
        if isinstance(route, Mount):
            continue
        access = access_of(route)
        assert access is not None
        who = ", ".join(sorted(p.value for p in access.principals))
        row = f"| `{route.path}` | {who} |"  # type: ignore[attr-defined]
        assert row in text, f"docs/security.md lacks the row {row}"
