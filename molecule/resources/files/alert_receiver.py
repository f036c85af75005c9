"""Test-only webhook receiver: appends every POST (with its arrival time and Authorization header) to a log.

Alertmanager posts its JSON here (molecule/site); the tests read the log to see which alert arrived when.
"""

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = "/var/log/alert-receiver.jsonl"


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        entry = {
            "received_at": time.time(),
            "path": self.path,
            "authorization": self.headers.get("Authorization", ""),
            "body": json.loads(body or b"{}"),
        }
        with open(LOG, "a", encoding="utf-8") as log:
            log.write(json.dumps(entry) + "\n")
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
