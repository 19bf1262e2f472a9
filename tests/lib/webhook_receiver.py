#!/usr/bin/python3
"""webhook_receiver.py: a test HTTP receiver for bintail's alert webhooks (stdlib only).

Listens on 127.0.0.1, records every request as one JSON line in --out (flushed at once, written
before the answer goes out), and answers according to its mode:

  --mode ok          200 to everything (default)
  --mode fail500     500 to everything
  --mode fail400     400 to everything
  --mode hang        read the request, then never answer (until the client gives up)
  --fail-first N     500 to the first N requests, then the mode's answer
  --hang-first N     no answer to the first N requests, then the mode's answer

Each line: {"n": 1, "t": <arrival, epoch seconds>, "method": "POST", "path": "/hook",
"headers": {"Name": "value", ...}, "body": "<text>", "body_b64": "<exact bytes>",
"status": 200 or null when hanging}.
--port 0 (default) picks a free port; --port-file FILE receives it once the socket listens.
Exits on SIGTERM or SIGINT.
"""
import argparse
import base64
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--out", required=True)
    ap.add_argument("--mode", choices=["ok", "fail500", "fail400", "hang"], default="ok")
    ap.add_argument("--fail-first", type=int, default=0)
    ap.add_argument("--hang-first", type=int, default=0)
    args = ap.parse_args()

    lock = threading.Lock()
    out = open(args.out, "a", encoding="utf-8")
    count = [0]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; with Nagle on, each answer on a kept-alive
        # connection would wait for the client's delayed ACK (~40 ms).
        disable_nagle_algorithm = True

        def log_message(self, fmt, *a):  # keep the test log for the test's own output
            pass

        def do_POST(self):
            self.handle_any()

        def do_GET(self):
            self.handle_any()

        def do_PUT(self):
            self.handle_any()

        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with lock:
                count[0] += 1
                n = count[0]
                if n <= args.hang_first or (n > args.hang_first and args.mode == "hang"):
                    status = None
                elif n <= args.hang_first + args.fail_first:
                    status = 500
                else:
                    status = {"ok": 200, "fail500": 500, "fail400": 400}.get(args.mode)
                rec = {
                    "n": n,
                    "t": time.time(),
                    "method": self.command,
                    "path": self.path,
                    "headers": {k: v for k, v in self.headers.items()},
                    "body": body.decode("utf-8", errors="replace"),
                    "body_b64": base64.b64encode(body).decode("ascii"),
                    "status": status,
                }
                out.write(json.dumps(rec) + "\n")
                out.flush()
            if status is None:
                # Hang: hold the connection open without answering until the client leaves
                # (its timeout) or we are stopped.
                self.close_connection = True
                while True:
                    time.sleep(3600)
            reply = json.dumps({"status": status}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

    class Server(ThreadingHTTPServer):
        daemon_threads = True  # hanging handlers must not keep the process alive at exit
        allow_reuse_address = True

    srv = Server(("127.0.0.1", args.port), Handler)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % srv.server_address[1])
        os.rename(tmp, args.port_file)  # readers never see a half-written port

    def stop(signum, frame):
        out.flush()
        os._exit(0)  # daemon handler threads may be asleep in a hang; do not wait for them

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
