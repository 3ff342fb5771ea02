#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The listening side of sd_notify(3) for sd_notify.sh: binds a datagram socket (a path, or an
abstract name starting with '@'), starts a program with NOTIFY_SOCKET naming it, and checks what
arrives, sender pid included (SO_PASSCRED).

  notify_check.py ready ADDR responder|worker|launcher TARGET LOG -- COMMAND...
      READY=1 arrives from the program's own pid, and at that moment the program is ready:
      the responder (TARGET its unix socket) answers GET /status over FastCGI with 200; the
      worker (TARGET its spool) holds the spool's lock; the launcher's node (TARGET the URL of
      its /status) answers 200 over HTTP. After SIGTERM, STOPPING=1 arrives, the
      program exits 0, and nothing else was sent.
  notify_check.py fails ADDR KIND TARGET LOG -- COMMAND...
      the program exits non-zero without sending anything.
Prints one line per failure; exit 0 when all is well, 1 otherwise."""
import fcntl
import os
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.request

WAIT = 20 * float(os.environ.get("FS_WAIT_FACTOR", "1"))
FAILS = []


def fail(msg):
    FAILS.append(msg)
    print("FAIL: " + msg)


def listen(addr):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
    return s


def receive(s, timeout):
    """(pid, text) of the next datagram, or None after timeout seconds."""
    s.settimeout(timeout)
    try:
        data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
    except socket.timeout:
        return None
    pid = None
    for level, kind, value in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", value[:12])[0]
    return pid, data.decode("utf-8", "replace")


def fcgi_status(path):
    """The stdout of the responder's answer to GET /status over FastCGI."""
    def record(kind, content):
        return struct.pack("!BBHHBx", 1, kind, 1, len(content), 0) + content

    def pair(name, value):
        name, value = name.encode(), value.encode()
        return bytes([len(name), len(value)]) + name + value

    params = b"".join(pair(k, v) for k, v in (
        ("REQUEST_METHOD", "GET"), ("REQUEST_URI", "/status"), ("DOCUMENT_URI", "/status"),
        ("QUERY_STRING", ""), ("REMOTE_ADDR", "127.0.0.1"), ("SERVER_PROTOCOL", "HTTP/1.1")))
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.settimeout(WAIT)
    c.connect(path)
    c.sendall(record(1, struct.pack("!HB5x", 1, 0)) + record(4, params) + record(4, b"") +
              record(5, b""))
    buf, out = b"", b""
    while True:
        chunk = c.recv(65536)
        if not chunk:
            break
        buf += chunk
        while len(buf) >= 8:
            _, kind, _, length, pad = struct.unpack("!BBHHBx", buf[:8])
            if len(buf) < 8 + length + pad:
                break
            if kind == 6:
                out += buf[8:8 + length]
            buf = buf[8 + length + pad:]
            if kind == 3:
                c.close()
                return out.decode("utf-8", "replace")
    c.close()
    return out.decode("utf-8", "replace")


def ready_now(kind, target):
    """Why the program is not ready at this moment, or None."""
    if kind == "responder":
        try:
            out = fcgi_status(target)
        except OSError as e:
            return "GET /status on %s: %s" % (target, e)
        if not out.startswith("Status: 200"):
            return "GET /status answered %r" % out[:200]
        return None
    if kind == "launcher":
        try:
            with urllib.request.urlopen(target, timeout=WAIT) as answer:
                status = answer.status
        except OSError as e:
            return "GET %s: %s" % (target, e)
        return None if status == 200 else "GET %s answered %d" % (target, status)
    fd = os.open(target, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return "the spool's lock is not held"
    except BlockingIOError:
        return None
    finally:
        os.close(fd)


def main():
    mode, addr, kind, target, log = sys.argv[1:6]
    cmd = sys.argv[7:]
    s = listen(addr)
    env = dict(os.environ, NOTIFY_SOCKET=addr)
    with open(log, "ab") as err:
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=err, stderr=err)
    name = os.path.basename(cmd[0])
    if mode == "fails":
        try:
            rc = proc.wait(WAIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
            fail("%s did not exit" % name)
        if rc == 0:
            fail("%s exited 0" % name)
        got = receive(s, 0.2)
        if got is not None:
            fail("%s sent %r though it did not start" % (name, got[1]))
        return
    got = receive(s, WAIT)
    if got is None:
        fail("no datagram from %s within %g s" % (name, WAIT))
        proc.kill()
        proc.wait()
        return
    pid, text = got
    why = ready_now(kind, target)  # at once: READY=1 must not come before readiness
    if pid != proc.pid:
        fail("the datagram came from pid %s, not %s's %d" % (pid, name, proc.pid))
    if "READY=1" not in text.split("\n"):
        fail("%s's first datagram is %r, not READY=1" % (name, text))
    if why is not None:
        fail("%s sent READY=1 before it was ready: %s" % (name, why))
    proc.send_signal(signal.SIGTERM)
    got = receive(s, WAIT)
    if got is None or got[1] != "STOPPING=1" or got[0] != proc.pid:
        fail("after SIGTERM %s sent %r, not STOPPING=1 from pid %d" % (name, got, proc.pid))
    try:
        rc = proc.wait(WAIT)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait()
    if rc != 0:
        fail("%s exited %d after SIGTERM" % (name, rc))
    time.sleep(0.1)
    got = receive(s, 0.1)
    if got is not None:
        fail("%s sent more: %r" % (name, got))


if __name__ == "__main__":
    main()
    sys.exit(1 if FAILS else 0)
