#!/usr/bin/env python3
"""Run a private Docker engine (dockerd) in swarm mode for tests.

    with Registry() as reg, Dockerd() as d:
        d.host                  -> "unix:///tmp/rewind-dockerd-XXXX/docker.sock"
        d.docker("service", "ls")                       # the docker CLI against it
        digest = d.make_image(reg, "web", "1.0-master", created="2026-11-17T09:00:00Z")
        d.service_create("web", "%s/web:1.0-master@%s" % (reg.host, digest), replicas=2,
                         extra=["--update-monitor", "1s"])
        d.wait_converged("web")                        # every replica running its image
        d.service_image("web")  -> Spec.TaskTemplate.ContainerSpec.Image
        d.service_ps("web")     -> [{"id", "slot", "node", "image", "desired", "state", "err"}, ...]
        d.api("GET", "/services")                      # (status, parsed JSON) over the socket
    Dockerd(tls=True)           # also listens on tcp://127.0.0.1:PORT with --tlsverify:
        d.tcp_host              -> "tcp://127.0.0.1:PORT"
        d.ca_file, d.client_cert, d.client_key         # what a client needs (openssl-made)

The engine is confined to this machine's loopback: `--bridge=none
--iptables=false`, the swarm's ports on 127.0.0.1 (`--listen-addr`, and
`--advertise-addr 127.0.0.1`), no ingress network (services run with
`--network host`). Its data root, exec root, pid file, socket and log live in
one temporary directory; `stop()` (also on leaving the `with` block and at
interpreter exit) removes every service, leaves the swarm, stops dockerd
and its containerd, unmounts what is left and removes the directory.
The registry at 127.0.0.1 needs no --insecure-registry: dockerd treats
127.0.0.0/8 as insecure by default.

Swarm's gossip port (7946 on 127.0.0.1) cannot be moved in 20.10: tests
should use one Dockerd at a time (a module-wide one, with a service per test).

Images are made without docker (`make_image`): the static program
tests/helpers/static/idle.c (built once with `gcc -static`) in one layer, a
config with the given creation time and labels, pushed with regpush's
RegistryClient, so its digest is the registry's. `program=["exit", "1"]`
makes an image whose container exits at once with status 1.

Standard library only; needs dockerd and docker (Debian docker.io 20.10),
gcc with a static libc (libc6-dev), openssl (for tls=True).
"""

import atexit
import gzip
import hashlib
import http.client
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lifecycle import Stoppable, end_process, read_log, remove_dir  # noqa: E402
from regpush import RegistryClient, DOCKER_MANIFEST, DOCKER_CONFIG, DOCKER_LAYER  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DOCKERD_BIN = os.environ.get("REWIND_DOCKERD_BIN", "/usr/sbin/dockerd")
# the CLI of the same release as the engine, when there is one
DOCKER_BIN = os.environ.get("REWIND_DOCKER_BIN") or (
    "/usr/bin/docker" if os.path.exists("/usr/bin/docker") else shutil.which("docker") or "docker")
STORAGE_DRIVER = os.environ.get("REWIND_DOCKERD_STORAGE")   # e.g. "vfs" where overlay2 fails
START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0
IDLE_SOURCE = os.path.join(HERE, "static", "idle.c")
IDLE_PATH_IN_IMAGE = "rw-idle"

_idle_binary = None


def free_port(low=1024, high=49151):
    """A TCP port on 127.0.0.1 free a moment ago, within [low, high]."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if low <= port <= high:
            return port
    raise RuntimeError("no free port in %d-%d" % (low, high))


def _run(cmd, timeout=60, env=None, input=None):
    res = subprocess.run(cmd, capture_output=True, timeout=timeout, env=env, input=input,
                         stdin=None if input is not None else subprocess.DEVNULL)
    if res.returncode != 0:
        raise RuntimeError("%s failed (%d): %s%s" % (
            " ".join(cmd), res.returncode, res.stderr.decode(errors="replace"),
            res.stdout.decode(errors="replace")))
    return res.stdout.decode()


def _die_with_parent():
    """dockerd gets SIGTERM if this Python process dies (atexit does not run on SIGKILL)."""
    if threading.current_thread() is threading.main_thread() and shutil.which("setpriv"):
        return ["setpriv", "--pdeathsig", "TERM", "--"]
    return []


# --- images ---------------------------------------------------------------------

def idle_binary():
    """tests/helpers/static/idle.c, built once per process with gcc -static."""
    global _idle_binary
    if _idle_binary and os.path.exists(_idle_binary):
        return _idle_binary
    out_dir = tempfile.mkdtemp(prefix="rewind-idle-")
    atexit.register(shutil.rmtree, out_dir, True)
    out = os.path.join(out_dir, "idle")
    _run([os.environ.get("CC", "cc"), "-static", "-O2", "-s", "-o", out, IDLE_SOURCE])
    _idle_binary = out
    return out


def _layer(binary):
    """A gzip'd tar holding the program; returns (compressed, diff_id). Deterministic."""
    raw = io.BytesIO()
    with open(binary, "rb") as f:
        data = f.read()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo(IDLE_PATH_IN_IMAGE)
        info.size, info.mtime, info.mode = len(data), 0, 0o755
        tar.addfile(info, io.BytesIO(data))
    tar_bytes = raw.getvalue()
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0) as f:
        f.write(tar_bytes)
    return gz.getvalue(), "sha256:" + hashlib.sha256(tar_bytes).hexdigest()


