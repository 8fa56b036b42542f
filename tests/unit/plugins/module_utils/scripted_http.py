# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# SPDX-License-Identifier: Apache-2.0
"""A scripted HTTP server on 127.0.0.1 (port 0) for tests: answers from a list and
records every request. Real sockets and real HTTP; only the answers are canned.
Also the stand-in module the HTTP client reads its options from."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ansible_collections.dcos.marathon.plugins.module_utils._arguments import connection_argument_spec
from ansible_collections.dcos.marathon.plugins.module_utils._http import HttpClient


class FakeModule:
    """What HttpClient reads from a module: the connection options (defaults unless given)
    and the set of values to mask."""

    def __init__(self, **params):
        self.params = dict((k, v.get("default")) for k, v in connection_argument_spec().items())
        self.params.update(params)
        self.no_log_values = set()


def http_client(url, sleeps=None, **params):
    """An HttpClient for ``url``; its backoff pauses are recorded in ``sleeps`` instead of slept."""
    params.setdefault("marathon_url", url)
    return HttpClient(FakeModule(**params), sleep=(sleeps if sleeps is not None else []).append)


class Script(object):
    """Answers from (method, path prefix, (status, body, headers)) entries, first match
    wins and is used up; ``sticky`` entries are never used up."""

    def __init__(self):
        self.answers = []
        self.sticky = []
        self.seen = []
        self.lock = threading.Lock()
        self.url = None
        # Set when the server stops: releases requests scripted to "hang".
        self.released = threading.Event()

    def add(self, method, path, status, body=None, headers=None, sticky=False):
        (self.sticky if sticky else self.answers).append((method, path, (status, body, headers or {})))

    def next(self, method, path):
        with self.lock:
            for i, (m, p, answer) in enumerate(self.answers):
                if (m is None or m == method) and (p is None or path.startswith(p)):
                    del self.answers[i]
                    return answer
            for m, p, answer in self.sticky:
                if (m is None or m == method) and (p is None or path.startswith(p)):
                    return answer
        return (500, {"message": "unscripted %s %s" % (method, path)}, {})

    def writes(self):
        return [s for s in self.seen if s["method"] in ("POST", "PUT", "PATCH", "DELETE")]


def _handler(script):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            script.seen.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                "body": json.loads(raw) if raw else None})
            status, body, headers = script.next(self.command, self.path)
            if status == "drop":
                # Close without answering: the client sees a connection error.
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if status == "hang":
                # Read the request and never answer: the client's read times out.
                script.released.wait()
                self.close_connection = True
                return
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            self.send_response(status)
            ctype = headers.get("Content-Type") or ("text/html" if isinstance(body, str) else "application/json")
            self.send_header("Content-Type", ctype)
            for k, v in headers.items():
                if k != "Content-Type":
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

    return Handler


class ScriptedServer(object):
    def __enter__(self):
        self.script = Script()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.script))
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()
        self.script.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        return self.script

    def __exit__(self, *exc):
        self.script.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()
