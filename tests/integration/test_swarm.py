"""The Docker Swarm backend (orchestrator/swarm.c, swarm_ssh.c) against a real
dockerd in swarm mode (tests/helpers/dockerd.py) running services whose
images come from the real test registry, through the orchestrator test
driver (tests/orchestrator/drive.c): over the unix socket, over TCP with TLS
client certificates, and over SSH to a real sshd (tests/helpers/sshd.py).

One registry and one engine (listening on its socket and on TLS) serve the
whole module; every test makes its own services and removes them.

The driver is $REWIND_DRIVE, else build/<variant>/tests/drive, which the
Makefile builds (see drivetest.py).
"""
import base64
import itertools
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from dockerd import Dockerd, make_image
from drivetest import DriveCase, DriveResult, commands, driver
from registry import Registry
from rwtest import VALGRIND, RewindCase
from sshd import Sshd, make_keypair

RUN_TIMEOUT = 240 if VALGRIND else 120
WAIT = "90"           # seconds a `wait` may take (a failing update takes ~15 s)
_names = itertools.count(1)

REG = None            # the registry of the module
D = None              # the engine of the module
IMG = {}              # tag -> "127.0.0.1:PORT/web:TAG@sha256:..."


# --- the module's engine and registry ---------------------------------------------------

def setUpModule():
    global REG, D
    REG = Registry()
    try:
        D = Dockerd(tls=True)
        for tag, created, program in (("1.0-master", "2026-11-17T09:00:00Z", None),
                                      ("1.1-master", "2026-11-20T09:00:00Z", None),
                                      ("1.2-master", "2026-11-21T09:00:00Z", ["exit", "1"])):
            IMG[tag] = "%s/web:%s@%s" % (REG.host, tag, make_image(REG, "web", tag, created=created,
                                                                   program=program))
    except BaseException:
        tearDownModule()
        raise


def tearDownModule():
    global REG, D
    if D:
        D.stop()
    if REG:
        REG.stop()
    D = REG = None


def unique(prefix):
    return "%s%d" % (prefix, next(_names))


class EngineProxy:
    """An HTTP proxy on a unix socket in front of the engine's socket, one request
    per connection; hook(method, path, headers, body) runs before each request is
    passed on (e.g. to change the service behind rewind's back). Records every
    request in .requests as (method, path, headers with lower-case names, body)."""

    def __init__(self, target, hook=None):
        self.target = target
        self.hook = hook
        self.requests = []
        self.dir = tempfile.mkdtemp(prefix="rw-proxy-", dir="/tmp")
        self.path = os.path.join(self.dir, "proxy.sock")
        self.host = "unix://" + self.path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(16)
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        with conn:
            f = conn.makefile("rb")
            line = f.readline().decode()
            if not line.strip():
                return
            method, path, version = line.split()
            raw_headers = []
            while True:
                h = f.readline()
                if h in (b"\r\n", b"\n", b""):
                    break
                raw_headers.append(h.decode().rstrip("\r\n"))
            headers = {k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in raw_headers)}
            if headers.get("expect", "").lower() == "100-continue":
                conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            body = f.read(int(headers.get("content-length", "0")))
            self.requests.append((method, path, headers, body))
            if self.hook:
                self.hook(method, path, headers, body)
            keep = [h for h in raw_headers if not h.lower().startswith(("connection:", "expect:"))]
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as up:
                up.connect(self.target)
                up.sendall(("%s %s %s\r\n%s\r\nConnection: close\r\n\r\n" % (
                    method, path, version, "\r\n".join(keep))).encode() + body)
                while True:
                    chunk = up.recv(65536)
                    if not chunk:
                        break
                    conn.sendall(chunk)

    def posts(self):
        return [r for r in self.requests if r[0] == "POST"]

    def stop(self):
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class TcpCutter:
    """Forwards 127.0.0.1:.port to 127.0.0.1:target until cut() drops every connection."""

    def __init__(self, target):
        self.target = target
        self.conns = []
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                a, _ = self.sock.accept()
            except OSError:
                return
            b = socket.create_connection(("127.0.0.1", self.target))
            with self.lock:
                self.conns += [a, b]
            for src, dst in ((a, b), (b, a)):
                threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pipe(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        with self.lock:
            for c in self.conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self):
        self.sock.close()
        self.cut()
        with self.lock:
            for c in self.conns:
                c.close()