def make_image(registry, repo, tag, created=None, labels=None, program=None, user=None, password=None):
    """Pushes a runnable image (the idle program) as registry/repo:tag; returns its digest.

    registry: a Registry (or its URL). created: RFC 3339 (default: now).
    labels: config labels (default {"rewind.test": "repo:tag"}, which also
    makes every tag's digest different). program: the arguments of the
    program (["exit", "1"]: a container that fails at once).
    """
    url = registry if isinstance(registry, str) else registry.url
    client = RegistryClient(url, user, password, ca_file=getattr(registry, "ca_file", None))
    layer, diff_id = _layer(idle_binary())
    layer_digest = client.push_blob(repo, layer)
    created = created or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    labels = dict(labels or {"rewind.test": "%s:%s" % (repo, tag)})
    config = {
        "architecture": "amd64", "os": "linux", "created": created,
        "config": {"Cmd": ["/" + IDLE_PATH_IN_IMAGE] + list(program or []), "Labels": labels,
                   "Env": ["PATH=/"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": created, "created_by": "tests/helpers/dockerd.py make_image"}],
    }
    config_bytes = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    config_digest = client.push_blob(repo, config_bytes)
    manifest = {
        "schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
        "config": {"mediaType": DOCKER_CONFIG, "size": len(config_bytes), "digest": config_digest},
        "layers": [{"mediaType": DOCKER_LAYER, "size": len(layer), "digest": layer_digest}],
    }
    body = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    return client.put_manifest(repo, tag, body, DOCKER_MANIFEST)


# --- TLS --------------------------------------------------------------------------

def make_tls(directory):
    """CA, server (127.0.0.1, localhost) and client certificates; returns a dict of paths."""
    from registry import make_ca_and_server_cert
    ca, cert, key = make_ca_and_server_cert(directory)
    ca_key = os.path.join(directory, "ca.key")
    client_key = os.path.join(directory, "client.key")
    client_csr = os.path.join(directory, "client.csr")
    client_cert = os.path.join(directory, "client.pem")
    ext = os.path.join(directory, "client.ext")
    _run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-sha256",
          "-subj", "/CN=rewind test client", "-keyout", client_key, "-out", client_csr])
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=clientAuth\n")
    _run(["openssl", "x509", "-req", "-in", client_csr, "-CA", ca, "-CAkey", ca_key,
          "-CAcreateserial", "-days", "3", "-sha256", "-extfile", ext, "-out", client_cert])
    for p in (key, client_key, ca_key):
        os.chmod(p, 0o600)
    return {"ca": ca, "server_cert": cert, "server_key": key,
            "client_cert": client_cert, "client_key": client_key}


# --- the engine's API over its unix socket -------------------------------------------

class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=60):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


