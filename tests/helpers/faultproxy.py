#!/usr/bin/env python3
"""An HTTP/1.1 forwarding proxy that injects faults in front of a test registry.

    with Registry() as reg, FaultProxy(reg.url) as proxy:
        proxy.url                                   # point the client here
        proxy.add_rule("GET", r"/tags/list", status=429, headers={"Retry-After": "1"})
        proxy.add_rule("GET", r"/blobs/", corrupt=True, count=2)
        proxy.add_rule("GET", r"/blobs/", redirect=True, count=None)
        ...run the client...
        proxy.count("GET", r"/v2/.*/blobs/")        # requests seen (faulted or not)

It is a reverse proxy, not a CONNECT proxy: the client talks plain HTTP to
proxy.url, and every request is sent on to the upstream URL (http or https)
with its method, path, query, headers (Authorization, Accept, ...) and body.
Status, headers and body come back; Location headers pointing at the upstream
are rewritten to point at the proxy. HEAD answers keep the upstream's
Content-Length and Docker-Content-Digest and carry no body.

add_rule(method, path_regex, count=1, skip=0, **action) -> Rule
    method: "GET", "HEAD", ... or "*"; path_regex: re.search'ed against the
    request target (path plus "?query"). The first matching live rule wins.
    count: how many times it fires before passing requests through
    (None = forever); skip: let that many matching requests through first.
    Rule.hits counts the times it fired. Actions (combinable where sensible):
      status=N, headers={}, body=b"..."   answer N without asking upstream
      garbage=N                           answer (status or 200) with N random bytes
      redirect=True | 307 | 302 ...       answer a redirect to the BlobRedirector
                                          (another port, like S3 behind a registry)
      delay=S                             sleep S seconds before anything
      stall=S                             forward; send headers, sleep S, then the body
      corrupt=True                        forward; flip the body's first byte (same length)
      truncate=N                          forward; send the headers (full Content-Length)
                                          but only N body bytes, then close
      drop=True                           close the connection without answering
paginate_tags=True | N
    emulate tag-list pagination (the OCI distribution spec's n/last and
    Link: <...>; rel="next"), which docker-registry 2.8 does not implement
    (it ignores n and returns every tag, unsorted). With an int N, pages are
    also capped at N tags when the client asks for more or for no limit, as
    hosted registries do. link_absolute=True makes the Link URL absolute.

The redirect target (BlobRedirector, started with the proxy) behaves like a
pre-signed object-store URL: it fetches the blob from upstream with the
credentials of the request that was redirected, and answers 401 if the client
sends an Authorization header of its own (real S3 rejects a second auth
mechanism, so a client must drop the registry credentials on redirect).

Every request (proxy and redirector) is recorded in proxy.requests as a dict
(server, method, target, status, rule, auth, headers); proxy.count(method,
regex, server=None) counts them; proxy.reset() clears records and rules.
Standard library only; all sleeps are bounded and interrupted by stop().
"""

import http.client
import json
import random
import re
import secrets
import socket
import ssl
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from lifecycle import Stoppable, serve_in_thread, shutdown_server

MAX_SLEEP = 60.0          # upper bound for delay/stall, whatever a test asks
UPSTREAM_TIMEOUT = 30.0   # seconds for one upstream exchange
CHUNK = 64 * 1024
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
              "te", "trailer", "trailers", "transfer-encoding", "upgrade"}