class SwarmCase(DriveCase):
    """Runs the driver against the module's engine, checking it never crashes or leaks."""

    BACKEND = "swarm"
    DRIVE_TIMEOUT = RUN_TIMEOUT

    def service(self, tag="1.1-master", replicas=1, name=None, monitor="1s", extra=(), **kw):
        """A service running web:TAG, removed after the test."""
        name = name or unique("svc")
        args = list(extra) + (["--update-monitor", monitor] if monitor else [])
        self.addCleanup(D.service_rm, name)
        D.service_create(name, IMG[tag], replicas, extra=args, **kw)
        return name

    def options(self, host=None, **opts):
        o = {"swarm_host": host or D.host,
             "http": {"max_retries": 0, "connect_timeout_ms": 5000, "stall_timeout_ms": 30000}}
        o.update(opts)
        return {k: v for k, v in o.items() if v is not None}

    def deploy(self, opts, name, tag, timeout=WAIT, interval="100"):
        """open, current, update to web:TAG and wait; returns the driver's result."""
        return self.ok(opts, ("current", name), ("update", name, IMG[tag]), ("wait", name, "@", timeout, interval))

    def assert_runs(self, name, tag, replicas=1):
        """The engine is configured with web:TAG pinned, and every replica runs it."""
        self.assertEqual(D.service_image(name), IMG[tag])
        self.assertEqual(D.running_images(name), [IMG[tag]] * replicas, json.dumps(D.service_ps(name), indent=1))


# --- the unix socket ------------------------------------------------------------------------

