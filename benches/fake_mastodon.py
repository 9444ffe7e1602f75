#!/usr/bin/env python3
"""A minimal Mastodon status endpoint on 127.0.0.1 for benchmarks.

fake_mastodon.py PORT_FILE [DELAY_SECONDS]
Writes its port to PORT_FILE, answers POST /api/v1/statuses (one status per
Idempotency-Key) after DELAY_SECONDS, and appends "<arrival epoch> <text>"
lines to PORT_FILE.log. Stops on SIGTERM.
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port_file = sys.argv[1]
delay = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
lock = threading.Lock()
by_key = {}
log = open(port_file + ".log", "a", buffering=1)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without this, Nagle's algorithm
    # holds the body until the client's delayed ACK (40 ms) on a kept-alive
    # connection, and the benchmark would measure that stall.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def do_POST(self):
        arrived = time.time()
        body = self.rfile.read(int(self.headers.get("content-length", "0") or 0))
        if self.path != "/api/v1/statuses":
            self.send_error(404)
            return
        try:
            status = json.loads(body or b"{}").get("status", "")
        except ValueError:
            status = ""
        key = self.headers.get("idempotency-key", "")
        with lock:
            if key not in by_key:
                by_key[key] = len(by_key) + 1
                log.write(f"{arrived:.6f} {status.splitlines()[0] if status else ''}\n")
            sid = by_key[key]
        if delay:
            time.sleep(delay)
        out = json.dumps({"id": str(sid), "url": f"https://mastodon.example/@a/{sid}", "content": ""}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_file, "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