class Dockerd(Stoppable):
    """A private dockerd in swarm mode. See the module docstring."""

    def __init__(self, tls=False, start=True):
        self.tls = bool(tls)
        # short: a unix socket path must fit in 108 bytes
        self.dir = tempfile.mkdtemp(prefix="rw-dockerd-", dir="/tmp")
        self.socket_path = os.path.join(self.dir, "docker.sock")
        self.host = "unix://" + self.socket_path
        self.data_root = os.path.join(self.dir, "data")
        self.exec_root = os.path.join(self.dir, "exec")
        self.pid_file = os.path.join(self.dir, "dockerd.pid")
        self.log_file = os.path.join(self.dir, "dockerd.log")
        self.config_dir = os.path.join(self.dir, "cli")        # the CLI's DOCKER_CONFIG
        self.tcp_host = self.tcp_port = None
        self.ca_file = self.client_cert = self.client_key = None
        self.proc = None
        self._log_fh = None
        os.makedirs(self.config_dir)
        with self._starting():
            if start:
                self.start()

    # --- public --------------------------------------------------------------

    def docker(self, *args, check=True, timeout=120):
        """Runs the docker CLI against this engine; returns stdout (raises on failure if check)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        env["DOCKER_CONFIG"] = self.config_dir
        cmd = [DOCKER_BIN, "-H", self.host] + [str(a) for a in args]
        if check:
            return _run(cmd, timeout=timeout, env=env)
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                             stdin=subprocess.DEVNULL)
        return res

    def api(self, method, path, body=None, timeout=60):
        """One Engine API request over the socket: (status, parsed JSON or text)."""
        conn = _UnixConnection(self.socket_path, timeout)
        try:
            data = json.dumps(body).encode() if body is not None else None
            headers = {"Content-Type": "application/json"} if data is not None else {}
            conn.request(method, "/v1.41" + path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            try:
                return resp.status, json.loads(raw) if raw else None
            except ValueError:
                return resp.status, raw.decode(errors="replace")
        finally:
            conn.close()

    def make_image(self, registry, repo, tag, **kw):
        """make_image() of this module (needs no engine; here for convenience)."""
        return make_image(registry, repo, tag, **kw)

    def service_create(self, name, image, replicas=1, extra=(), wait=True, mode=None):
        """docker service create --network host; waits until every task runs (wait=True)."""
        args = ["service", "create", "--detach", "--network", "host", "--name", name,
                "--no-resolve-image", "--stop-grace-period", "2s"]
        if mode == "global":
            args += ["--mode", "global"]
        else:
            args += ["--replicas", str(replicas)]
        self.docker(*(args + list(extra) + [image]))
        if wait:
            self.wait_converged(name)
        return name

    def service(self, name):
        status, svc = self.api("GET", "/services/" + name)
        if status != 200:
            raise RuntimeError("GET /services/%s: %s %s" % (name, status, svc))
        return svc

    def service_image(self, name):
        return self.service(name)["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]

    def service_ps(self, name):
        """Every task of the service, newest first."""
        svc = self.service(name)
        status, tasks = self.api("GET", "/tasks?filters=" + _quote(json.dumps({"service": [svc["ID"]]})))
        if status != 200:
            raise RuntimeError("GET /tasks: %s %s" % (status, tasks))
        out = [{"id": t["ID"], "slot": t.get("Slot"), "node": t.get("NodeID"),
                "image": t["Spec"]["ContainerSpec"]["Image"], "desired": t.get("DesiredState"),
                "state": t["Status"]["State"], "err": t["Status"].get("Err", ""),
                "timestamp": t["Status"].get("Timestamp", "")} for t in tasks]
        return sorted(out, key=lambda t: t["timestamp"], reverse=True)

    def running_images(self, name):
        """The images of the tasks that run now (desired and actual state running)."""
        return sorted(t["image"] for t in self.service_ps(name)
                      if t["desired"] == "running" and t["state"] == "running")

    def wait_converged(self, name, timeout=60):
        """Until every replica runs the configured image (raises with the tasks if not)."""
        deadline = time.monotonic() + timeout
        while True:
            svc = self.service(name)
            image = svc["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]
            mode = svc["Spec"]["Mode"]
            want = mode["Replicated"].get("Replicas", 1) if "Replicated" in mode else None
            running = [i for i in self.running_images(name) if i == image]
            if (want is None and running) or (want is not None and len(running) == want):
                return
            if time.monotonic() > deadline:
                raise RuntimeError("service %s did not converge on %s: %s" % (
                    name, image, json.dumps(self.service_ps(name), indent=1)))
            time.sleep(0.2)

    def service_rm(self, name):
        self.docker("service", "rm", name, check=False)

    def log(self):
        return read_log(self.log_file)

    def start(self):
        if self.proc:
            return
        _sweep_stale()
        cmd = [DOCKERD_BIN, "--bridge=none", "--iptables=false", "--ip6tables=false",
               "--data-root", self.data_root, "--exec-root", self.exec_root,
               "--pidfile", self.pid_file, "-H", self.host]
        if STORAGE_DRIVER:
            cmd += ["--storage-driver", STORAGE_DRIVER]
        if self.tls:
            tls_dir = os.path.join(self.dir, "tls")
            os.makedirs(tls_dir)
            tls = make_tls(tls_dir)
            self.tcp_port = free_port()
            self.tcp_host = "tcp://127.0.0.1:%d" % self.tcp_port
            self.ca_file, self.client_cert, self.client_key = tls["ca"], tls["client_cert"], tls["client_key"]
            cmd += ["-H", self.tcp_host, "--tlsverify", "--tlscacert", tls["ca"],
                    "--tlscert", tls["server_cert"], "--tlskey", tls["server_key"]]
        self._log_fh = open(self.log_file, "ab")
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        self.proc = subprocess.Popen(_die_with_parent() + cmd, stdin=subprocess.DEVNULL,
                                     stdout=self._log_fh, stderr=subprocess.STDOUT,
                                     cwd=self.dir, env=env, start_new_session=True)
        self._wait_ping()
        self.docker("swarm", "init", "--advertise-addr", "127.0.0.1",
                    "--listen-addr", "127.0.0.1:%d" % free_port(),
                    "--data-path-port", str(free_port()))
        # services here use the host's network: no routing mesh, no VXLAN port
        status, body = self.api("DELETE", "/networks/ingress")
        if status not in (200, 204, 404):
            raise RuntimeError("removing the ingress network: %s %s" % (status, body))

    def _stop(self):
        """Removes everything this engine made (idempotent)."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                self._remove_services()
                self.docker("swarm", "leave", "--force", check=False, timeout=60)
                self.docker("network", "rm", "docker_gwbridge", check=False, timeout=30)
            except Exception:
                pass
        self._kill()
        self._unmount()
        remove_dir(self.dir)

    def __repr__(self):
        return "<Dockerd %s%s>" % (self.host, " " + self.tcp_host if self.tcp_host else "")

    # --- internals -----------------------------------------------------------

    def _wait_ping(self):
        deadline = time.monotonic() + START_TIMEOUT
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("dockerd exited with %s:\n%s" % (self.proc.returncode, self.log()[-4000:]))
            try:
                conn = _UnixConnection(self.socket_path, 2)
                conn.request("GET", "/_ping")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
                conn.close()
            except OSError as e:
                last = e
            time.sleep(0.1)
        raise RuntimeError("dockerd not answering /_ping after %.0fs (%s):\n%s"
                           % (START_TIMEOUT, last, self.log()[-4000:]))

    def _remove_services(self):
        status, services = self.api("GET", "/services", timeout=30)
        for svc in services if status == 200 else []:
            self.api("DELETE", "/services/" + svc["ID"], timeout=30)

    def _kill(self):
        proc, self.proc = self.proc, None
        # SIGKILL goes to dockerd's own group: its containerd too
        end_process(proc, STOP_TIMEOUT, kill_group=True)
        if self._log_fh:
            self._log_fh.close()
            self._log_fh = None

    def _unmount(self):
        if self.dir:
            _unmount_under(self.dir)


