#!/usr/bin/env python3
"""kmsd_http.py -- drive the real conclave-kmsd over loopback HTTP(S).

usage: kmsd_http.py KMSD CONCLAVE WORKDIR

Starts the daemon on free ports with a fresh store and checks endpoints,
HTTP-level refusals, MIKEY Error answers to junk, keep-alive, pipelining,
slow and idle clients, the connection limit, HTTPS, the master-key
permission check, config errors, SIGHUP and SIGTERM. Each check prints
what it does; the exit status is the number of failures (capped at 100).
"""
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

KMSD, CONCLAVE, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
FAILS = []
PASSES = 0
MIKEY_ERROR = 6  # data type of the MIKEY Error message (RFC 6043 §5.4)


def check(cond, what):
    global PASSES
    if cond:
        PASSES += 1
        print("  ok   " + what, flush=True)
    else:
        FAILS.append(what)
        print("  FAIL " + what, flush=True)


def step(what):
    print("- " + what, flush=True)


# ---- daemon control ---------------------------------------------------------

class Daemon:
    def __init__(self, name, args, expect_start=True):
        self.log_path = os.path.join(WORK, name + ".log")
        self.logf = open(self.log_path, "wb")
        self.proc = subprocess.Popen([KMSD] + args, stdout=self.logf,
                                     stderr=subprocess.STDOUT)
        self.http = self.https = None
        if expect_start:
            self.wait_ports(args)

    def log(self):
        with open(self.log_path, "r", errors="replace") as f:
            return f.read()

    def wait_ports(self, args):
        want_https = "--https" in args
        deadline = time.time() + 10
        while time.time() < deadline:
            text = self.log()
            m = re.search(r"listening http (\S+):(\d+)", text)
            s = re.search(r"listening https (\S+):(\d+)", text)
            if m:
                self.http = int(m.group(2))
            if s:
                self.https = int(s.group(2))
            if (self.http and (self.https or not want_https)
                    and "started" in text):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("kmsd did not start:\n" + self.log())

    def stop(self, sig=signal.SIGTERM, timeout=5.0):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = None
        self.logf.close()
        return rc


def common_args(db, key):
    return ["--listen", "127.0.0.1:0", "--db", "sqlite:" + db,
            "--master-key-file", key, "--identity", "sip:kms.test.example",
            "--foreground"]


# ---- raw HTTP client ---------------------------------------------------------

def connect(port, tls=False, timeout=5.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s = ctx.wrap_socket(s, server_hostname="localhost")
    return s


class Reader:
    """Reads HTTP/1.1 responses (Content-Length framed) from a socket."""

    def __init__(self, sock):
        self.s = sock
        self.buf = b""

    def _fill(self):
        d = self.s.recv(65536)
        if not d:
            raise EOFError("connection closed")
        self.buf += d

    def response(self, head_only=False):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        hdrs = {}
        for ln in lines[1:]:
            k, v = ln.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
        n = 0 if head_only else int(hdrs.get("content-length", "0"))
        while len(self.buf) < n:
            self._fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return status, hdrs, body


def req_bytes(method, path, body=b"", ctype="application/mikey",
              extra="", host=True):
    h = "%s %s HTTP/1.1\r\n" % (method, path)
    if host:
        h += "Host: kms.test\r\n"
    if method == "POST":
        h += "Content-Type: %s\r\nContent-Length: %d\r\n" % (ctype,
                                                              len(body))
    h += extra + "\r\n"
    return h.encode() + body


def one(port, raw, tls=False):
    """Send raw bytes on a fresh connection; (status, headers, body) or
    (None, {}, b'') when the server closed without an answer."""
    s = connect(port, tls)
    try:
        s.sendall(raw)
        return Reader(s).response(head_only=raw.startswith(b"HEAD"))
    except (EOFError, ConnectionResetError):
        return None, {}, b""
    finally:
        s.close()


def closed_by_peer(sock, within):
    """True when the peer closes sock within `within` seconds (any data
    before the close is read and ignored)."""
    sock.settimeout(within)
    end = time.time() + within
    try:
        while time.time() < end:
            if not sock.recv(4096):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
    return False


# ---- checks ------------------------------------------------------------------

def check_endpoints(d):
    step("GET /healthz answers 200 ok")
    st, h, b = one(d.http, req_bytes("GET", "/healthz"))
    check(st == 200 and b == b"ok\n", "healthz 200 ok (got %s %r)" % (st, b))
    st, h, b = one(d.http, req_bytes("HEAD", "/healthz"))
    check(st == 200 and b == b"" and h.get("content-length") == "3",
          "HEAD /healthz: headers only")

    step("GET /metrics is Prometheus text with the documented series")
    st, h, b = one(d.http, req_bytes("GET", "/metrics"))
    text = b.decode()
    check(st == 200 and h.get("content-type", "").startswith(
        "text/plain; version=0.0.4"), "metrics 200 text/plain 0.0.4")
    sample = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*'
                        r'(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*",?)*\})?'
                        r' [-+0-9.eE]+(Inf)?$')
    bad = [ln for ln in text.splitlines()
           if ln and not ln.startswith("#") and not sample.match(ln)]
    check(not bad, "every sample line is well-formed %s" % bad[:3])
    for name in ["kmsd_mikey_requests_total{op=\"request\",outcome=\"ok\"}",
                 "kmsd_kms_handle_seconds_bucket{le=\"+Inf\"}",
                 "kmsd_kms_handle_seconds_sum", "kms_replay_size",
                 "kmsd_open_connections", "kmsd_http_responses_total",
                 "kmsd_build_info", "kmsd_connections_rejected_total"]:
        check(name in text, "metrics has " + name)
    types = re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M)
    check(("kmsd_kms_handle_seconds", "histogram") in types,
          "latency is a histogram")