class _QuietServer(ThreadingHTTPServer):
    """Clients that hang up mid-answer (a client giving up on a stalled or
    oversized response) are part of the tests, not errors worth a traceback."""

    def handle_error(self, request, client_address):
        import sys
        if isinstance(sys.exc_info()[1], (ConnectionError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


class Rule:
    """One fault: fires on matching requests `count` times (None = always) after `skip`."""

    ACTIONS = {"status", "headers", "body", "garbage", "redirect", "delay", "stall",
               "corrupt", "truncate", "drop"}

    def __init__(self, method, path, count=1, skip=0, name=None, **action):
        unknown = set(action) - self.ACTIONS
        if unknown:
            raise TypeError("unknown FaultProxy action(s): %s" % ", ".join(sorted(unknown)))
        self.method = (method or "*").upper()
        self.pattern = re.compile(path)
        self.count = count
        self.skip = skip
        self.name = name or "%s %s" % (self.method, path)
        self.action = action
        self.hits = 0       # times this rule fired
        self.matched = 0    # times a request matched (fired or skipped)

    def matches(self, method, target):
        return (self.method in ("*", method)) and self.pattern.search(target) is not None

    def exhausted(self):
        return self.count is not None and self.hits >= self.count

    def __repr__(self):
        return "<Rule %s hits=%d count=%s>" % (self.name, self.hits, self.count)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "rewind-faultproxy/1"

    def log_message(self, fmt, *args):   # quiet; everything is in .requests
        pass

    def _dispatch(self):
        try:
            self.server.owner._serve(self, self.server.role)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True   # the client went away; nothing to answer

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _dispatch


class FaultProxy(Stoppable):
    """Forwarding proxy with fault injection. See module docstring."""

    def __init__(self, upstream, ca_file=None, paginate_tags=None, link_absolute=False,
                 redirect_host="127.0.0.1"):
        self.upstream = upstream.rstrip("/")
        self._up = urllib.parse.urlsplit(self.upstream)
        self._up_ctx = ssl.create_default_context(cafile=ca_file) if self._up.scheme == "https" else None
        self.paginate_tags = paginate_tags
        self.link_absolute = link_absolute
        self.redirect_host = redirect_host
        self.rules = []
        self.requests = []
        self._redirects = {}        # id -> (target, authorization or None)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._servers = []
        with self._starting():
            self._proxy = self._start_server("proxy")
            self._redirector = self._start_server("redirect")

    # --- public --------------------------------------------------------------

    @property
    def host(self):
        return "127.0.0.1:%d" % self._proxy.server_address[1]

    @property
    def url(self):
        return "http://" + self.host

    @property
    def redirect_url(self):
        return "http://%s:%d" % (self.redirect_host, self._redirector.server_address[1])

    def add_rule(self, method, path, count=1, skip=0, name=None, **action):
        rule = Rule(method, path, count=count, skip=skip, name=name, **action)
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear_rules(self):
        with self._lock:
            self.rules.clear()

    def reset(self):
        """Forget rules and recorded requests (e.g. between two runs of a test)."""
        with self._lock:
            self.rules.clear()
            self.requests.clear()

    def count(self, method="*", path=".", server=None):
        """Recorded requests matching method ("*" = any), target regex and server."""
        pattern = re.compile(path)
        with self._lock:
            return sum(1 for r in self.requests
                       if method in ("*", r["method"]) and pattern.search(r["target"])
                       and (server is None or r["server"] == server))

    def _stop(self):
        self._stopping.set()     # wakes stalled handlers
        servers, self._servers = self._servers, []
        for httpd, thread in servers:
            shutdown_server(httpd, thread)

    # --- servers ---------------------------------------------------------------

    def _start_server(self, role):
        httpd = _QuietServer(("127.0.0.1", 0), _Handler)
        httpd.block_on_close = False    # never wait for a stalled handler on stop
        httpd.owner, httpd.role = self, role
        thread = serve_in_thread(httpd, "faultproxy-" + role)
        self._servers.append((httpd, thread))
        return httpd

    def _sleep(self, seconds):
        """Bounded sleep that ends early when the proxy stops."""
        self._stopping.wait(min(max(float(seconds), 0.0), MAX_SLEEP))

    # --- request handling ----------------------------------------------------------

    def _serve(self, h, role):
        body = self._read_body(h)
        record = {"server": role, "method": h.command, "target": h.path, "status": None,
                  "rule": None, "auth": "Authorization" in h.headers,
                  "headers": dict(h.headers.items()), "time": time.time()}
        with self._lock:
            self.requests.append(record)
        if role == "redirect":
            return self._serve_redirected(h, record)
        rule = self._pick_rule(h.command, h.path)
        action = rule.action if rule else {}
        record["rule"] = rule.name if rule else None
        if action.get("delay"):
            self._sleep(action["delay"])
        if action.get("drop"):
            record["status"] = "dropped"
            h.close_connection = True
            return
        if "status" in action or "body" in action or "garbage" in action:
            return self._answer_fault(h, record, action)
        if action.get("redirect"):
            return self._answer_redirect(h, record, action)
        if self.paginate_tags and h.command in ("GET", "HEAD") and "/tags/list" in h.path:
            return self._serve_tag_page(h, record, body)
        self._forward(h, record, body, action)

    def _pick_rule(self, method, target):
        with self._lock:
            for rule in self.rules:
                if rule.exhausted() or not rule.matches(method, target):
                    continue
                rule.matched += 1
                if rule.matched <= rule.skip:
                    continue
                rule.hits += 1
                return rule
        return None

    @staticmethod
    def _read_body(h):
        """The request body: by Content-Length, or chunked; None when there is none."""
        length = h.headers.get("Content-Length")
        if length is not None:
            return h.rfile.read(int(length))
        if "chunked" in h.headers.get("Transfer-Encoding", "").lower():
            parts = []
            for _ in range(1_000_000):            # bounded: at most this many chunks
                size = int(h.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while h.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass                      # skip trailers
                    break
                parts.append(h.rfile.read(size))
                h.rfile.readline()                # CRLF after each chunk
            return b"".join(parts)
        return None

    def _send(self, h, record, status, headers, body=b"", length=None):
        """Send a complete answer; HEAD gets the headers only."""
        record["status"] = status
        h.send_response(status)
        sent_length = False
        for k, v in headers:
            if k.lower() == "content-length":
                sent_length = True
            h.send_header(k, v)
        if not sent_length:
            h.send_header("Content-Length", str(len(body) if length is None else length))
        h.end_headers()
        if h.command != "HEAD" and body:
            h.wfile.write(body)

    def _answer_fault(self, h, record, action):
        status = action.get("status", 200)
        headers = list((action.get("headers") or {}).items())
        if "garbage" in action:
            rng = random.Random(record["target"])
            body = bytes(rng.getrandbits(8) for _ in range(int(action["garbage"])))
        else:
            body = action.get("body") or b""
            body = body.encode() if isinstance(body, str) else body
        if not any(k.lower() == "content-type" for k, _ in headers):
            headers.append(("Content-Type", "application/octet-stream" if "garbage" in action
                            else "application/json"))
        self._send(h, record, status, headers, body)

    def _answer_redirect(self, h, record, action):
        rid = secrets.token_hex(8)
        with self._lock:
            self._redirects[rid] = (h.path, h.headers.get("Authorization"))
        path = urllib.parse.urlsplit(h.path).path
        location = "%s/_redirected/%s/%s?X-Amz-Signature=%s" % (
            self.redirect_url, rid, path.rsplit("/", 1)[-1], rid)
        status = 307 if action["redirect"] is True else int(action["redirect"])
        self._send(h, record, status, [("Location", location), ("Content-Type", "text/plain")])

    def _serve_redirected(self, h, record):
        m = re.match(r"/_redirected/([0-9a-f]+)/", h.path)
        with self._lock:
            entry = self._redirects.get(m.group(1)) if m else None
        if entry is None:
            return self._send(h, record, 404, [("Content-Type", "text/plain")], b"no such object\n")
        if "Authorization" in h.headers:
            # What S3 does with a pre-signed URL plus an Authorization header.
            return self._send(h, record, 401, [("Content-Type", "application/xml")],
                              b"<Error><Code>InvalidArgument</Code><Message>Only one auth "
                              b"mechanism allowed</Message></Error>")
        target, auth = entry
        headers = {k: v for k, v in h.headers.items() if k.lower() not in HOP_BY_HOP | {"host"}}
        if auth:
            headers["Authorization"] = auth
        self._relay(h, record, h.command, target, headers, None, {})

    # --- forwarding --------------------------------------------------------------

    def _upstream_request(self, method, target, headers, body):
        up = self._up
        if up.scheme == "https":
            conn = http.client.HTTPSConnection(up.hostname, up.port or 443,
                                               timeout=UPSTREAM_TIMEOUT, context=self._up_ctx)
        else:
            conn = http.client.HTTPConnection(up.hostname, up.port or 80, timeout=UPSTREAM_TIMEOUT)
        conn.request(method, (up.path.rstrip("/") + target) if up.path else target,
                     body=body, headers=headers)
        return conn, conn.getresponse()

    def _forward_headers(self, h):
        # Host is left to http.client (the upstream's); hop-by-hop headers stop here.
        return {k: v for k, v in h.headers.items() if k.lower() not in HOP_BY_HOP | {"host"}}

    def _forward(self, h, record, body, action):
        self._relay(h, record, h.command, h.path, self._forward_headers(h), body, action)

    def _rewrite_location(self, value):
        if value.startswith(self.upstream):
            return self.url + value[len(self.upstream):]
        return value

    def _relay(self, h, record, method, target, headers, body, action):
        """Send one request upstream and stream the answer back, applying stall/corrupt/truncate."""
        try:
            conn, resp = self._upstream_request(method, target, headers, body)
        except (OSError, http.client.HTTPException) as e:
            msg = ("upstream %s unreachable: %s\n" % (self.upstream, e)).encode()
            return self._send(h, record, 502, [("Content-Type", "text/plain")], msg)
        try:
            out_headers = []
            for k, v in resp.getheaders():
                if k.lower() in HOP_BY_HOP:
                    continue
                if k.lower() == "location":
                    v = self._rewrite_location(v)
                out_headers.append((k, v))
            length = resp.getheader("Content-Length")
            if length is None and method != "HEAD":
                # Unknown length (chunked upstream): buffer so we can send a Content-Length.
                data = resp.read()
                out_headers.append(("Content-Length", str(len(data))))
                chunks, length = iter([data]), len(data)
            else:
                chunks = iter(lambda: resp.read(CHUNK), b"")
            record["status"] = resp.status
            h.send_response_only(resp.status)   # upstream's own Date/Server follow
            for k, v in out_headers:
                h.send_header(k, v)
            h.end_headers()
            if method == "HEAD":
                return
            h.wfile.flush()
            if action.get("stall"):
                self._sleep(action["stall"])
            self._stream_body(h, chunks, action)
        finally:
            conn.close()

    def _stream_body(self, h, chunks, action):
        limit = action.get("truncate")
        sent = 0
        first = True
        for chunk in chunks:
            if action.get("corrupt") and first and chunk:
                chunk = bytes([chunk[0] ^ 0xFF]) + chunk[1:]
            first = first and not chunk
            if limit is not None and sent + len(chunk) >= limit:
                h.wfile.write(chunk[:max(limit - sent, 0)])
                h.wfile.flush()
                h.close_connection = True   # the promised length will never come
                return
            h.wfile.write(chunk)
            sent += len(chunk)

    # --- tag list pagination emulation ----------------------------------------------

    def _serve_tag_page(self, h, record, body):
        split = urllib.parse.urlsplit(h.path)
        query = urllib.parse.parse_qs(split.query)
        # Fetch the full list upstream (same credentials), then cut one page.
        try:
            conn, resp = self._upstream_request("GET", split.path, self._forward_headers(h), None)
            data = resp.read()
            conn.close()
        except (OSError, http.client.HTTPException) as e:
            return self._send(h, record, 502, [("Content-Type", "text/plain")], str(e).encode())
        passthrough = [(k, v) for k, v in resp.getheaders()
                       if k.lower() not in HOP_BY_HOP | {"content-length"}]
        if resp.status != 200:
            return self._send(h, record, resp.status, passthrough, data)
        doc = json.loads(data)
        tags = sorted(doc.get("tags") or [])        # the spec wants lexical order
        if "last" in query:
            tags = [t for t in tags if t > query["last"][0]]
        n = int(query["n"][0]) if "n" in query else None
        cap = None if self.paginate_tags is True else int(self.paginate_tags)
        if cap and (n is None or n > cap):
            n = cap
        headers = [(k, v) for k, v in passthrough if k.lower() != "link"]
        if n is not None and len(tags) > n:
            tags = tags[:n]
            link = "%s?%s" % (split.path, urllib.parse.urlencode({"n": n, "last": tags[-1]}))
            if self.link_absolute:
                link = self.url + link
            headers.append(("Link", '<%s>; rel="next"' % link))
        out = json.dumps({"name": doc.get("name"), "tags": tags}).encode()
        self._send(h, record, 200, headers, out)


if __name__ == "__main__":
    # Smoke test against a real registry: forward, fault, redirect, paginate.
    import os
    import sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from registry import Registry
    from regpush import RegistryClient
    with Registry(htpasswd={"u": "p"}) as reg, FaultProxy(reg.url, paginate_tags=True) as px:
        c = RegistryClient(px.url, "u", "p")
        d = c.push_image("web", ["1", "2", "3"], "2026-11-01T10:00:00Z")
        px.add_rule("GET", r"/tags/list", status=429, headers={"Retry-After": "1"})
        try:
            c.list_tags("web")
        except Exception as e:
            print("fault:", e)
        print("pages:", c.list_tags("web", page_size=2), px.count("GET", r"/tags/list"))
        px.add_rule("GET", r"/blobs/", redirect=True)
        print("redirected config:", json.loads(c.request("GET", "/v2/web/blobs/" + d.config_digest,
                                                           repo="web")[2])["created"])