class SwarmUnixTest(SwarmCase):

    def test_rollback_pins_the_digest_and_the_service_runs_the_old_image(self):
        prefix = unique("u") + "_"
        name = self.service("1.1-master", replicas=2, name=prefix + "web")
        started = time.monotonic()
        res = self.ok(self.options(swarm_service_prefix=prefix), ("find", "web"), ("current", name),
                      ("update", name, IMG["1.0-master"]), ("wait", name, "@", WAIT, "100"),
                      ("describe", name, IMG["1.0-master"]), ("warning", name), ("publish", "msg"))
        self.assertEqual(res.of("find")[0]["app_id"], name)
        self.assertEqual(res.of("current")[0]["image"], IMG["1.1-master"])
        self.assertEqual(res.of("update")[0]["deploy_id"], IMG["1.0-master"])
        wait = res.of("wait")[0]
        self.assertEqual(wait["state"], "done", repr(res))
        self.assertEqual(wait["states"], ["running", "done"])
        # done only after the tasks ran the image for the monitor period (1 s)
        self.assertGreaterEqual(time.monotonic() - started, 1.0, repr(res))
        self.assert_runs(name, "1.0-master", 2)
        old = [t for t in D.service_ps(name) if t["image"] == IMG["1.1-master"]]
        self.assertTrue(old and all(t["desired"] == "shutdown" for t in old), old)
        self.assertIn(name, res.of("describe")[0]["text"])
        self.assertIn(IMG["1.0-master"], res.of("describe")[0]["text"])
        self.assertIsNone(res.of("warning")[0]["text"])
        self.assertTrue(res.of("publish")[0]["skipped"])

    def test_every_other_field_of_the_spec_is_kept(self):
        name = self.service("1.1-master", extra=["--env", "GREETING=grüß dich", "--label", "team=ds",
                                                 "--container-label", "c=1", "--restart-max-attempts", "7",
                                                 "--update-order", "start-first", "--limit-memory", "64M",
                                                 "--hostname", "web-host"])
        before = D.service(name)["Spec"]
        self.deploy(self.options(), name, "1.0-master")
        after = D.service(name)["Spec"]
        self.assertEqual(after["TaskTemplate"]["ContainerSpec"].pop("Image"), IMG["1.0-master"])
        self.assertEqual(before["TaskTemplate"]["ContainerSpec"].pop("Image"), IMG["1.1-master"])
        self.assertEqual(after, before)

    def test_a_service_of_the_same_image_is_done_at_once_and_a_global_one_too(self):
        # global mode, the engine's default monitor period (5 s), nothing to change
        name = self.service("1.0-master", mode="global", monitor=None)
        started = time.monotonic()
        res = self.ok(self.options(), ("update", name, IMG["1.0-master"]), ("wait", name, "@", WAIT, "200"))
        wait = res.of("wait")[0]
        self.assertEqual(wait["state"], "done", repr(res))
        self.assertGreaterEqual(time.monotonic() - started, 5.0, repr(res))
        # then a real change of the global service
        res = self.deploy(self.options(), name, "1.1-master", interval="200")
        self.assertEqual(res.of("wait")[0]["state"], "done", repr(res))
        self.assert_runs(name, "1.1-master")

    def test_a_deploy_that_fails_is_failed_with_the_engines_message(self):
        # the default failure action: the engine pauses the update
        name = self.service("1.1-master")
        res = self.ok(self.options(), ("update", name, IMG["1.2-master"]), ("wait", name, "@", WAIT, "200"))
        wait = res.of("wait")[0]
        self.assertEqual(wait["state"], "failed", repr(res))
        self.assertIn("update paused", wait["detail"])
        self.assertIn("update paused due to failure or early termination of task", wait["detail"])
        self.assertIn("non-zero exit (1)", wait["detail"])

    def test_a_deploy_the_engine_rolls_back_is_failed_and_the_old_image_runs_again(self):
        name = self.service("1.1-master", extra=["--update-failure-action", "rollback"])
        res = self.ok(self.options(), ("update", name, IMG["1.2-master"]), ("wait", name, "@", WAIT, "200"))
        wait = res.of("wait")[0]
        self.assertEqual(wait["state"], "failed", repr(res))
        self.assertIn("update rollback_", wait["detail"])
        self.assertIn("non-zero exit (1)", wait["detail"])
        D.wait_converged(name)
        self.assert_runs(name, "1.1-master")

    def test_an_image_without_digest_is_refused(self):
        name = self.service("1.1-master", replicas=0)
        unpinned = IMG["1.0-master"].split("@")[0]
        res = self.fails(9, self.options(), "update", name, unpinned)
        self.assertIn("without a digest", res.last["error"])
        self.assertEqual(D.service_image(name), IMG["1.1-master"])

    def test_an_update_in_progress_is_superseded_only_when_forced(self):
        name = self.service("1.1-master", replicas=2, extra=["--update-delay", "60s"])
        D.docker("service", "update", "--detach", "--no-resolve-image", "--image", IMG["1.0-master"], name)
        deadline = time.monotonic() + 30
        while (D.service(name).get("UpdateStatus") or {}).get("State") != "updating":
            self.assertLess(time.monotonic(), deadline, D.service(name))
            time.sleep(0.1)
        res = self.fails(9, self.options(), "update", name, IMG["1.1-master"])
        self.assertIn("in the middle of another update (updating)", res.last["error"])
        self.assertEqual(D.service_image(name), IMG["1.0-master"])
        self.ok(self.options(), "update", name, IMG["1.1-master"], "force")
        self.assertEqual(D.service_image(name), IMG["1.1-master"])

    def test_a_missing_service_is_an_error_with_the_engines_message(self):
        res = self.fails(9, self.options(app_ids={"web": "no-such-service"}), ("find", "web"),
                         ("current", "no-such-service"))
        self.assertEqual(res.of("find")[0]["app_id"], "no-such-service")
        self.assertIn("docker engine at %s: service 'no-such-service'" % D.host, res.last["error"])
        self.assertIn("HTTP 404: service no-such-service not found", res.last["error"])

    def test_an_engine_that_is_not_there(self):
        res = self.fails(9, self.options(host="unix:///tmp/rw-no-such-dir/docker.sock"), "open")
        self.assertEqual(res.last["command"], "open")
        self.assertIn("docker engine at unix:///tmp/rw-no-such-dir/docker.sock: listing services:", res.last["error"])

    def test_bad_hosts_are_configuration_errors(self):
        for host, why in (("http://127.0.0.1:2375", "expected unix:///path"),
                          ("unix://relative.sock", "absolute"),
                          ("ssh://user:secret@127.0.0.1", "no password"),
                          ("ssh://127.0.0.1:99999", "bad port"),
                          ("ssh://127.0.0.1/var/run/docker.sock", "no path")):
            res = self.fails(3, self.options(host=host), "open")
            self.assertEqual(res.last["command"], "new")
            self.assertIn(why, res.last["error"])
            self.assertNotIn("secret", res.err)
        res = self.fails(3, self.options(swarm_tls_cert=D.client_cert), "open")
        self.assertIn("needs its key", res.last["error"])


