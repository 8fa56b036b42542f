"""A server on 127.0.0.1 that answers like a broken Marathon (or a proxy in front of one).

Prints its base URL once it listens; serves until killed.
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

ANSWERS = {
    "/v2/tasks": {"tasks": [42, {"appId": None, "id": "x"}]},
    "/v2/apps": {"apps": ["not an app"]},
    "/v2/deployments": [],
}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps(ANSWERS.get(self.path.split("?")[0], {"message": "URI not found"})).encode()
        self.send_response(200 if self.path.split("?")[0] in ANSWERS else 500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), Handler)
print("http://127.0.0.1:%d" % server.server_port, flush=True)
sys.stdout.close()
server.serve_forever()
