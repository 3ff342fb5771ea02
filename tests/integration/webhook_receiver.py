#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# A loopback webhook receiver for tests: binds 127.0.0.1 on an ephemeral port, writes the port to
# --port-file once listening, and appends each accepted POST body (one JSON text per line) to
# --out. Every request, answered or not, is logged to --requests as one JSON line
# {"n", "status", "content_type", "path", "t"} (t: monotonic seconds at arrival). Successes are
# answered --ok-status (default 200). Faults: --fail N answers 500 to the first N requests,
# --stall N sleeps --stall-seconds (longer than the client's timeout) before answering the first
# N requests that are not failed; neither records the body. Runs until killed.
import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--requests", required=True)
    ap.add_argument("--fail", type=int, default=0)
    ap.add_argument("--stall", type=int, default=0)
    ap.add_argument("--stall-seconds", type=float, default=30.0)
    ap.add_argument("--ok-status", type=int, default=200)
    args = ap.parse_args()

    lock = threading.Lock()
    state = {"n": 0, "failed": 0, "stalled": 0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms stalls

        def log_message(self, fmt, *a):  # keep test logs quiet
            pass

        def answer(self, code):
            body = b"ok\n" if code < 300 else b"error\n"
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            t = time.monotonic()
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            with lock:
                state["n"] += 1
                n = state["n"]
                if state["failed"] < args.fail:
                    state["failed"] += 1
                    action = "fail"
                elif state["stalled"] < args.stall:
                    state["stalled"] += 1
                    action = "stall"
                else:
                    action = "ok"
            status = {"fail": 500, "stall": args.ok_status, "ok": args.ok_status}[action]
            if action == "stall":
                time.sleep(args.stall_seconds)
            with lock:
                with open(args.requests, "a", encoding="utf-8") as f:
                    f.write(json.dumps({"n": n, "status": status if action != "stall" else "stalled",
                                        "content_type": self.headers.get("Content-Type"),
                                        "path": self.path, "t": t}) + "\n")
                if action == "ok":
                    with open(args.out, "ab") as f:
                        f.write(body + b"\n")
            try:
                self.answer(status)
            except OSError:
                pass  # the client gave up (a stall)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