class SwarmMappingTest(SwarmCase):
    """find_app: rw_orchestrator_match over the service names."""

    def test_mapping(self):
        p = unique("m")
        for n in ("%s_prod_cart" % p, "%s_staging_cart" % p, "%s_prod_web" % p, "%s_prod_web-admin" % p):
            self.service("1.1-master", replicas=0, name=n)
        prefix = "%s_prod_" % p
        res = self.ok(self.options(swarm_service_prefix=prefix), ("find", "cart"), ("find", "team/web"))
        self.assertEqual([r["app_id"] for r in res.of("find")], ["%s_prod_cart" % p, "%s_prod_web" % p])
        res = self.fails(9, self.options(swarm_service_prefix=p), "find", "cart")
        self.assertIn("repository 'cart' matches 2 apps (", res.last["error"])
        self.assertIn("%s_prod_cart" % p, res.last["error"])
        self.assertIn("%s_staging_cart" % p, res.last["error"])
        res = self.fails(9, self.options(swarm_service_prefix=prefix), "find", "billing")
        self.assertIn("no app for repository 'billing' under '%s'" % prefix, res.last["error"])
        res = self.ok(self.options(swarm_service_prefix=prefix, app_ids={"cart": "%s_staging_cart" % p}),
                      ("find", "cart"), ("current", "%s_staging_cart" % p))
        self.assertEqual(res.of("find")[0]["app_id"], "%s_staging_cart" % p)
        self.assertEqual(res.of("current")[0]["image"], IMG["1.1-master"])


class SwarmConcurrencyTest(SwarmCase):
    """Someone changes the service between rewind's read and its write."""

    def proxy(self, hook):
        p = EngineProxy(D.socket_path, hook)
        self.addCleanup(p.stop)
        return p

    def test_update_out_of_sequence_is_read_again_and_retried(self):
        name = self.service("1.1-master")
        bumped = []

        def bump(method, path, headers, body):
            if method == "POST" and not bumped:
                bumped.append(path)
                D.docker("service", "update", "--detach", "--label-add", "changed-meanwhile=yes", name)

        p = self.proxy(bump)
        res = self.deploy(self.options(host=p.host), name, "1.0-master")
        self.assertEqual(res.of("wait")[0]["state"], "done", repr(res))
        posts = p.posts()
        self.assertEqual(len(posts), 2, posts)
        v1 = int(posts[0][1].split("version=")[1])
        v2 = int(posts[1][1].split("version=")[1])
        self.assertGreater(v2, v1)
        self.assertEqual(json.loads(posts[1][3])["TaskTemplate"]["ContainerSpec"]["Image"], IMG["1.0-master"])
        # the other change is kept: rewind wrote on top of it, not over it
        self.assertEqual(D.service(name)["Spec"]["Labels"].get("changed-meanwhile"), "yes")
        self.assert_runs(name, "1.0-master")
        # no credentials for this registry: no X-Registry-Auth
        self.assertNotIn("x-registry-auth", posts[1][2])

    def test_a_service_that_keeps_changing_is_given_up_on(self):
        name = self.service("1.1-master", replicas=0)
        n = itertools.count()

        def bump(method, path, headers, body):
            if method == "POST":
                D.docker("service", "update", "--detach", "--label-add", "bump=%d" % next(n), name)

        p = self.proxy(bump)
        res = self.fails(9, self.options(host=p.host), "update", name, IMG["1.0-master"])
        self.assertEqual(len(p.posts()), 5)
        self.assertIn("kept changing under rewind (5 attempts)", res.last["error"])
        self.assertIn("update out of sequence", res.last["error"])
        self.assertEqual(D.service_image(name), IMG["1.1-master"])

    def test_docker_login_credentials_go_to_the_nodes(self):
        name = self.service("1.1-master", replicas=0)
        secret = "pa55-word-%d" % os.getpid()
        cfg = os.path.join(self.tmp, "docker-config")
        os.makedirs(cfg)
        with open(os.path.join(cfg, "config.json"), "w") as f:
            json.dump({"auths": {"other.example.com": {"auth": base64.b64encode(b"x:y").decode()},
                                 REG.host: {"auth": base64.b64encode(("ci:" + secret).encode()).decode()}}}, f)
        p = self.proxy(None)
        res = self.ok(self.options(host=p.host), "update", name, IMG["1.0-master"],
                      env={"DOCKER_CONFIG": cfg}, verbose="-vv")
        header = p.posts()[0][2]["x-registry-auth"]
        auth = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
        self.assertEqual(auth, {"username": "ci", "password": secret, "serveraddress": REG.host})
        self.assertNotIn(secret, res.err + res.out)
        self.assertNotIn(header, res.err + res.out)

    def test_only_docker_hubs_own_keys_are_sent_to_docker_hub(self):
        name = self.service("1.1-master", replicas=0)
        secret = "pa55-word-%d" % os.getpid()
        auth = base64.b64encode(("ci:" + secret).encode()).decode()
        cfg = os.path.join(self.tmp, "docker-config")
        os.makedirs(cfg)
        config = os.path.join(cfg, "config.json")
        # keys that are mere prefixes of Docker Hub's names ("registry-1.docker.io", "index.docker.io")
        with open(config, "w") as f:
            json.dump({"auths": {"registry": {"auth": auth}, "index": {"auth": auth}, "": {"auth": auth}}}, f)
        hub = "docker.io/library/web:1.0-master@" + IMG["1.0-master"].split("@")[1]
        p = self.proxy(None)
        self.ok(self.options(host=p.host), "update", name, hub, env={"DOCKER_CONFIG": cfg})
        self.assertNotIn("x-registry-auth", p.posts()[0][2])
        # Docker Hub's own key, as docker login writes it, does go
        with open(config, "w") as f:
            json.dump({"auths": {"registry": {"auth": base64.b64encode(b"x:y").decode()},
                                 "https://index.docker.io/v1/": {"auth": auth}}}, f)
        res = self.ok(self.options(host=p.host), "update", name, hub, env={"DOCKER_CONFIG": cfg}, verbose="-vv")
        header = p.posts()[1][2]["x-registry-auth"]
        self.assertEqual(json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))),
                         {"username": "ci", "password": secret, "serveraddress": "https://index.docker.io/v1/"})
        self.assertNotIn(secret, res.err + res.out)


