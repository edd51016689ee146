#!/usr/bin/env python3
"""Run a real Docker distribution registry (/usr/bin/docker-registry) for tests.

    with Registry() as reg:                       # plain HTTP
        reg.url   -> "http://127.0.0.1:PORT"
        reg.host  -> "127.0.0.1:PORT"
    Registry(htpasswd={"alice": "secret"})        # HTTP Basic auth (bcrypt)
    Registry(token=token_server)                  # Docker token auth (see token_server.py)
    Registry(token=ts, token_realm=url)           # ... with the realm moved (e.g. behind a FaultProxy)
    Registry(tls=True)                            # HTTPS; reg.ca_file is the CA to trust
    Registry(schema1=True)                        # also accept schema1 manifest PUTs
    Registry(extra_config={"http": {...}})        # deep-merged into the generated config

Each instance has its own temporary directory (storage root, config, log,
certificates) and its own free port on 127.0.0.1, so several can run at once.
The registry's stdout/stderr go to `reg.log_file`; `reg.log()` returns it.
Everything is stopped and removed by `stop()`, by leaving the `with` block,
or at interpreter exit.

Standard library only; needs /usr/bin/docker-registry, openssl and htpasswd.
"""

import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from lifecycle import Stoppable, end_process, read_log, remove_dir, spawn_on_free_port

REGISTRY_BIN = os.environ.get("REWIND_REGISTRY_BIN", "/usr/bin/docker-registry")
START_TIMEOUT = 10.0   # seconds to wait for GET /v2/ to answer
STOP_TIMEOUT = 5.0     # seconds to wait after SIGTERM before SIGKILL
PORT_ATTEMPTS = 3      # another process may grab our free port between probe and bind