def _unmount_under(directory):
    """Mounts dockerd left under directory (overlays, netns, shm), deepest first."""
    try:
        with open("/proc/self/mounts") as f:
            points = [line.split()[1].replace("\\040", " ") for line in f]
    except OSError:
        return
    mine = [p for p in points if p == directory or p.startswith(directory + "/")]
    for p in sorted(set(mine), key=len, reverse=True):
        subprocess.run(["umount", "-l", p], capture_output=True)


def _sweep_stale():
    """Directories of engines whose test process was killed (no atexit): their
    dockerd is gone (pid file naming no process), so their mounts and files go."""
    for name in os.listdir("/tmp"):
        d = os.path.join("/tmp", name)
        if not name.startswith("rw-dockerd-") or not os.path.isdir(d):
            continue
        try:
            with open(os.path.join(d, "dockerd.pid")) as f:
                os.kill(int(f.read().strip()), 0)
            continue                      # its dockerd runs: someone's live engine
        except (OSError, ValueError):
            pass
        if time.time() - os.path.getmtime(d) < 120:
            continue                      # maybe starting right now
        _unmount_under(d)
        shutil.rmtree(d, ignore_errors=True)


def _quote(s):
    from urllib.parse import quote
    return quote(s, safe="")


if __name__ == "__main__":
    # Smoke test: an image from a real registry runs as a swarm service.
    from registry import Registry
    with Registry() as reg, Dockerd(tls="--tls" in sys.argv) as d:
        digest = make_image(reg, "smoke", "1.0")
        image = "%s/smoke:1.0@%s" % (reg.host, digest)
        t0 = time.monotonic()
        d.service_create("smoke", image)
        print(d, "service converged in %.1fs:" % (time.monotonic() - t0), d.running_images("smoke"))
    sys.exit(0)