# --- TCP with TLS ---------------------------------------------------------------------------

class SwarmTlsTest(SwarmCase):

    def test_tls_with_a_client_certificate(self):
        name = self.service("1.1-master")
        opts = self.options(host=D.tcp_host, swarm_tls_ca=D.ca_file, swarm_tls_cert=D.client_cert,
                            swarm_tls_key=D.client_key)
        res = self.deploy(opts, name, "1.0-master")
        self.assertEqual(res.of("wait")[0]["state"], "done", repr(res))
        self.assert_runs(name, "1.0-master")
        self.assertNotIn("plain HTTP", res.err)

    def test_tls_without_a_client_certificate_is_a_clear_error(self):
        res = self.fails(9, self.options(host=D.tcp_host, swarm_tls_ca=D.ca_file), "open")
        self.assertIn("docker engine at %s: listing services:" % D.tcp_host, res.last["error"])
        self.assertIn("client certificate", res.last["error"])

    def test_an_engine_certificate_from_another_ca_is_refused(self):
        other = os.path.join(self.tmp, "other-ca")
        os.makedirs(other)
        from registry import make_ca_and_server_cert
        ca, _, _ = make_ca_and_server_cert(other)
        res = self.fails(9, self.options(host=D.tcp_host, swarm_tls_ca=ca, swarm_tls_cert=D.client_cert,
                                         swarm_tls_key=D.client_key), "open")
        self.assertIn("(TLS)", res.last["error"])
        self.assertIn("certificate", res.last["error"])

    def test_plain_http_to_a_tls_engine(self):
        res = self.fails(9, self.options(host=D.tcp_host), "open")
        self.assertIn("plain HTTP", res.err)
        self.assertIn("HTTP 400: Client sent an HTTP request to an HTTPS server", res.last["error"])


# --- SSH ----------------------------------------------------------------------------------

