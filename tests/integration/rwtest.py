"""What the integration tests share: running rewind as a user would, in a
clean environment (own HOME, cache and working directory; no REWIND_*
variables inherited), and pushing release histories to a real registry."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from regpush import RegistryClient

BIN = os.environ.get("REWIND_BIN", "build/release/rewind")
TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Leaks of system libraries rewind cannot fix (each file says which and why).
LSAN_SUPPRESSIONS = os.path.join(TESTS, "lsan.supp")
VALGRIND_SUPPRESSIONS = os.path.join(TESTS, "valgrind.supp")
VALGRIND_CMD = ["valgrind", "-q", "--leak-check=full", "--errors-for-leak-kinds=definite",
                "--suppressions=" + VALGRIND_SUPPRESSIONS, "--error-exitcode=99"]
VALGRIND = os.environ.get("REWIND_VALGRIND") == "1"
RUN_TIMEOUT = 120 if VALGRIND else 60


class Result:
    def __init__(self, proc):
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def json(self):
        return json.loads(self.out)

    def __repr__(self):
        return "exit %d\n--- stdout\n%s--- stderr\n%s" % (self.code, self.out, self.err)


class RewindCase(unittest.TestCase):
    """A test with its own HOME, cache and working directory."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="rewind-it-")
        self.home = os.path.join(self.tmp, "home")
        self.cache = os.path.join(self.tmp, "cache")
        self.cwd = os.path.join(self.tmp, "cwd")
        for d in (self.home, self.cwd):
            os.makedirs(d)
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def env(self, extra=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("REWIND_", "DOCKER_", "XDG_"))}
        env["HOME"] = self.home
        env["XDG_CACHE_HOME"] = self.cache
        env.pop("REWIND_BIN", None)
        env.pop("REWIND_VALGRIND", None)
        lsan = env.get("LSAN_OPTIONS")
        env["LSAN_OPTIONS"] = (lsan + ":" if lsan else "") + "suppressions=" + LSAN_SUPPRESSIONS
        if extra:
            env.update(extra)
        return env

    def rewind(self, *args, env=None, timeout=RUN_TIMEOUT):
        cmd = [BIN] + list(args)
        if VALGRIND:
            cmd = VALGRIND_CMD + cmd
        proc = subprocess.run(cmd, capture_output=True, text=True, env=self.env(env),
                              cwd=self.cwd, timeout=timeout)
        res = Result(proc)
        if VALGRIND:
            self.assertNotEqual(res.code, 99, "valgrind found errors:\n%r" % res)
        # whatever happened, rewind must not crash (sanitizers abort with 1, signals < 0)
        self.assertGreaterEqual(res.code, 0, repr(res))
        self.assertNotIn("runtime error:", res.err, repr(res))
        self.assertNotIn("AddressSanitizer", res.err, repr(res))
        self.assertNotIn("LeakSanitizer", res.err, repr(res))
        return res

    def ok(self, *args, **kw):
        res = self.rewind(*args, **kw)
        self.assertEqual(res.code, 0, repr(res))
        return res

    def fails(self, code, *args, **kw):
        res = self.rewind(*args, **kw)
        self.assertEqual(res.code, code, repr(res))
        self.assertTrue(res.err.startswith("rewind: error: ") or "rewind: error: " in res.err, repr(res))
        return res

    def write(self, name, text, mode=0o644):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path


def push(url, history, **client_args):
    """Pushes {repo: [(tags, created, extra dict), ...]} and returns {(repo, tag): digest}."""
    c = RegistryClient(url, **client_args)
    digests = {}
    for repo, entries in history.items():
        for entry in entries:
            tags, created = entry[0], entry[1]
            extra = entry[2] if len(entry) > 2 else {}
            if isinstance(tags, str):
                tags = [tags]
            if "platforms" in extra:
                d = c.push_index(repo, tags, extra["platforms"], kind=extra.get("kind", "docker"),
                                 annotations=extra.get("annotations"))
            else:
                d = c.push_image(repo, tags, created, kind=extra.get("kind", "docker"),
                                 labels=extra.get("labels"), annotations=extra.get("annotations"))
            for t in tags:
                digests[(repo, t)] = d
    return digests


# The release history of the example, in UTC.
EXAMPLE = {
    "web": [("1.7.9-master", "2026-11-17T09:00:00Z"), ("1.8.0-master", "2026-11-20T09:00:00Z"),
            ("1.8.1-develop", "2026-11-21T09:00:00Z")],
    "api": [("2.3.0-master", "2026-11-17T10:00:00Z"), ("2.3.1-master", "2026-11-20T10:00:00Z")],
    "worker": [("3.0.1-master", "2026-11-10T08:00:00Z"), ("3.0.2-master", "2026-11-17T11:00:00Z")],
    "front": [("0.9.3-master", "2026-11-12T08:00:00Z"), ("0.9.4-master", "2026-11-19T12:00:00Z")],
}
EXAMPLE_REPOS = "web,api,worker,front"
