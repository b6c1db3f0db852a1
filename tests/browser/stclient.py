"""A Streamlit client without a browser: what a script (or an attacker) can do over HTTP.

It speaks the protocol the browser speaks: ``GET /_stcore/health`` for the XSRF cookie, the
``/_stcore/stream`` websocket (protobuf ``BackMsg`` up, ``ForwardMsg`` down), and ``PUT``/
``DELETE`` on ``/_stcore/upload_file/<session>/<file>`` with the XSRF token. A test drives
the page's widgets by their labels (the password form, the file uploaders) and reads what
the page said (its text), so the server is tested as it is reached, not through AppTest.

Every wait is on a condition (a message from the server) with a timeout; nothing sleeps.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.client import HTTPConnection, HTTPResponse, IncompleteRead
from typing import Any
from urllib.parse import urlsplit

from google.protobuf.json_format import MessageToDict
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import connect

XSRF_COOKIE = "_streamlit_xsrf"
RUN_TIMEOUT_S = 120.0


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str]
    #: Every Set-Cookie line (``headers`` keeps one value per name).
    set_cookies: list[str] = field(default_factory=list)


def http(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 120.0,
) -> Response:
    """One HTTP request; any status is returned, none raised.

    A server that refuses a request may answer before it has read the body, and close the
    connection: sending the rest then fails, but the answer has arrived and is read.
    """
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    connection = HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        try:
            connection.request(method, target or "/", body=body, headers=headers or {})
            answer = connection.getresponse()
        except (BrokenPipeError, ConnectionResetError):
            if connection.sock is None:
                raise
            answer = HTTPResponse(connection.sock, method=method)
            answer.begin()
        try:
            content = answer.read()
        except (IncompleteRead, ConnectionResetError) as exc:
            # The status line and headers arrived; the close that ends a refusal can cut
            # the short body after them (the unread upload makes the socket reset).
            content = exc.partial if isinstance(exc, IncompleteRead) else b""
        pairs = answer.getheaders()
        cookies = [v for k, v in pairs if k.lower() == "set-cookie"]
        return Response(answer.status, content, dict(pairs), cookies)
    finally:
        connection.close()


def multipart(name: str, data: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body with one file, as the browser's uploader sends it."""
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    return (
        head + data + f"\r\n--{boundary}--\r\n".encode(),
        f"multipart/form-data; boundary={boundary}",
    )


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


class CountingSocket(socket.socket):
    """A socket that counts the bytes it received: what crossed the wire, compressed (the
    websocket's permessage-deflate) and framed, not the messages' own size."""

    received = 0

    def recv(self, bufsize: int, *args: Any) -> bytes:
        data = super().recv(bufsize, *args)
        self.received += len(data)
        return data

    def recv_into(self, buffer: Any, *args: Any) -> int:
        n = super().recv_into(buffer, *args)
        self.received += n
        return n


