"""Processes the tests start (servers on 127.0.0.1): a free port, a wait until one answers,
and a clean stop."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
import urllib.error
import urllib.request


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now."""
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen, deadline_s: float = 90) -> None:
    """Poll a server's health endpoint until it answers (or the server died)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        with (
            contextlib.suppress(urllib.error.URLError, ConnectionError),
            urllib.request.urlopen(url, timeout=2) as response,
        ):
            if response.status == 200:
                return
        time.sleep(0.2)  # poll interval of a condition wait, not a fixed delay
    raise TimeoutError(f"{url} did not answer within {deadline_s} s")


def stop(process: subprocess.Popen, *, grace_s: float = 20) -> None:
    """Ask ``process`` to end, then end it: it never outlives the test."""
    process.terminate()
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=grace_s)
