"""``summit media-node``: run a media host, list the nodes, drain one."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys

import click

from .config import MediaConfig, MediaEvent
from .errors import MediaValueError
from .nodes import HEARTBEAT, NodeRegistry, NodeSignalling, node_key
from .supervisor import MediaSupervisor


def _redis_url(value: str | None) -> str:
    url = value or os.environ.get("SUMMIT_EVENT_BUS_URL", "")
    if not url.startswith(("redis://", "rediss://")):
        click.echo("redis: set --redis or SUMMIT_EVENT_BUS_URL to a redis:// URL", err=True)
        sys.exit(2)
    return url


async def run_node(
    url: str,
    node_id: str,
    address: str,
    capacity: int,
    workers: int | None,
    key: bytes,
    config: MediaConfig,
) -> None:
    """Start the worker processes, serve signalling at ``address`` and beat until
    SIGTERM/SIGINT."""
    registry = NodeRegistry(url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    pending: set[asyncio.Task[None]] = set()

    def forward(event: MediaEvent) -> None:
        # layout, visitor and reconnect events go to the app processes through Redis
        task = loop.create_task(registry.publish_event(node_id, event.to, event.message))
        pending.add(task)
        task.add_done_callback(pending.discard)

    try:
        async with MediaSupervisor(workers, config, on_event=forward) as supervisor:
            server = await NodeSignalling(supervisor, registry, node_id, key).serve(address)
            while not stop.is_set():
                load = len(supervisor.tables())
                await registry.heartbeat(node_id, address, capacity, load)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), HEARTBEAT)
            server.close()
    finally:
        await registry.close()


@click.group("media-node")
def media_node() -> None:
    """Media hosts: run one, list them, drain one."""


@media_node.command("run")
@click.option("--redis", "redis_url", help="Redis URL (default: SUMMIT_EVENT_BUS_URL).")
@click.option("--node-id", required=True, help="This node's name, unique among the nodes.")
@click.option("--address", required=True, help="Where the app reaches this node (host:port).")
@click.option("--capacity", type=int, default=16, show_default=True, help="Tables it takes.")
@click.option("--workers", type=int, default=None, help="Worker processes (default: one per core).")
@click.option(
    "--host-address",
    "host_addresses",
    multiple=True,
    help="Only offer this address as ICE host candidate (repeatable).",
)
def run(
    redis_url: str | None,
    node_id: str,
    address: str,
    capacity: int,
    workers: int | None,
    host_addresses: tuple[str, ...],
) -> None:
    """Run this host's media workers, serve the app's signalling at --address and register the
    node (heartbeat every second). The seat-token key is SUMMIT_MEDIA_NODE_KEY."""
    if capacity < 1:
        click.echo("capacity: needs at least 1", err=True)
        sys.exit(2)
    config = MediaConfig(host_addresses=host_addresses or None)
    try:
        key = node_key(os.environ.get("SUMMIT_MEDIA_NODE_KEY", ""))
        url = _redis_url(redis_url)
        asyncio.run(run_node(url, node_id, address, capacity, workers, key, config))
    except MediaValueError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)


@media_node.command("list")
@click.option("--redis", "redis_url", help="Redis URL (default: SUMMIT_EVENT_BUS_URL).")
def list_nodes(redis_url: str | None) -> None:
    """Every registered node: id, address, tables/capacity, state."""

    async def main() -> None:
        registry = NodeRegistry(_redis_url(redis_url))
        try:
            now = await registry.now()
            counts: dict[str, int] = {}
            for node in (await registry.assignments()).values():
                counts[node] = counts.get(node, 0) + 1
            for n in await registry.nodes():
                state = "dead" if not n.alive(now) else "draining" if n.draining else "up"
                tables = counts.get(n.node_id, 0)
                click.echo(f"{n.node_id}\t{n.address}\t{tables}/{n.capacity}\t{state}")
        finally:
            await registry.close()

    asyncio.run(main())


@media_node.command("drain")
@click.argument("node_id")
@click.option("--redis", "redis_url", help="Redis URL (default: SUMMIT_EVENT_BUS_URL).")
@click.option("--undo", is_flag=True, help="Take tables again.")
def drain(node_id: str, redis_url: str | None, undo: bool) -> None:
    """New tables go elsewhere; this node's tables move at the next round change."""

    async def main() -> bool:
        registry = NodeRegistry(_redis_url(redis_url))
        try:
            if node_id not in {n.node_id for n in await registry.nodes()}:
                return False
            await registry.drain(node_id, on=not undo)
            return True
        finally:
            await registry.close()

    if not asyncio.run(main()):
        click.echo(f"node_id: no media node {node_id!r}", err=True)
        sys.exit(1)


commands: list[click.Command] = [media_node]
