# SPDX-License-Identifier: Apache-2.0
"""Holds N connections from SOURCE to 127.0.0.1:PORT, each with part of a request, and asks
URL with curl meanwhile (for nginx_limits.sh).

usage: half_sent.py SOURCE PORT N header|body URL OUT [WAIT]

header sends part of a request line and header (nginx has not read a request yet); body sends
a whole header and part of the body it announces (a request in progress). Once the N
connections are up and written, curl (from 127.0.0.1) asks URL, its body going to OUT. Prints:
    connected K        connections established within 10 s, of N
    answer CODE TIME   curl's %{http_code} and %{time_total}
    open K             connections nginx had not closed when curl was done
    closed K after S   with WAIT: connections nginx closed within WAIT seconds, and the
                       seconds from the last write to the last close seen
Exit 77 when this process cannot have N + 100 open files.
"""
import errno
import resource
import select
import socket
import subprocess
import sys
import time

PARTS = {
    "header": b"GET /status HTTP/1.1\r\nHost: localhost\r\nUser-Agent: half",
    "body": b"POST /submit HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n{",
}


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= need:
        return True
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, max(hard, need)))
    except (ValueError, OSError):
        return False
    return True


def connect_all(source, port, n):
    socks, pending = [], {}
    poller = select.poll()
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.bind((source, 0))
        rc = s.connect_ex(("127.0.0.1", port))
        socks.append(s)
        if rc == errno.EINPROGRESS:
            pending[s.fileno()] = s
            poller.register(s, select.POLLOUT)
        elif rc != 0:
            sys.exit("connect: %s" % errno.errorcode.get(rc, rc))
    deadline = time.monotonic() + 10
    while pending and time.monotonic() < deadline:
        for fd, _ in poller.poll(100):
            s = pending.pop(fd)
            poller.unregister(fd)
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                sys.exit("connect failed")
    return [s for s in socks if s.fileno() not in pending]


def closed(socks):
    """The connections nginx closed (readable: end of file or an answer)."""
    poller = select.poll()
    for s in socks:
        poller.register(s, select.POLLIN)
    return {fd for fd, _ in poller.poll(0)}


def main():
    source, port, n, part, url, out = sys.argv[1:7]
    port, n = int(port), int(n)
    wait = float(sys.argv[7]) if len(sys.argv) > 7 else 0
    if not raise_nofile(n + 100):
        print("cannot open %d files" % (n + 100))
        sys.exit(77)
    socks = connect_all(source, port, n)
    print("connected", len(socks), flush=True)
    for s in socks:
        s.send(PARTS[part])
    written = time.monotonic()
    time.sleep(0.3)  # nginx reads what was sent
    ans = subprocess.run(["curl", "-s", "-m", "10", "-o", out, "-w", "%{http_code} %{time_total}",
                          url], stdout=subprocess.PIPE, check=False)
    print("answer", ans.stdout.decode(), flush=True)
    print("open", len(socks) - len(closed(socks)), flush=True)
    if wait > 0:
        last = written
        done = closed(socks)
        while len(done) < len(socks) and time.monotonic() < written + wait:
            time.sleep(0.05)
            now = closed(socks)
            if len(now) > len(done):
                last = time.monotonic()
            done = now
        print("closed %d after %.1f" % (len(done), last - written), flush=True)


main()
