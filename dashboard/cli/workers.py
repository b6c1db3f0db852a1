"""``conflictmap serve --workers N``: N server processes on loopback, one port in front of
them (``serveproxy.py``), each browser kept on one process."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import click

from dashboard import access
from dashboard.cli.common import CliError

if TYPE_CHECKING:  # the proxy loads when the command runs
    from dashboard.serveproxy import StickyProxy

#: How long a worker may take to answer its health check after it starts.
START_TIMEOUT_S = 180.0
_LOOPBACK = "127.0.0.1"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((_LOOPBACK, 0))
        return int(probe.getsockname()[1])


def worker_env(
    env: Mapping[str, str], *, address: str, policy: access.Policy
) -> tuple[dict[str, str], bool]:
    """The workers' environment, and whether the proxy passes an outer proxy's
    ``X-Forwarded-For`` through.

    Every worker signs cookies with one secret (the XSRF cookie a browser got from one must
    hold at another); each takes the proxy's address as its own (so a public address still
    needs access control, and hosted pages still credit their sources); password attempts
    are counted per client address, which the proxy writes in ``X-Forwarded-For`` unless
    the operator already trusts a header of an outer proxy.
    """
    out = dict(env)
    out.setdefault("STREAMLIT_SERVER_COOKIE_SECRET", secrets.token_hex(32))
    out[access.LISTEN_ENV] = address
    outer = bool(policy.address_header)
    if not outer:
        out[access.ADDRESS_HEADER_ENV] = "X-Forwarded-For"
    return out, outer


def _healthy(port: int) -> bool:
    """Whether the worker answers HTTP (any answer: under a base URL path its health check
    is not at the root)."""
    try:
        with urllib.request.urlopen(f"http://{_LOOPBACK}:{port}/_stcore/health", timeout=5):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


def _wait_started(processes: Sequence[subprocess.Popen[bytes]], ports: Sequence[int]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    waiting = set(range(len(ports)))
    with click.progressbar(length=len(ports), label="Starting the workers", file=sys.stderr) as bar:
        while waiting:
            for i in sorted(waiting):
                if processes[i].poll() is not None:
                    raise CliError(
                        f"worker {i + 1} stopped as it started (exit code "
                        f"{processes[i].returncode}); its messages are above"
                    )
                if _healthy(ports[i]):
                    waiting.discard(i)
                    bar.update(1)
            if waiting and time.monotonic() > deadline:
                raise CliError(
                    f"{len(waiting)} of {len(ports)} workers did not answer within "
                    f"{START_TIMEOUT_S:.0f} s; their messages are above"
                )
            if waiting:
                time.sleep(0.2)


def _stop(processes: Sequence[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + 20
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        if process.poll() is None:
            process.kill()


async def _serve_while_alive(
    proxy: StickyProxy, address: str, port: int, processes: Sequence[subprocess.Popen[bytes]]
) -> int:
    """Proxy until a worker stops; which one did."""
    serving = asyncio.create_task(proxy.serve(address, port))
    try:
        while True:
            await asyncio.sleep(1.0)
            if serving.done():
                serving.result()  # listening failed: raise its error
            for i, process in enumerate(processes):
                if process.poll() is not None:
                    return i
    finally:
        serving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def serve_workers(
    n: int,
    env: Mapping[str, str],
    *,
    address: str,
    port: int,
    command_for: Callable[[int, str], list[str]],
    policy: access.Policy,
) -> None:
    """Start ``n`` workers (``command_for(port, address)``: a worker's command line), then
    proxy ``address:port`` to them until stopped."""
    from dashboard.serveproxy import StickyProxy

    ports = [_free_port() for _ in range(n)]
    child_env, outer = worker_env(env, address=address, policy=policy)
    processes: list[subprocess.Popen[bytes]] = []
    # SIGTERM (a service manager's stop) ends the workers too, as Ctrl+C does.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        for worker_port in ports:
            command = command_for(worker_port, _LOOPBACK)
            processes.append(subprocess.Popen(command, env=child_env))
        _wait_started(processes, ports)
        proxy = StickyProxy([(_LOOPBACK, p) for p in ports], trust_forwarded=outer)
        click.echo(f"Dashboard on http://{address}:{port}, {n} workers (Ctrl+C to stop)")
        sys.stdout.flush()
        try:
            stopped = asyncio.run(_serve_while_alive(proxy, address, port, processes))
        except OSError as exc:
            raise CliError(f"cannot listen on {address}:{port} ({exc.strerror or exc})") from None
        raise CliError(
            f"worker {stopped + 1} of {n} stopped (exit code {processes[stopped].returncode}; "
            "its messages are above): the others are stopped too, so a service manager "
            "restarts the whole server"
        )
    except KeyboardInterrupt:
        pass
    finally:
        _stop(processes)
