"""Processes the tests start (servers on 127.0.0.1): a free port, and a clean stop."""

from __future__ import annotations

import contextlib
import socket
import subprocess


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now."""
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop(process: subprocess.Popen, *, grace_s: float = 20) -> None:
    """Ask ``process`` to end, then end it: it never outlives the test."""
    process.terminate()
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=grace_s)