@dataclass
class Session:
    """One browser-less session of the app at ``url`` (its base URL, no trailing slash)."""

    url: str
    #: Source address to connect from (another loopback address stands for another client).
    source: str | None = None
    #: Extra headers of the websocket handshake (e.g. a proxy's X-Forwarded-For); pairs
    #: for a header sent more than once.
    headers: dict[str, str] | list[tuple[str, str]] = field(default_factory=dict)
    session_id: str = ""
    xsrf: str = ""
    #: Cookies other than the XSRF one, as set by the server.
    cookies: dict[str, str] = field(default_factory=dict)
    #: Widgets of the last run by label: (kind, proto dict).
    widgets: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    #: Every text the last run showed (markdown, alerts, captions).
    texts: list[str] = field(default_factory=list)
    #: Every ForwardMsg of the last run, as dicts.
    messages: list[dict[str, Any]] = field(default_factory=list)
    _ws: Any = None
    _sock: CountingSocket | None = None
    _states: dict[str, dict[str, Any]] = field(default_factory=dict)
    _chosen: dict[str, str] = field(default_factory=dict)
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    # --- connection ---------------------------------------------------------------------

    def open(self) -> Session:
        answer = self._get("/_stcore/health")
        for line in answer.set_cookies:
            key, _, value = line.split(";")[0].strip().partition("=")
            if key == XSRF_COOKIE:
                self.xsrf = value
            elif key:  # e.g. the worker a proxy of `serve --workers` keeps this client on
                self.cookies[key] = value
        parts = urlsplit(self.url)
        ws_url = f"ws://{parts.netloc}{parts.path}/_stcore/stream"
        sock = CountingSocket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(30)
        if self.source:
            sock.bind((self.source, 0))
        sock.connect((parts.hostname, parts.port))
        self._sock = sock
        self._stack = contextlib.ExitStack()
        connection = connect(
            ws_url,
            sock=sock,
            subprotocols=["streamlit", self.xsrf] if self.xsrf else ["streamlit"],
            origin=f"http://{parts.netloc}",
            additional_headers=[("Cookie", self.cookie_header()), *self._header_pairs()],
            max_size=None,
            open_timeout=30,
        )
        self._ws = self._stack.enter_context(connection)
        self.run()
        return self

    def wire_received(self) -> int:
        """Bytes received on the websocket's connection so far, as sent (compressed)."""
        return self._sock.received if self._sock is not None else 0

    def cookie_header(self) -> str:
        """The Cookie header a browser would send: the XSRF cookie and the others set."""
        pairs = [(XSRF_COOKIE, self.xsrf), *self.cookies.items()]
        return "; ".join(f"{k}={v}" for k, v in pairs)

    def _header_pairs(self) -> list[tuple[str, str]]:
        if isinstance(self.headers, dict):
            return list(self.headers.items())
        return list(self.headers)

    def send_frame(self, data: bytes, *, timeout: float = 120.0) -> int | None:
        """Send ``data`` as one binary frame (not a BackMsg), then read until the server
        closes the connection; the close code it gave (None: no close frame)."""
        from websockets.exceptions import ConnectionClosed

        with contextlib.suppress(ConnectionClosed, OSError):
            self._ws.send(data)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"the server kept the connection open for {timeout} s")
            try:
                self._ws.recv(timeout=left)
            except ConnectionClosed as closed:
                return None if closed.rcvd is None else int(closed.rcvd.code)
            except TimeoutError:
                continue

    def close(self) -> None:
        if self._ws is not None:
            self._stack.close()
            self._ws = None

    def _get(self, path: str) -> Response:
        if self.source is None:
            return http("GET", f"{self.url}{path}", headers=dict(self._header_pairs()))
        # urllib cannot choose the source address: a raw request does.
        parts = urlsplit(self.url)
        with socket.create_connection(
            (parts.hostname, parts.port), timeout=30, source_address=(self.source, 0)
        ) as sock:
            extra = "".join(f"{k}: {v}\r\n" for k, v in self._header_pairs())
            sock.sendall(
                f"GET {parts.path}{path} HTTP/1.1\r\nHost: {parts.netloc}\r\n{extra}"
                "Connection: close\r\n\r\n".encode()
            )
            raw = b""
            while chunk := sock.recv(65536):
                raw += chunk
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        cookies = []
        for line in lines[1:]:
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
            if key.strip().lower() == "set-cookie":
                cookies.append(value.strip())
        return Response(int(lines[0].split()[1]), body, headers, cookies)

    # --- runs ---------------------------------------------------------------------------

    def run(
        self, widgets: list[dict[str, Any]] | None = None, *, timeout: float = RUN_TIMEOUT_S
    ) -> None:
        """Ask for a run with the widgets' states (plus the kept ones), wait until it ends."""
        states = {**self._states}
        for state in widgets or []:
            states[state["id"]] = state
        # Triggers (buttons) fire once; values are kept for the next runs.
        self._states = {k: v for k, v in states.items() if "triggerValue" not in v}
        back = BackMsg()
        back.rerun_script.query_string = ""
        back.rerun_script.page_script_hash = ""
        for state in states.values():
            item = back.rerun_script.widget_states.widgets.add()
            _fill(item, state)
        self._ws.send(back.SerializeToString())
        self._read_run(timeout)

    def wait_run(self, *, timeout: float = RUN_TIMEOUT_S) -> None:
        """Wait for a run the server started itself (none asked for), until it ends."""
        self._read_run(timeout)

    def settle(self, quiet_s: float = 3.0, *, timeout: float = RUN_TIMEOUT_S) -> int:
        """Read what the server sends unasked (runs it started itself, e.g. after refusing
        an upload) until it has been quiet for ``quiet_s``; the runs that ended. For a
        script that goes on using the session: its next :meth:`run` then reads its own."""
        ended = 0
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                raw = self._ws.recv(timeout=quiet_s)
            except TimeoutError:
                return ended
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            if msg.WhichOneof("type") == "script_finished":
                ended += 1
        raise TimeoutError(f"the server was never quiet for {quiet_s} s in {timeout} s")

    def _read_run(self, timeout: float) -> None:
        self.messages, self.texts, self.widgets = [], [], {}
        deadline = time.monotonic() + timeout
        started = False
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"the run did not finish in {timeout} s: {self.texts}")
            raw = self._ws.recv(timeout=left)
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            data = MessageToDict(msg)
            self.messages.append(data)
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                # A new run (also the one st.rerun starts): what it shows replaces the last.
                started = True
                self.texts, self.widgets = [], {}
                self.session_id = msg.new_session.initialize.session_id or self.session_id
            elif kind == "delta":
                self._note(data)
            elif (
                kind == "script_finished"
                and started
                and msg.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN
            ):
                return

    def _note(self, data: dict[str, Any]) -> None:
        for node in _walk(data):
            for key in ("body", "text"):
                value = node.get(key)
                if isinstance(value, str) and value:
                    self.texts.append(value)
        element = data.get("delta", {}).get("newElement", {})
        for kind, proto in element.items():
            if isinstance(proto, dict) and "id" in proto and "label" in proto:
                self.widgets[proto["label"]] = (kind, proto)

    def text(self) -> str:
        """What the last run showed, Markdown escapes removed."""
        return re.sub(r"\\(.)", r"\1", "\n".join(self.texts))

    def widget_id(self, label: str) -> str:
        if label not in self.widgets:
            raise KeyError(f"no widget {label!r} in the last run: {sorted(self.widgets)}")
        return str(self.widgets[label][1]["id"])

    # --- the page's forms ---------------------------------------------------------------

    def submit_password(self, password: str) -> None:
        """Type ``password`` into the password box and press the form's button."""
        self.run(
            [
                {"id": self.widget_id("Password"), "stringValue": password},
                {"id": self.widget_id("Open the dashboard"), "triggerValue": True},
            ]
        )

    # --- uploads ------------------------------------------------------------------------

    def put_file(
        self, name: str, data: bytes, *, file_id: str | None = None
    ) -> tuple[Response, str]:
        """PUT a file into this session's upload store; returns the answer and the file id."""
        file_id = file_id or uuid.uuid4().hex
        body, content_type = multipart(name, data)
        answer = http(
            "PUT",
            f"{self.url}/_stcore/upload_file/{self.session_id}/{file_id}",
            body=body,
            headers={
                "Content-Type": content_type,
                "X-Xsrftoken": self.xsrf,
                "Cookie": self.cookie_header(),
                "Origin": self.url,
            },
        )
        return answer, file_id

    def delete_file(self, file_id: str) -> Response:
        return http(
            "DELETE",
            f"{self.url}/_stcore/upload_file/{self.session_id}/{file_id}",
            headers={"X-Xsrftoken": self.xsrf, "Cookie": self.cookie_header()},
        )

    def choose_file(self, label: str, name: str, data: bytes) -> str:
        """Upload a file and give it to the uploader ``label`` (what the browser does: a
        single-file uploader deletes the file it held before uploading the new one)."""
        previous = self._chosen.pop(label, None)
        if previous is not None:
            self.delete_file(previous)
        answer, file_id = self.put_file(name, data)
        if answer.status != 204:
            raise RuntimeError(f"upload refused: {answer.status} {answer.body[:200]!r}")
        base = f"/_stcore/upload_file/{self.session_id}/{file_id}"
        self.run(
            [
                {
                    "id": self.widget_id(label),
                    "fileUploaderStateValue": {
                        "uploadedFileInfo": [
                            {
                                "fileId": file_id,
                                "name": name,
                                "size": len(data),
                                "fileUrls": {
                                    "fileId": file_id,
                                    "uploadUrl": base,
                                    "deleteUrl": base,
                                },
                            }
                        ],
                    },
                }
            ]
        )
        self._chosen[label] = file_id
        return file_id


def _fill(item: Any, state: dict[str, Any]) -> None:
    from google.protobuf.json_format import ParseDict

    ParseDict(state, item)


@contextlib.contextmanager
def session(url: str, **options: Any) -> Iterator[Session]:
    s = Session(url, **options)
    s.open()
    try:
        yield s
    finally:
        s.close()


def dumps(value: Any) -> str:
    return json.dumps(value, indent=1, default=str)[:4000]