class SwarmSshTest(SwarmCase):

    def sshd(self, keys, docker_host=None):
        s = Sshd(authorized_keys=keys, extra_config={"SetEnv": "DOCKER_HOST=" + (docker_host or D.host)})
        self.addCleanup(s.stop)
        return s

    def ssh_options(self, s, key, known_hosts=None, **kw):
        return self.options(host="ssh://%s@127.0.0.1:%d" % (s.user, s.port), swarm_ssh_key=key,
                            swarm_known_hosts=known_hosts or s.known_hosts_file, **kw)

    def setUp(self):
        super().setUp()
        self.key, self.pub = make_keypair(os.path.join(self.tmp, "keys"))

    def test_deploy_over_ssh(self):
        # a 100 kB label: the spec crosses the bridge both ways in many pieces
        big = "".join(chr(ord("a") + i % 26) for i in range(100000))
        name = self.service("1.1-master", extra=["--label", "big=" + big])
        s = self.sshd([self.pub])
        res = self.deploy(self.ssh_options(s, self.key), name, "1.0-master")
        self.assertEqual(res.of("current")[0]["image"], IMG["1.1-master"])
        self.assertEqual(res.of("wait")[0]["state"], "done", repr(res))
        self.assert_runs(name, "1.0-master")
        self.assertEqual(D.service(name)["Spec"]["Labels"]["big"], big)

    def test_the_agent_default_key_and_default_known_hosts(self):
        name = self.service("1.1-master", replicas=0)
        s = self.sshd([self.pub])
        ssh_dir = os.path.join(self.home, ".ssh")
        os.makedirs(ssh_dir)
        shutil.copy(s.known_hosts_file, os.path.join(ssh_dir, "known_hosts"))
        agent_sock = os.path.join(self.tmp, "agent.sock")
        agent = subprocess.Popen(["ssh-agent", "-D", "-a", agent_sock], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        self.addCleanup(agent.wait)
        self.addCleanup(agent.terminate)
        deadline = time.monotonic() + 10
        while not os.path.exists(agent_sock):
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        subprocess.run(["ssh-add", self.key], env=dict(os.environ, SSH_AUTH_SOCK=agent_sock),
                       check=True, capture_output=True)
        opts = self.options(host="ssh://%s@127.0.0.1:%d" % (s.user, s.port))
        res = self.ok(opts, "current", name, env={"SSH_AUTH_SOCK": agent_sock})
        self.assertEqual(res.last["image"], IMG["1.1-master"])
        # the same, with the key in ~/.ssh instead of an agent
        shutil.copy(self.key, os.path.join(ssh_dir, "id_ed25519"))
        shutil.copy(self.pub, os.path.join(ssh_dir, "id_ed25519.pub"))
        res = self.ok(opts, "current", name)
        self.assertEqual(res.last["image"], IMG["1.1-master"])

    def test_hashed_known_hosts(self):
        name = self.service("1.1-master", replicas=0)
        s = self.sshd([self.pub])
        kh = os.path.join(self.tmp, "known_hosts")
        with open(kh, "w") as f:
            f.write("# comment\n\n@cert-authority *.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n")
            f.write("other.example.com ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ==\n")
            f.write(s.host_key_line() + "\n")
        subprocess.run(["ssh-keygen", "-H", "-f", kh], check=True, capture_output=True)
        with open(kh) as f:
            self.assertNotIn("127.0.0.1", f.read())
        res = self.ok(self.ssh_options(s, self.key, kh), "current", name)
        self.assertEqual(res.last["image"], IMG["1.1-master"])

    def test_a_wrong_key_is_refused(self):
        s = self.sshd([self.pub])
        other, _ = make_keypair(os.path.join(self.tmp, "other"))
        res = self.fails(9, self.ssh_options(s, other), "open")
        self.assertIn("SSH authentication refused: user '%s' with key '%s'" % (s.user, other), res.last["error"])
        res = self.fails(9, self.ssh_options(s, os.path.join(self.tmp, "no-such-key")), "open")
        self.assertIn("cannot read SSH key", res.last["error"])

    def test_an_unknown_host_key_is_refused(self):
        s = self.sshd([self.pub])
        empty = self.write("empty_known_hosts", "")
        res = self.fails(9, self.ssh_options(s, self.key, empty), "open")
        self.assertIn("unknown host key (ssh-ed25519 SHA256:", res.last["error"])
        self.assertIn("not in %s" % empty, res.last["error"])
        fp = subprocess.run(["ssh-keygen", "-l", "-f", s.host_key_file + ".pub"], capture_output=True,
                            text=True, check=True).stdout.split()[1]
        self.assertIn(fp, res.last["error"])
        res = self.fails(9, self.ssh_options(s, self.key, os.path.join(self.tmp, "none")), "open")
        self.assertIn("(no such file)", res.last["error"])

    def test_a_changed_host_key_is_refused(self):
        s = self.sshd([self.pub])
        _, impostor = make_keypair(os.path.join(self.tmp, "impostor"))
        with open(impostor) as f:
            kind, blob = f.read().split()[:2]
        kh = self.write("known_hosts", "[127.0.0.1]:%d %s %s\n" % (s.port, kind, blob))
        res = self.fails(9, self.ssh_options(s, self.key, kh), "open")
        self.assertIn("HOST KEY MISMATCH", res.last["error"])
        self.assertIn("%s:1" % kh, res.last["error"])

    def test_a_connection_that_drops(self):
        name = self.service("1.1-master", replicas=0)
        s = self.sshd([self.pub])
        cutter = TcpCutter(s.port)
        self.addCleanup(cutter.stop)
        kh = self.write("known_hosts", s.host_key_line().replace(":%d " % s.port, ":%d " % cutter.port) + "\n")
        path = os.path.join(self.tmp, "options-drop.json")
        with open(path, "w") as f:
            json.dump(self.options(host="ssh://%s@127.0.0.1:%d" % (s.user, cutter.port), swarm_ssh_key=self.key,
                                   swarm_known_hosts=kh), f)
        cmd = [driver(), "swarm", path] + commands((("current", name), ("sleep", "3000"), ("current", name)))
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=self.env(), cwd=self.cwd)
        first = proc.stdout.readline()
        self.assertIn(IMG["1.1-master"], first)
        cutter.cut()                  # the network between rewind and sshd goes away
        out, err = proc.communicate(timeout=RUN_TIMEOUT)
        res = DriveResult(proc.returncode, first + out, err)
        self.assertEqual(res.code, 9, repr(res))
        self.assertIn("docker engine at ssh://%s@127.0.0.1:%d: service '%s':" % (s.user, cutter.port, name),
                      res.last["error"])
        self.assertIn("SSH connection lost", res.last["error"])
        for bad in ("runtime error:", "AddressSanitizer", "LeakSanitizer"):
            self.assertNotIn(bad, res.err, repr(res))

    def test_a_remote_docker_that_cannot_reach_its_engine(self):
        s = self.sshd([self.pub], docker_host="unix:///tmp/rw-no-such-dir/docker.sock")
        res = self.fails(9, self.ssh_options(s, self.key), "open")
        self.assertIn("docker engine at ssh://%s@127.0.0.1:%d: listing services:" % (s.user, s.port),
                      res.last["error"])
        self.assertIn("the remote `docker system dial-stdio` said:", res.last["error"])
        self.assertIn("/tmp/rw-no-such-dir/docker.sock", res.last["error"])


