"""A raw-socket HTTP server on 127.0.0.1:0 that answers with exactly the bytes a test chooses.

localmarathon always answers in Marathon's formats; this one produces what a broken proxy or a
half-dead server sends: non-JSON, HTML error pages, empty or truncated bodies, wrong JSON types.
Every request is recorded (method, path), so a test can prove that no write was sent.
"""

from __future__ import annotations

import socket
import threading


class RawHttpServer:
    def __init__(self):
        self.answers = {}  # method -> (status, content_type, body bytes, extra headers)
        self.default = (404, "application/json", b'{"message":"App \'/x\' does not exist"}', {})
        self.seen = []
        self._srv = socket.socket()
        self._srv.bind(("127.0.0.1", 0))
        self._srv.listen(16)
        self.url = "http://127.0.0.1:%d" % self._srv.getsockname()[1]
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def answer(self, method, status, body, content_type="application/json", headers=None):
        self.answers[method] = (status, content_type, body if isinstance(body, bytes) else body.encode(), headers or {})

    def writes(self):
        return [s for s in self.seen if s[0] in ("POST", "PUT", "PATCH", "DELETE")]

    def _accept(self):
        while not self._stop:
            try:
                conn, _addr = self._srv.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        try:
            conn.settimeout(10)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _sep, body = data.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path = lines[0].split(" ")[:2]
            length = 0
            for line in lines[1:]:
                if line.lower().startswith("content-length:"):
                    length = int(line.split(":", 1)[1])
            while len(body) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                body += chunk
            self.seen.append((method, path))
            status, ctype, payload, extra = self.answers.get(method, self.default)
            out = ["HTTP/1.1 %d X" % status, "Content-Length: %d" % len(payload), "Connection: close"]
            if ctype:
                out.append("Content-Type: " + ctype)
            out += ["%s: %s" % kv for kv in extra.items()]
            conn.sendall(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + payload)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self._stop = True
        self._srv.close()
