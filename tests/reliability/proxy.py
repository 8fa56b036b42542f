"""A tiny HTTP proxy on 127.0.0.1:0 that loses the answer of a write the server has applied.

localmarathon's ``drop`` fault closes the connection *before* handling a request, so the write
never happens. The harder case for a client is the reverse: the server applied the write, and
the connection broke before the answer arrived. This proxy forwards each request (one per
connection) and, for the first ``count`` requests with a matching method, reads the server's
full answer and then resets the client connection instead of passing it on.
"""

from __future__ import annotations

import socket
import struct
import threading


def _read_request(sock: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _sep, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _colon, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    # One request per connection keeps the relay simple.
    lines = [ln for ln in head.split(b"\r\n") if not ln.lower().startswith(b"connection:")]
    return b"\r\n".join(lines) + b"\r\nConnection: close\r\n\r\n" + body


class ResetAfterApplyProxy:
    def __init__(self, upstream_port: int, methods=("POST", "PUT", "DELETE"), count: int = 1):
        self.upstream_port = upstream_port
        self.methods = tuple(m.encode() for m in methods)
        self.remaining = count
        self.lost = []  # request lines whose answers were lost
        self._lock = threading.Lock()
        self._srv = socket.socket()
        self._srv.bind(("127.0.0.1", 0))
        self._srv.listen(32)
        self.port = self._srv.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self._stop:
            try:
                client, _addr = self._srv.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket):
        try:
            request = _read_request(client)
            if request is None:
                return
            with socket.create_connection(("127.0.0.1", self.upstream_port), timeout=60) as up:
                up.sendall(request)
                answer = b""
                while True:
                    chunk = up.recv(65536)
                    if not chunk:
                        break
                    answer += chunk
            with self._lock:
                lose = self.remaining > 0 and request.split(b" ", 1)[0] in self.methods
                if lose:
                    self.remaining -= 1
                    self.lost.append(request.split(b"\r\n", 1)[0].decode())
            if lose:
                # SO_LINGER 0: close() sends RST, the client sees "connection reset by peer".
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                client.sendall(answer)
        except OSError:
            pass
        finally:
            client.close()

    def close(self):
        self._stop = True
        self._srv.close()