def check_junk(d):
    step("POST junk to /mikey: HTTP 200 + a MIKEY Error message, and the "
         "daemon keeps serving")
    bodies = {
        "empty": b"",
        "one byte": b"\x01",
        "garbage": bytes(range(256)) * 2,
        "truncated REQUEST_INIT_PSK header": b"\x01\x0b\x00\x00",
        "header only": b"\x01\x0b\x00\x00\x00\x00\x00\x00\x00\x00",
        "version 2": b"\x02\x0b" + b"\x00" * 30,
        "RESOLVE_INIT_PSK junk": b"\x01\x10" + b"\xff" * 60,
    }
    for name, body in bodies.items():
        st, h, b = one(d.http, req_bytes("POST", "/mikey", body))
        check(st == 200 and h.get("content-type") == "application/mikey"
              and len(b) >= 2 and b[1] == MIKEY_ERROR,
              "%s -> 200 application/mikey, data type %s" %
              (name, b[1] if len(b) > 1 else None))
    st, h, b = one(d.http, req_bytes("POST", "/mikey", b"x",
                                     ctype="Application/MIKEY; x=1"))
    check(st == 200, "media type matched case-insensitively, with params")
    st, _, b = one(d.http, req_bytes("GET", "/healthz"))
    check(st == 200, "still healthy after junk")
    st, _, b = one(d.http, req_bytes("GET", "/metrics"))
    m = re.search(r'kmsd_mikey_requests_total\{op="other",'
                  r'outcome="[a-z_]+"\} (\d+)', b.decode())
    check(m is not None and "outcome=\"ok\"" in b.decode(),
          "refusals counted by outcome in /metrics")


