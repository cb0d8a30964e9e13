"""A HeavyDB-wire-compatible TCP server: Thrift binary protocol, buffered transport.

pyheavydb's ``connect(protocol="binary")`` opens a ``TSocket`` wrapped in a
``TBufferedTransport`` and speaks ``TBinaryProtocolAccelerated``; this server answers on
the same stack with the Processor generated from HeavyDB's service definition. It
listens on loopback only, on an ephemeral port unless told otherwise, serves at most
``MAX_CLIENTS`` connections at once (one thread each) and stops promptly.

With ``protocol="http"`` or ``"https"`` it answers as HeavyDB's HTTP port does instead:
one Thrift call per POST, in TJSONProtocol (what pyheavydb's http/https connections
send), over TLS with the given certificate for https.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from heavydb.thrift.Heavy import Processor
from thrift.protocol.TBinaryProtocol import TBinaryProtocolAccelerated
from thrift.protocol.TJSONProtocol import TJSONProtocol
from thrift.transport.TSocket import TSocket
from thrift.transport.TTransport import (
    TBufferedTransport,
    TMemoryBuffer,
    TTransportException,
)

from f1dash_tui.settings import HeavyDBSettings, StoreSettings

from .handler import HeavyDBTestHandler

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
MAX_CLIENTS = 32
"""Enough for a store, an ingest writer and a few viewers; more is refused."""

MAX_HTTP_BODY_BYTES = 256 * 1024 * 1024
"""A 20,000-row batch of the widest table is about 10 MB in TJSON; refuse more."""


def _http_handler_class(handler: HeavyDBTestHandler) -> type[BaseHTTPRequestHandler]:
    class ThriftOverHttp(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            if not 0 < length <= MAX_HTTP_BODY_BYTES:
                self.send_error(413 if length else 411)
                return
            request = TMemoryBuffer(self.rfile.read(length))
            reply = TMemoryBuffer()
            Processor(handler).process(TJSONProtocol(request), TJSONProtocol(reply))
            body = reply.getvalue()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-thrift")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            logger.debug("http: " + format, *args)

    return ThriftOverHttp


class HeavyDBTestServer:
    """The test server, run in a background thread of this process.

    Use as a context manager or call ``start()`` / ``stop()``; ``port`` is the bound
    port (ephemeral when constructed with ``port=0``).
    """

    def __init__(
        self,
        db_path: Path,
        *,
        password: str,
        user: str = "admin",
        database: str = "heavyai",
        port: int = 0,
        protocol: str = "binary",
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if protocol not in ("binary", "http", "https"):
            raise ValueError(f"protocol {protocol!r}: binary, http or https")
        if (protocol == "https") != (ssl_context is not None):
            raise ValueError("https needs an ssl_context, and only https takes one")
        self.protocol = protocol
        self._ssl_context = ssl_context
        self._http_server: ThreadingHTTPServer | None = None
        self.db_path = Path(db_path)
        self.user = user
        self.database = database
        self._password = password
        self._requested_port = port
        self._listener: socket.socket | None = None
        self._handler: HeavyDBTestHandler | None = None
        self._accept_thread: threading.Thread | None = None
        self._clients: dict[socket.socket, threading.Thread] = {}
        self._clients_lock = threading.Lock()
        self._stopping = threading.Event()
        self.port = 0

    def __repr__(self) -> str:
        return f"HeavyDBTestServer({LOOPBACK}:{self.port}, db={self.db_path})"

    @property
    def handler(self) -> HeavyDBTestHandler:
        """The running handler (its ``calls`` counter tells what clients asked)."""
        assert self._handler is not None, "the server is not running"
        return self._handler

    def store_settings(self) -> StoreSettings:
        """Settings that make ``open_store`` connect to this server."""
        heavydb = HeavyDBSettings(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self._password,
            database=self.database,
            protocol=self.protocol,
            connect_timeout_s=2.0,
        )
        return StoreSettings(kind="heavydb", heavydb=heavydb)

    @property
    def host(self) -> str:
        """The address the server listens on (loopback)."""
        return LOOPBACK

    def __enter__(self) -> HeavyDBTestServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self) -> HeavyDBTestServer:
        """Bind, open the SQLite file and serve in a daemon thread."""
        self._handler = HeavyDBTestHandler(
            self.db_path,
            user=self.user,
            password=self._password,
            database=self.database,
        )
        if self.protocol != "binary":
            return self._start_http(self._handler)
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((LOOPBACK, self._requested_port))
        listener.listen(MAX_CLIENTS)
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._stopping.clear()
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=f"heavydb-test-{self.port}", daemon=True
        )
        self._accept_thread.start()
        logger.info("HeavyDB test server listening on %s:%d", LOOPBACK, self.port)
        return self

    def _start_http(self, handler: HeavyDBTestHandler) -> HeavyDBTestServer:
        http_server = ThreadingHTTPServer(
            (LOOPBACK, self._requested_port), _http_handler_class(handler)
        )
        http_server.daemon_threads = True
        if self._ssl_context is not None:
            http_server.socket = self._ssl_context.wrap_socket(
                http_server.socket, server_side=True
            )
        self._http_server = http_server
        self.port = http_server.server_address[1]
        self._accept_thread = threading.Thread(
            target=http_server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"heavydb-test-http-{self.port}",
            daemon=True,
        )
        self._accept_thread.start()
        logger.info(
            "HeavyDB test server (%s) on %s:%d", self.protocol, LOOPBACK, self.port
        )
        return self

    def serve_forever(self) -> None:
        """Block until ``stop()`` is called (used by the subprocess entry point)."""
        self._stopping.wait()

    def stop(self) -> None:
        """Stop accepting, drop every client connection and close the SQLite file."""
        self._stopping.set()
        if self._http_server is not None:
            self._http_server.shutdown()
            self._http_server.server_close()
            self._http_server = None
        if self._listener is not None:
            # shutdown() wakes the thread blocked in accept() on Linux.
            try:
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError as error:
                logger.debug("listener shutdown: %s", error)
            self._listener.close()
        if self._accept_thread is not None:
            self._accept_thread.join(timeout=5)
        with self._clients_lock:
            clients = list(self._clients.items())
        for client, _thread in clients:
            try:
                client.shutdown(socket.SHUT_RDWR)
            except OSError as error:
                logger.debug("client shutdown: %s", error)
        for _client, thread in clients:
            thread.join(timeout=5)
        if self._handler is not None:
            self._handler.close()
            self._handler = None
        self._listener = None
        self._accept_thread = None

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                client, _address = self._listener.accept()
            except OSError:
                if self._stopping.is_set():
                    return
                logger.exception("accept failed")
                continue
            with self._clients_lock:
                if len(self._clients) >= MAX_CLIENTS:
                    logger.warning("refusing a client: %d connected", MAX_CLIENTS)
                    client.close()
                    continue
                thread = threading.Thread(
                    target=self._serve_client,
                    args=(client,),
                    name=f"heavydb-test-client-{self.port}",
                    daemon=True,
                )
                self._clients[client] = thread
            thread.start()

    def _serve_client(self, client: socket.socket) -> None:
        assert self._handler is not None
        processor = Processor(self._handler)
        thrift_socket = TSocket()
        thrift_socket.setHandle(client)
        transport = TBufferedTransport(thrift_socket)
        protocol = TBinaryProtocolAccelerated(transport)
        try:
            while not self._stopping.is_set():
                processor.process(protocol, protocol)
        except TTransportException as error:
            # The usual end: the client closed the connection or stop() shut it.
            logger.debug("client disconnected: %s", error)
        except OSError as error:
            logger.debug("client connection ended: %s", error)
        finally:
            with self._clients_lock:
                self._clients.pop(client, None)
            client.close()
