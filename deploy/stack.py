"""The production layout of docs/deploy.md on one machine, for the drills and the benchmark.

nginx (with the production location rules of ``deploy/nginx/summit-locations.conf``) in front
of N ``summit serve`` workers; when asked, a private Redis, a private throwaway PostgreSQL
cluster (``initdb``/``pg_ctl`` into a temporary folder, never the machine's own server) and
coturn (``deploy/coturn/turnserver.conf`` with loopback overrides). Everything listens on
127.0.0.1 only, lives in one folder, and every wait is bounded in time.

Used by ``tests/test_deploy_*.py`` and ``scripts/bench_scale.py``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
TURNSERVER = shutil.which("turnserver") or "/usr/bin/turnserver"
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def postgres_bin() -> Path | None:
    """The newest Debian PostgreSQL server binaries (``initdb``, ``pg_ctl``), if installed."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


def ensure_package(package: str, binary: str) -> bool:
    """Install a Debian package the drills need when it is missing, as ``scripts/install
    --test`` does (root only); False when it is not there and cannot be installed."""
    if shutil.which(binary) or Path(binary).exists():
        return True
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return False
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", package], capture_output=True, timeout=600, check=False
    )
    return Path(binary).exists()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def wait_until(check: Callable[[], bool], timeout: float, what: str, step: float = 0.1) -> float:
    """Poll ``check`` until it holds; returns the seconds it took (AssertionError after
    ``timeout``)."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what}: not within {timeout:g} s")
        time.sleep(step)
    return time.monotonic() - started


class Service:
    """One child process with its output in a log file."""

    def __init__(self, name: str, folder: Path) -> None:
        self.name = name
        self.log_path = folder / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def spawn(self, command: Sequence[str], env: dict[str, str] | None = None) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                list(command), env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
            )

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, number: int) -> None:
        if self.alive:
            assert self.process is not None
            self.process.send_signal(number)

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None:
            return
        if self.alive:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        self.process = None

    def kill(self) -> None:
        """``kill -9``: no shutdown, no goodbye to anyone."""
        if self.process is not None and self.alive:
            self.process.kill()
            self.process.wait(10)

    def tail(self, characters: int = 3000) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-characters:]
        return ""


@dataclass
class AppWorker:
    """One ``summit serve --no-demo`` process on a loopback port."""

    folder: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)

    def __post_init__(self) -> None:
        self.service = Service(f"app-{self.port}", self.folder)

    def start(self) -> None:
        command = [sys.executable, "-m", "summit", "serve", "--no-demo", "--port", str(self.port)]
        self.service.spawn(command, {**os.environ, **self.env})

    def wait_ready(self, timeout: float = 90.0) -> None:
        def up() -> bool:
            if not self.service.alive:
                raise AssertionError(f"worker {self.port} exited:\n{self.service.tail()}")
            return port_open(self.port)

        wait_until(up, timeout, f"worker {self.port} listening")


@dataclass
class MediaNode:
    """One ``summit media-node run`` process (a media host) on a loopback signalling port,
    registering in the Redis at ``bus_url`` with seat-token key ``key``."""

    folder: Path
    node_id: str
    bus_url: str
    key: str
    capacity: int = 16
    workers: int = 1
    port: int = field(default_factory=free_port)

    def __post_init__(self) -> None:
        self.service = Service(f"media-{self.node_id}", self.folder)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [sys.executable, "-m", "summit", "media-node", "run", "--redis", self.bus_url]
        command += ["--node-id", self.node_id, "--address", self.address]
        command += ["--capacity", str(self.capacity), "--workers", str(self.workers)]
        command += ["--host-address", "127.0.0.1"]
        self.service.spawn(command, {**os.environ, "SUMMIT_MEDIA_NODE_KEY": self.key})

    def wait_ready(self, timeout: float = 90.0) -> None:
        def up() -> bool:
            if not self.service.alive:
                raise AssertionError(f"media node {self.node_id} exited:\n{self.service.tail()}")
            return port_open(self.port)

        wait_until(up, timeout, f"media node {self.node_id} listening")


class Nginx:
    """nginx in front of the workers: the first worker also takes the video routes (the media
    plane lives in one app process, docs/deploy.md)."""

    def __init__(self, folder: Path, app_ports: Sequence[int], video_port: int) -> None:
        self.folder = folder / "nginx"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.app_ports = list(app_ports)
        self.video_port = video_port
        self.service = Service("nginx", folder)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> str:
        servers = "\n".join(
            f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;" for port in self.app_ports
        )
        temp = " ".join(
            f"{kind}_temp_path {self.folder / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        return f"""
daemon off;
worker_processes 1;
pid {self.folder / "nginx.pid"};
error_log {self.folder / "error.log"} warn;
events {{ worker_connections 8192; }}
http {{
  access_log off;
  {temp}
  upstream summit_app {{
{servers}
    keepalive 32;
  }}
  upstream summit_video {{
    server 127.0.0.1:{self.video_port};
  }}
  include {DEPLOY / "nginx" / "summit-http.conf"};
  server {{
    listen 127.0.0.1:{self.port};
    server_name localhost;
    include {DEPLOY / "nginx" / "summit-locations.conf"};
  }}
}}
"""

    def start(self) -> None:
        path = self.folder / "nginx.conf"
        path.write_text(self.config())
        check = subprocess.run(
            [NGINX, "-t", "-q", "-c", str(path), "-p", str(self.folder)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if check.returncode != 0:
            raise AssertionError(f"nginx -t: {check.stderr}")
        self.service.spawn([NGINX, "-c", str(path), "-p", str(self.folder)])
        wait_until(lambda: port_open(self.port), 15, "nginx listening")

    def stop(self) -> None:
        self.service.signal(signal.SIGQUIT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            if self.service.process is not None:
                self.service.process.wait(10)
        self.service.stop()


class PrivateRedis:
    """A Redis of our own with the production settings (``deploy/redis/summit.conf``) on another
    port, which may be stopped and started again."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.service = Service(f"redis-{self.port}", folder)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        config = str(DEPLOY / "redis" / "summit.conf")
        self.service.spawn([REDIS_SERVER, config, "--port", str(self.port), "--bind", "127.0.0.1"])
        wait_until(lambda: port_open(self.port), 15, "redis listening")

    def stop(self) -> None:
        self.service.kill()


