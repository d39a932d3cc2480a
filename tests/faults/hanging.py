"""A TCP proxy in front of the moto server that can start hanging: an endpoint that accepts connections
and reads requests, and never answers (what a stalled load balancer or a black-holed route looks like to
the SDK: the connect succeeds, the read times out)."""

from __future__ import annotations

import select
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class HangingProxy:
    def __init__(self, upstream_port: int) -> None:
        self._upstream = ("127.0.0.1", upstream_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.endpoint = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._hanging = threading.Event()
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self.swallowed = 0  # requests (or parts of them) received while hanging and never answered
        self._threads = [threading.Thread(target=self._accept, daemon=True, name="hanging-proxy")]
        self._threads[0].start()

    def hang(self) -> None:
        self._hanging.set()

    def stop(self) -> None:
        self._stopped.set()
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=2)

    def _accept(self) -> None:
        while not self._stopped.is_set():
            readable, _, _ = select.select([self._listener], [], [], 0.1)
            if not readable or self._stopped.is_set():
                continue
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            thread = threading.Thread(
                target=self._serve, args=(conn,), daemon=True, name="hanging-proxy-conn"
            )
            with self._lock:
                self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        upstream = None if self._hanging.is_set() else socket.create_connection(self._upstream)
        ends = [conn] if upstream is None else [conn, upstream]
        try:
            while not self._stopped.is_set():
                readable, _, _ = select.select(ends, [], [], 0.1)
                for end in readable:
                    data = end.recv(65536)
                    if not data:
                        return
                    if end is conn and (upstream is None or self._hanging.is_set()):
                        with self._lock:
                            self.swallowed += 1  # read, never forwarded, never answered
                    elif end is conn and upstream is not None:
                        upstream.sendall(data)
                    elif not self._hanging.is_set():
                        conn.sendall(data)
        except OSError:
            return
        finally:
            for end in ends:
                end.close()


@contextmanager
def hanging_proxy(upstream_port: int) -> Iterator[HangingProxy]:
    proxy = HangingProxy(upstream_port)
    try:
        yield proxy
    finally:
        proxy.stop()