if __name__ == "__main__":
    unittest.main()


# --- rewind run and undo, end to end ----------------------------------------------------------

class RunOnSwarm(RewindCase):
    """`rewind run` rolls a real swarm service back; `rewind undo` puts it back."""

    def setUp(self):
        super().setUp()
        self.name = unique("prod_web")
        self.addCleanup(D.service_rm, self.name)
        D.service_create(self.name, IMG["1.1-master"], 2, extra=["--update-monitor", "1s"])
        self.conf = self.write("rewind.conf", """[registry]
    url = %s
[release]
    repos = web
    env = prod
[env "prod"]
    tag-suffix = master
    orchestrator = swarm
[swarm]
    host = %s
[app "web"]
    id = %s
""" % (REG.url, D.host, self.name))

    def rw(self, *args):
        return self.rewind("--config", self.conf, *args, "--state-dir", os.path.join(self.tmp, "state"),
                           env={"REWIND_POLL_MS": "200"})

    def test_run_and_undo_really_change_what_runs(self):
        res = self.rw("run", "--date", "2026-11-19", "--yes", "--timeout", "120")
        self.assertEqual(res.code, 0, res)
        self.assertEqual(D.service_image(self.name), IMG["1.0-master"])
        self.assertEqual(D.running_images(self.name), [IMG["1.0-master"]] * 2)
        undo = self.rw("undo", "--yes", "--timeout", "120")
        self.assertEqual(undo.code, 0, undo)
        self.assertEqual(D.running_images(self.name), [IMG["1.1-master"]] * 2)

    def test_failing_image_fails_the_run_and_revert_restores_the_service(self):
        res = self.rw("run", "--date", "2026-11-21", "--yes", "--timeout", "120",
                      "--on-failure", "revert", "--force")
        self.assertEqual(res.code, 9, res)
        self.assertIn("web (%s)" % self.name, res.err)
        D.wait_converged(self.name)
        self.assertEqual(D.service_image(self.name), IMG["1.1-master"])
        self.assertEqual(D.running_images(self.name), [IMG["1.1-master"]] * 2)