def _as_postgres(command: list[str]) -> list[str]:
    """initdb refuses to run as root: run it (and the server) as the ``postgres`` user."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


class PrivatePostgres:
    """A throwaway PostgreSQL cluster in ``folder`` on its own port (trust on loopback only)."""

    def __init__(self, folder: Path) -> None:
        binaries = postgres_bin()
        if binaries is None:
            raise FileNotFoundError("no /usr/lib/postgresql/*/bin/initdb")
        self.bin = binaries
        self.folder = folder / "pg"
        self.data = self.folder / "data"
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        done = subprocess.run(_as_postgres(list(args)), capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise AssertionError(f"{args[0]}: {done.stdout[-1500:]} {done.stderr[-1500:]}")

    def init(self) -> None:
        self.folder.mkdir(parents=True)
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            # the path down to the folder must be traversable by that user
            for parent in self.folder.parents:
                if str(parent).startswith(("/tmp/", "/var/tmp/")):
                    parent.chmod(parent.stat().st_mode | 0o011)
        initdb = str(self.bin / "initdb")
        self._run(initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=off "
            "-c full_page_writes=off -c max_connections=200"
        )
        pg_ctl = str(self.bin / "pg_ctl")
        log = str(self.folder / "server.log")
        self._run(pg_ctl, "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def stop(self, mode: str = "immediate") -> None:
        """``immediate`` is a crash as far as the clients can tell: no goodbye."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        return port_open(self.port)


class Coturn:
    """coturn with the production configuration, overridden for loopback: listens and relays on
    127.0.0.1, plain UDP/TCP (no TLS), and may relay to loopback peers (the media worker)."""

    def __init__(self, folder: Path, secret: str) -> None:
        self.port = free_port()
        self.secret = secret
        self.folder = folder / "coturn"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.service = Service("coturn", folder)

    @property
    def url(self) -> str:
        return f"turn:127.0.0.1:{self.port}"

    def start(self) -> None:
        low = 40000 + (self.port % 200) * 100
        overrides = [
            "--listening-ip=127.0.0.1",
            "--relay-ip=127.0.0.1",
            f"--listening-port={self.port}",
            f"--min-port={low}",
            f"--max-port={low + 99}",
            f"--static-auth-secret={self.secret}",
            "--realm=summit.test",
            "--no-tls",
            "--no-dtls",
            "--allow-loopback-peers",
            "--allowed-peer-ip=127.0.0.1",
            f"--pidfile={self.folder / 'turnserver.pid'}",
            f"--db={self.folder / 'turndb'}",
        ]
        config = str(DEPLOY / "coturn" / "turnserver.conf")
        self.service.spawn([TURNSERVER, "-c", config, *overrides])
        wait_until(lambda: "Total General servers" in self.service.tail(), 15, "coturn ready")

    def stop(self) -> None:
        self.service.stop()


@dataclass
class Stack:
    """nginx in front of ``workers`` app workers sharing ``database_url`` and ``bus_url``."""

    folder: Path
    database_url: str
    bus_url: str
    workers: int = 2
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        common = {
            "SUMMIT_DATA_DIR": str(self.folder / "data"),
            "SUMMIT_DATABASE_URL": self.database_url,
            "SUMMIT_EVENT_BUS_URL": self.bus_url,
            "SUMMIT_SECRET_KEY": self.env.get("SUMMIT_SECRET_KEY", "s" * 48),
            "SUMMIT_TRUSTED_PROXIES": "127.0.0.1",
            "SUMMIT_LINK_RATE_PER_MINUTE": "100000",
            "SUMMIT_LOGIN_RATE_PER_MINUTE": "1000",
            "SUMMIT_MEDIA_WORKERS": "0",
            "SUMMIT_LOG_LEVEL": "warning",
        }
        self.app = [AppWorker(self.folder, {}) for _ in range(self.workers)]
        self.nginx = Nginx(self.folder, [w.port for w in self.app], self.app[0].port)
        for worker in self.app:
            worker.env = {**common, "SUMMIT_BASE_URL": self.nginx.url, **self.env}

    @property
    def url(self) -> str:
        return self.nginx.url

    def start(self) -> None:
        for worker in self.app:
            worker.start()
        for worker in self.app:
            worker.wait_ready()
        self.nginx.start()

    def stop(self) -> None:
        self.nginx.stop()
        for worker in self.app:
            worker.service.stop()

    def restart(self, index: int) -> None:
        """What systemd's ``Restart=always`` does for a worker that died."""
        self.app[index].start()
        self.app[index].wait_ready()

    def logs(self) -> str:
        parts = [f"--- {w.service.name}\n{w.service.tail()}" for w in self.app]
        error_log = self.nginx.folder / "error.log"
        if error_log.exists():
            parts.append(f"--- nginx\n{error_log.read_text()[-2000:]}")
        return "\n".join(parts)


@contextlib.contextmanager
def running(stack: Stack) -> Iterator[Stack]:
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