def check_refusals(d):
    step("HTTP-level refusals: 404 405 415 411 400 413 431 505 417")
    cases = [
        ("GET /nope", req_bytes("GET", "/nope"), 404),
        ("GET /mikey", req_bytes("GET", "/mikey"), 405),
        ("DELETE /healthz", req_bytes("DELETE", "/healthz"), 405),
        ("POST /metrics", req_bytes("POST", "/metrics", b"x"), 405),
        ("POST text/plain", req_bytes("POST", "/mikey", b"x",
                                      ctype="text/plain"), 415),
        ("POST no Content-Type",
         b"POST /mikey HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx",
         415),
        ("POST no Content-Length",
         b"POST /mikey HTTP/1.1\r\nHost: x\r\n"
         b"Content-Type: application/mikey\r\n\r\n", 411),
        ("POST chunked",
         b"POST /mikey HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
         b"\r\nContent-Type: application/mikey\r\n\r\n1\r\nx\r\n0\r\n\r\n",
         411),
        ("chunked + Content-Length",
         b"POST /mikey HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
         b"\r\nContent-Length: 1\r\n\r\nx", 400),
        ("Content-Length abc",
         b"POST /mikey HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
         400),
        ("Content-Length -1",
         b"POST /mikey HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
         400),
        ("duplicate Content-Length",
         b"POST /mikey HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
         b"Content-Length: 1\r\n\r\nx", 400),
        ("obs-fold",
         b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 400),
        ("bare LF", b"GET /healthz HTTP/1.1\nHost: x\n\n", 400),
        ("space before colon",
         b"GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n", 400),
        ("missing Host", b"GET /healthz HTTP/1.1\r\n\r\n", 400),
        ("two spaces in request line",
         b"GET  /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("absolute-form target",
         b"GET http://x/healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("HTTP/2.0", b"GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n", 505),
        ("Expect: something",
         b"GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: magic\r\n\r\n", 417),
        ("body 70000 > 64 KiB",
         b"POST /mikey HTTP/1.1\r\nHost: x\r\nContent-Type: application/"
         b"mikey\r\nContent-Length: 70000\r\n\r\n", 413),
        ("9000-byte header",
         b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 +
         b"\r\n\r\n", 431),
        ("header never ends, 20 KB",
         b"GET /healthz HTTP/1.1\r\nX: " + b"a" * 20000, 431),
    ]
    for name, raw, want in cases:
        st, h, b = one(d.http, raw)
        extra = ""
        if want == 405:
            extra = " Allow=%s" % h.get("allow")
            ok = st == 405 and h.get("allow") in ("POST", "GET, HEAD")
        else:
            ok = st == want
        check(ok, "%s -> %s (got %s%s)" % (name, want, st, extra))
    step("a 413 answer comes before the body is sent (Expect: 100-continue)")
    st, h, b = one(d.http, b"POST /mikey HTTP/1.1\r\nHost: x\r\n"
                   b"Content-Type: application/mikey\r\nExpect: 100-continue"
                   b"\r\nContent-Length: 999999\r\n\r\n")
    check(st == 413, "413 without sending the body (got %s)" % st)
    step("Expect: 100-continue on a good request gets 100 then the answer")
    s = connect(d.http)
    s.sendall(b"POST /mikey HTTP/1.1\r\nHost: x\r\nContent-Type: application/"
              b"mikey\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
    r = Reader(s)
    st1, _, _ = r.response(head_only=True)
    s.sendall(b"\x01\x0b\x00")
    st2, _, b = r.response()
    s.close()
    check(st1 == 100 and st2 == 200 and b[1] == MIKEY_ERROR,
          "100 Continue, then 200 (got %s, %s)" % (st1, st2))
    st, _, _ = one(d.http, req_bytes("GET", "/healthz"))
    check(st == 200, "still healthy after refusals")


def check_keepalive(d):
    step("keep-alive: 1000 requests on one connection")
    s = connect(d.http)
    r = Reader(s)
    ok = 0
    t0 = time.time()
    for i in range(1000):
        if i % 2:
            s.sendall(req_bytes("POST", "/mikey", b"\x01\x0b" + bytes(8)))
            st, h, b = r.response()
            ok += st == 200 and b[1] == MIKEY_ERROR
        else:
            s.sendall(req_bytes("GET", "/healthz"))
            st, h, b = r.response()
            ok += st == 200 and b == b"ok\n"
    dt = time.time() - t0
    check(ok == 1000, "1000/1000 answered on one connection (%d ok, %.2f s)"
          % (ok, dt))
    step("pipelining: 3 requests in one write, 3 answers in order")
    s.sendall(req_bytes("GET", "/healthz") + req_bytes("GET", "/nope") +
              req_bytes("POST", "/mikey", b"\x01"))
    got = [r.response()[0] for _ in range(3)]
    check(got == [200, 404, 200], "answers in order %s" % got)
    step("Connection: close is honoured")
    s.sendall(req_bytes("GET", "/healthz", extra="Connection: close\r\n"))
    st, h, _ = r.response()
    check(st == 200 and h.get("connection") == "close" and
          closed_by_peer(s, 3), "answered, then closed")
    s.close()


def check_slowloris(d, request_timeout):
    step("slowloris: a client sending its head at 1 byte/s is cut off at "
         "request_timeout (%.0f s); another client is served at once" %
         request_timeout)
    slow = connect(d.http, timeout=10)
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 60
    result = {}

    def dribble():
        t0 = time.time()
        try:
            for ch in head:
                slow.sendall(bytes([ch]))
                time.sleep(1.0)
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass
        result["cut_after"] = time.time() - t0

    def read_slow():
        t0 = time.time()
        data = b""
        try:
            while True:
                d_ = slow.recv(4096)
                if not d_:
                    break
                data += d_
        except (ConnectionResetError, OSError):
            pass
        result["answer"] = data
        result["closed_after"] = time.time() - t0

    tw = threading.Thread(target=dribble, daemon=True)
    tr = threading.Thread(target=read_slow, daemon=True)
    tw.start()
    tr.start()
    time.sleep(0.5)
    worst = 0.0
    for _ in range(5):
        t0 = time.time()
        st, _, _ = one(d.http, req_bytes("POST", "/mikey", b"\x01\x0b"))
        worst = max(worst, time.time() - t0)
        time.sleep(0.1)
    check(worst < 1.0 and st == 200,
          "normal requests served in %.3f s while the slow one is open" %
          worst)
    tr.join(request_timeout + 5)
    ans = result.get("answer", b"")
    closed = result.get("closed_after")
    check(closed is not None and closed < request_timeout + 2.0,
          "slow client closed after %s s" %
          (None if closed is None else "%.1f" % closed))
    check(ans.startswith(b"HTTP/1.1 408"), "slow client got 408 (%r)" %
          ans[:20])
    slow.close()

    step("idle connection is closed after idle_timeout")
    s = connect(d.http)
    t0 = time.time()
    check(closed_by_peer(s, 6), "idle socket closed after %.1f s" %
          (time.time() - t0))
    s.close()


def check_https(d):
    step("HTTPS: healthz and a MIKEY POST over TLS (curl -k)")
    out = subprocess.run(["curl", "-sk", "--max-time", "5",
                          "https://127.0.0.1:%d/healthz" % d.https],
                         capture_output=True)
    check(out.returncode == 0 and out.stdout == b"ok\n",
          "curl -k https healthz -> %r" % out.stdout)
    out = subprocess.run(["curl", "-sk", "--max-time", "5", "-X", "POST",
                          "-H", "Content-Type: application/mikey",
                          "--data-binary", "garbage",
                          "https://127.0.0.1:%d/mikey" % d.https],
                         capture_output=True)
    check(out.returncode == 0 and len(out.stdout) > 1 and
          out.stdout[1] == MIKEY_ERROR, "MIKEY Error over HTTPS")
    s = connect(d.https, tls=True)
    r = Reader(s)
    ok = 0
    for _ in range(50):
        s.sendall(req_bytes("GET", "/healthz"))
        ok += r.response()[0] == 200
    s.close()
    check(ok == 50, "50 keep-alive requests over one TLS connection")
    st, _, _ = one(d.http, req_bytes("GET", "/healthz"))
    check(st == 200, "plain HTTP still served")


def check_conn_limit(args):
    step("connection limit: --max-conns 4, a 5th connection gets 503 (or "
         "is closed), and after one closes a new one is served")
    d = Daemon("limit", args + ["--max-conns", "4"])
    try:
        socks = []
        for _ in range(4):
            s = connect(d.http)
            s.sendall(req_bytes("GET", "/healthz"))
            st, _, _ = Reader(s).response()
            socks.append(s)
        check(len(socks) == 4, "4 keep-alive connections open")
        st, h, b = one(d.http, req_bytes("GET", "/healthz"))
        check(st in (503, None), "5th connection -> %s" % st)
        if st == 503:
            check(h.get("retry-after") == "1", "503 has Retry-After")
        socks.pop().close()
        time.sleep(0.3)
        st, _, _ = one(d.http, req_bytes("GET", "/healthz"))
        check(st == 200, "after closing one, a new request succeeds (%s)" %
              st)
        st, _, b = one(d.http, req_bytes("GET", "/metrics"))
        check(st == 200 and re.search(
            r"kmsd_connections_rejected_total [1-9]", b.decode()),
            "rejection counted in /metrics")
        for s in socks:
            s.close()
    finally:
        rc = d.stop()
    check(rc == 0, "limit daemon stopped cleanly (%s)" % rc)


def check_startup_errors(args, key):
    step("master key with mode 0644: exit 1 with a clear message")
    os.chmod(key, 0o644)
    d = Daemon("badkey", args, expect_start=False)
    try:
        rc = d.proc.wait(10)
    finally:
        os.chmod(key, 0o600)
    log = d.log()
    d.logf.close()
    check(rc == 1, "exit status 1 (got %s)" % rc)
    check("readable" in log and key in log, "says why: %r" %
          log.strip().splitlines()[-2:])

    step("bad values: exit 2 with a clear error")
    for extra, words in [(["--max-conns", "abc"], "max_conns"),
                         (["--listen", "nowhere"], "listen"),
                         (["--bogus", "1"], "unknown"),
                         (["--https", "127.0.0.1:0"], "tls_cert")]:
        p = subprocess.run([KMSD] + args + extra, capture_output=True,
                           timeout=10)
        check(p.returncode == 2 and words in p.stderr.decode(),
              "%s -> exit %d: %s" % (" ".join(extra), p.returncode,
                                     p.stderr.decode().strip()))
    conf = os.path.join(WORK, "bad.conf")
    with open(conf, "w") as f:
        f.write("# comment\nskew 300\nmax_body_bytes lots\n")
    p = subprocess.run([KMSD, "-c", conf] + args, capture_output=True,
                       timeout=10)
    check(p.returncode == 2 and "bad.conf:3" in p.stderr.decode(),
          "config file error names file:line: %s" %
          p.stderr.decode().strip())
    p = subprocess.run([KMSD, "--help"], capture_output=True, timeout=10)
    out = p.stdout.decode()
    check(p.returncode == 0 and all(k in out for k in (
        "--listen", "--db", "--master-key-file", "--identity", "--https",
        "--tls-cert", "--foreground", "max_conns", "request_timeout")),
        "--help documents the flags and keys")


def main():
    key = os.path.join(WORK, "master.key")
    db = os.path.join(WORK, "kms.db")
    args = common_args(db, key)

    cert = os.path.join(WORK, "tls.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", cert + ".key",
                    "-out", cert + ".crt"], check=True, capture_output=True)
    with open(cert, "wb") as f:
        for part in (".crt", ".key"):
            with open(cert + part, "rb") as p:
                f.write(p.read())
    os.chmod(cert, 0o600)

    conf = os.path.join(WORK, "kmsd.conf")
    with open(conf, "w") as f:
        f.write("# test config\nrequest_timeout 2s\nidle_timeout 3s\n"
                "log_level info\n")
    t_start = time.time()
    d = Daemon("main", ["-c", conf] + args +
               ["--https", "127.0.0.1:0", "--tls-cert", cert])
    try:
        print("kmsd on http :%d https :%d (%.2f s to start)" %
              (d.http, d.https, time.time() - t_start), flush=True)
        check_endpoints(d)
        check_junk(d)
        check_refusals(d)
        check_keepalive(d)
        check_slowloris(d, 2.0)
        check_https(d)

        step("SIGHUP: config re-read, \"reloaded\" logged")
        with open(conf, "a") as f:
            f.write("log_level debug\n")
        d.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        check("reloaded" in d.log() and d.proc.poll() is None,
              "\"reloaded\" in the log, still running")
        st, _, _ = one(d.http, req_bytes("GET", "/healthz"))
        check(st == 200, "serving after SIGHUP")

        step("log lines: one per request, no body bytes")
        log = d.log()
        check(re.search(r'req peer=127\.0\.0\.1:\d+ "POST /mikey" status=200 '
                        r'op=\S+ outcome=\S+ reason="[^"]*" requester="[^"]*"'
                        r' ticket=\S+ latency_us=\d+', log) is not None,
              "request line has peer, method path, status, op, outcome, "
              "reason, requester, ticket, latency")
    finally:
        step("SIGTERM: exit 0 within 2 s")
        t0 = time.time()
        rc = d.stop(signal.SIGTERM, timeout=10)
        dt = time.time() - t0
    check(rc == 0 and dt < 2.0, "exit %s after %.2f s" % (rc, dt))
    log = d.log()
    check("shutting down" in log and "stopped" in log,
          "shutdown logged")
    check("ERROR: AddressSanitizer" not in log and "runtime error" not in log,
          "no sanitizer report")

    check_conn_limit(args)
    check_startup_errors(args, key)

    print("kmsd_http: %d passed, %d failed (%.1f s)" %
          (PASSES, len(FAILS), time.time() - t_start))
    for f in FAILS:
        print("  failed: " + f)
    sys.exit(min(len(FAILS), 100))


if __name__ == "__main__":
    main()
