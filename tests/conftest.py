"""Fixtures shared by the suite: databases (SQLite always, PostgreSQL when configured), apps,
and the worlds several test modules build on. Helpers live in ``tests/support/``."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

from tests.support.app import (
    BACKENDS,
    Client,
    DemoTemplates,
    MigratedTemplates,
    drop_worker_database,
    fresh_database_url,
    make_settings,
)
from tests.support.council import Council
from tests.support.forum import World, build_world
from tests.support.ideas import cheap_themes

# Property tests: no per-example deadline (a loaded CI machine is not a failing property), and
# in CI (.ci/run sets SUMMIT_TEST_CI=1) the same examples every run, so a red CI is always
# reproducible; locally every run explores new examples.
hypothesis_settings.register_profile("summit", deadline=None, print_blob=True)
hypothesis_settings.register_profile("summit-ci", deadline=None, print_blob=True, derandomize=True)
hypothesis_settings.load_profile(
    "summit-ci" if os.environ.get("SUMMIT_TEST_CI") == "1" else "summit"
)


# Under pytest-xdist (``scripts/test`` runs two workers) a module's tests stay together on one
# worker, so its module-scoped fixtures are built once; the modules that use Redis share one
# worker, because Redis's pub/sub channels are global across its databases. (A scheduler of our
# own: pytest 9 ignores the test-id suffix through which pytest-xdist's ``loadgroup`` groups.)
SHARES_REDIS = {"test_cli", "test_deploy_drills", "test_deploy_outages", "test_events"}
SHARES_REDIS |= {"test_media_nodes", "test_media_node_hub"}


def work_unit(nodeid: str) -> str:
    """The unit a test is scheduled with: its module, or ``redis`` for the Redis modules."""
    module = nodeid.split("::", 1)[0]
    return "redis" if Path(module).stem in SHARES_REDIS else module


#: Seconds a module's tests took in a CI-like run (junit times, rounded; refresh now and then):
#: the longest work units start first, so no long module starts last while the other worker
#: idles. A module not listed counts one second per test.
MODULE_SECONDS = {
    "test_cli": 145, "test_axe_browser": 95, "test_security_inputs": 84, "test_forum": 83,
    "test_forum_workshops": 70, "test_forms_keep_input": 52, "test_layout_browser": 50,
    "test_council_browser": 44, "test_seating": 43, "test_lottery_verify": 42,
    "test_video_browser": 39, "test_screenshots_script": 38, "test_lottery_cli": 38,
    "test_security_audit": 34, "test_deploy_drills": 33, "test_monitor_browser": 32,
    "test_security_browser": 32, "test_media_node_hub": 32, "test_media_nodes": 31,
    "test_seating_small": 28, "test_dutch_pages": 28, "test_council": 27,
    "test_council_concurrency": 26, "test_forum_map": 26, "test_seating_cli": 25,
    "test_forms_keep_input_more": 24, "test_ideas_browser": 24, "test_monitor_reports": 24,
    "test_forum_meeting_video": 24, "test_council_groupcommit": 23, "test_security_sessions": 22,
    "test_seating_http": 22, "test_security_keys": 22, "test_forms_keep_input_forum": 21,
}  # fmt: skip


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Order the work units longest first (the scheduler below keeps that order)."""
    per_module: dict[str, int] = {}
    for item in items:
        module = Path(item.nodeid.split("::", 1)[0]).stem
        per_module[module] = per_module.get(module, 0) + 1
    cost: dict[str, float] = {}
    for module, count in per_module.items():
        unit = work_unit(f"tests/{module}.py")
        cost[unit] = cost.get(unit, 0.0) + MODULE_SECONDS.get(module, count)
    items.sort(key=lambda item: -cost[work_unit(item.nodeid)])


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    from xdist.scheduler import LoadScopeScheduling

    config.option.loadscopereorder = False  # keep the collection's order: longest units first

    class ByModule(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return ByModule(config, log)


def pytest_unconfigure(config: pytest.Config) -> None:
    drop_worker_database()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def empty_db_url(backend: str, tmp_path: Path) -> str:
    return fresh_database_url(backend, tmp_path)


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MigratedTemplates]:
    templates = MigratedTemplates(tmp_path_factory.mktemp("templates"))
    yield templates
    templates.close()


@pytest.fixture
def db_url(backend: str, tmp_path: Path, migrated_templates: MigratedTemplates) -> str:
    """A database migrated to the newest schema (a copy of one migrated once per session)."""
    if backend == "sqlite":
        return migrated_templates.sqlite_copy(tmp_path / "summit.db")
    return migrated_templates.postgres_copy()


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[Any]:
    from summit.core.db import Database

    db = Database(db_url)
    try:
        yield db
    finally:
        await db.dispose()


@pytest.fixture
def client(db_url: str, tmp_path: Path) -> Iterator[Client]:
    from summit.app import create_app

    app = create_app(make_settings(tmp_path, db_url))
    with Client(app, base_url="http://testserver", follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def demo_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoTemplates]:
    templates = DemoTemplates(tmp_path_factory.mktemp("demo-templates"))
    yield templates
    templates.close()


@pytest.fixture
def demo_client(
    backend: str, db_url: str, tmp_path: Path, demo_templates: DemoTemplates
) -> Iterator[tuple[Client, Any]]:
    """The app with the demo summit loaded (a copy, in ``db_url``); yields (client, DemoInfo)."""
    from summit.app import create_app

    info = demo_templates.fill(backend, db_url)
    app = create_app(make_settings(tmp_path, db_url))
    with Client(app, base_url="http://testserver", follow_redirects=False) as client:
        yield client, info


# --- the ideas at the tables -----------------------------------------------------------------


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """The demo summit built once as a SQLite file; each ``demo`` gets a copy (fast)."""
    from summit.core.db import Database, upgrade
    from summit.demo import create_demo

    folder = tmp_path_factory.mktemp("ideas-demo")
    url = f"sqlite+aiosqlite:///{folder / 'summit.db'}"

    async def build() -> Any:
        await upgrade(url)
        db = Database(url)
        try:
            return await create_demo(db, participants=48, rounds=1)
        finally:
            await db.dispose()

    return folder / "summit.db", asyncio.run(build())


@pytest.fixture
def demo(demo_client: tuple[Client, Any]) -> Iterator[tuple[Client, Any]]:
    """The app on a demo summit (48 participants, round 1 open) with cheap embeddings."""
    client, info = demo_client
    cheap_themes(client)
    client.demo_info = info  # type: ignore[attr-defined]
    yield client, info


# --- the Burgerraad and the Burgerforum ----------------------------------------------------------


@pytest.fixture
def council(demo_client: tuple[Client, Any]) -> Council:
    """The demo summit with the Burgerraad's helpers (tests/support/council.py)."""
    client, info = demo_client
    return Council(client, info)


@pytest.fixture
def world(client: Client) -> World:
    """The Burgerforum's small summit (tests/support/forum.py), read anonymously."""
    made: World = client.run(build_world(client))
    made.anonymous()
    return made


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