def free_port():
    """A port on 127.0.0.1 that was free a moment ago (the kernel picked it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, timeout=30, **kw):
    """Run a helper CLI (openssl, htpasswd); raise with its stderr on failure."""
    res = subprocess.run(cmd, capture_output=True, timeout=timeout, **kw)
    if res.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (
            " ".join(cmd), res.returncode, res.stderr.decode(errors="replace")))
    return res.stdout


def _die_with_parent():
    """Command prefix so the registry gets SIGTERM if this Python process is killed.

    atexit does not run on SIGKILL (e.g. a test-runner timeout), and an orphaned
    registry would outlive the test. Linux sends the parent-death signal when
    the *thread* that forked exits, so only use it from the main thread.
    """
    if threading.current_thread() is threading.main_thread() and shutil.which("setpriv"):
        return ["setpriv", "--pdeathsig", "TERM", "--"]
    return []


def make_ca_and_server_cert(directory, names=("127.0.0.1", "localhost")):
    """Create ca.pem/ca.key and server.pem/server.key (signed by the CA) in directory.

    The server certificate carries subjectAltName entries for `names` (IP: for
    addresses, DNS: otherwise); clients verify against SAN, not CN.
    Returns (ca_file, cert_file, key_file).
    """
    ca_key = os.path.join(directory, "ca.key")
    ca_pem = os.path.join(directory, "ca.pem")
    key = os.path.join(directory, "server.key")
    csr = os.path.join(directory, "server.csr")
    pem = os.path.join(directory, "server.pem")
    ext = os.path.join(directory, "server.ext")
    run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256",
         "-days", "3", "-subj", "/CN=rewind test CA",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign",
         "-keyout", ca_key, "-out", ca_pem])
    run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-sha256",
         "-subj", "/CN=%s" % names[0], "-keyout", key, "-out", csr])
    sans = ",".join(("IP:%s" if _is_ip(n) else "DNS:%s") % n for n in names)
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectAltName=%s\n" % sans)
    run(["openssl", "x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey", ca_key,
         "-CAcreateserial", "-days", "3", "-sha256", "-extfile", ext, "-out", pem])
    return ca_pem, pem, key


def _is_ip(name):
    try:
        socket.inet_pton(socket.AF_INET, name)
        return True
    except OSError:
        return ":" in name   # IPv6 literal


def to_yaml(value, indent=0):
    """Tiny YAML writer for nested dicts/lists/scalars (enough for registry config).

    Strings are emitted JSON-quoted, which is valid YAML and avoids any
    ambiguity (e.g. "true", ":5000", paths with colons).
    """
    pad = "  " * indent
    lines = []
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, (dict, list)) and v:
                lines.append("%s%s:" % (pad, k))
                lines.append(to_yaml(v, indent + 1))
            else:
                lines.append("%s%s: %s" % (pad, k, _scalar(v)))
    elif isinstance(value, list):
        for v in value:
            if isinstance(v, (dict, list)) and v:
                lines.append("%s-" % pad)
                lines.append(to_yaml(v, indent + 1))
            else:
                lines.append("%s- %s" % (pad, _scalar(v)))
    else:
        lines.append(pad + _scalar(value))
    return "\n".join(lines)


def _scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if v is None:
        return "null"
    if isinstance(v, dict):
        return "{}"
    if isinstance(v, list):
        return "[]"
    return json.dumps(str(v))


def deep_merge(base, extra):
    """Merge dict `extra` into dict `base` recursively (extra wins)."""
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            deep_merge(base[k], v)
        else:
            base[k] = v
    return base


class Registry(Stoppable):
    """A running docker-registry on 127.0.0.1:<free port>. See module docstring."""

    def __init__(self, htpasswd=None, token=None, tls=False, schema1=False,
                 extra_config=None, token_realm=None, start=True):
        if htpasswd and token:
            raise ValueError("choose htpasswd or token auth, not both")
        self.htpasswd = dict(htpasswd or {})
        self.token = token
        self.token_realm = token_realm
        self.tls = bool(tls)
        self.schema1 = bool(schema1)
        self.extra_config = extra_config or {}
        self.dir = tempfile.mkdtemp(prefix="rewind-registry-")
        self.storage_dir = os.path.join(self.dir, "storage")
        self.config_file = os.path.join(self.dir, "config.yml")
        self.log_file = os.path.join(self.dir, "registry.log")
        self.ca_file = self.cert_file = self.key_file = None
        self.htpasswd_file = None
        self.port = None
        self.proc = None
        self._log_fh = None
        os.mkdir(self.storage_dir)
        with self._starting():
            self._prepare_auth_and_tls()
            if start:
                self.start()

    # --- public --------------------------------------------------------------

    @property
    def scheme(self):
        return "https" if self.tls else "http"

    @property
    def host(self):
        return "127.0.0.1:%d" % self.port

    @property
    def url(self):
        return "%s://%s" % (self.scheme, self.host)

    def ssl_context(self):
        """An ssl.SSLContext trusting this registry's CA (None for plain HTTP)."""
        return ssl.create_default_context(cafile=self.ca_file) if self.tls else None

    def log(self):
        """The registry's output so far (for failure messages)."""
        return read_log(self.log_file)

    def start(self):
        if self.proc:
            return
        spawn_on_free_port(self, free_port, PORT_ATTEMPTS, "address already in use")

    def _stop(self):
        """Stop the process and remove the temporary directory (idempotent)."""
        self._kill()
        remove_dir(self.dir)

    def __repr__(self):
        return "<Registry %s>" % (self.url if self.port else "(not started)")

    # --- internals -----------------------------------------------------------

    def _prepare_auth_and_tls(self):
        if self.tls:
            self.ca_file, self.cert_file, self.key_file = make_ca_and_server_cert(self.dir)
        if self.htpasswd:
            self.htpasswd_file = os.path.join(self.dir, "htpasswd")
            with open(self.htpasswd_file, "wb") as f:
                for user, password in self.htpasswd.items():
                    # The registry only honours bcrypt entries (-B).
                    f.write(run(["htpasswd", "-Bbn", user, password]).strip() + b"\n")

    def _config(self):
        cfg = {
            "version": 0.1,
            "log": {"level": "error", "formatter": "text",
                    "accesslog": {"disabled": False}},
            "storage": {
                "filesystem": {"rootdirectory": self.storage_dir},
                "delete": {"enabled": True},
                # No blob descriptor cache: tests delete and re-push freely.
                "maintenance": {"uploadpurging": {"enabled": False}},
            },
            "http": {
                "addr": "127.0.0.1:%d" % self.port,
                # A fixed secret avoids a startup warning and keeps upload
                # state tokens valid for the process lifetime.
                "secret": "rewind-test-secret",
                "headers": {"X-Content-Type-Options": ["nosniff"]},
            },
        }
        if self.tls:
            cfg["http"]["tls"] = {"certificate": self.cert_file, "key": self.key_file}
        if self.htpasswd:
            cfg["auth"] = {"htpasswd": {"realm": "rewind-test", "path": self.htpasswd_file}}
        if self.token is not None:
            cfg["auth"] = {"token": {
                "realm": self.token_realm or self.token.realm,
                "service": self.token.service,
                "issuer": self.token.issuer,
                "rootcertbundle": self.token.cert_file,
            }}
        if self.schema1:
            cfg["compatibility"] = {"schema1": {"enabled": True}}
        return deep_merge(cfg, json.loads(json.dumps(self.extra_config)))

    def _write_config(self):
        with open(self.config_file, "w") as f:
            f.write(to_yaml(self._config()) + "\n")

    def _spawn(self):
        self._log_fh = open(self.log_file, "ab")
        # The registry reads REGISTRY_* env vars as config overrides; make sure
        # nothing from the caller's environment leaks into the test instance.
        env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
        self.proc = subprocess.Popen(
            _die_with_parent() + [REGISTRY_BIN, "serve", self.config_file],
            stdin=subprocess.DEVNULL, stdout=self._log_fh, stderr=subprocess.STDOUT,
            env=env, cwd=self.dir)

    def _wait_ready(self):
        """Poll GET /v2/ until 200 or 401; raise with the log if not within START_TIMEOUT."""
        deadline = time.monotonic() + START_TIMEOUT
        ctx = self.ssl_context()
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("docker-registry exited with %s on %s:\n%s"
                                   % (self.proc.returncode, self.url, self.log()))
            try:
                with urllib.request.urlopen(self.url + "/v2/", timeout=1, context=ctx) as r:
                    if r.status == 200:
                        return
            except urllib.error.HTTPError as e:
                if e.code == 401:
                    return
                last = e
            except (OSError, ssl.SSLError) as e:
                last = e
            time.sleep(0.05)
        raise RuntimeError("docker-registry on %s not ready after %.0fs (%s):\n%s"
                           % (self.url, START_TIMEOUT, last, self.log()))

    def _kill(self):
        proc, self.proc = self.proc, None
        end_process(proc, STOP_TIMEOUT)
        if self._log_fh:
            self._log_fh.close()
            self._log_fh = None


if __name__ == "__main__":
    # Smoke test: start each variant, print its URL and the /v2/ status.
    import base64
    for kwargs in ({}, {"htpasswd": {"alice": "pw"}}, {"tls": True}):
        with Registry(**kwargs) as reg:
            req = urllib.request.Request(reg.url + "/v2/")
            if kwargs.get("htpasswd"):
                req.add_header("Authorization", "Basic " + base64.b64encode(b"alice:pw").decode())
            with urllib.request.urlopen(req, timeout=5, context=reg.ssl_context()) as r:
                print(kwargs, reg.url, r.status)
    sys.exit(0)
