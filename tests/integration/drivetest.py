"""The orchestrator test driver (tests/orchestrator/drive.c) as the backend
tests (test_marathon.py, test_git.py, test_swarm.py) run it: where it is, its
command line, its results, and DriveCase, a test that drives one backend.

The driver is $REWIND_DRIVE, else build/<variant>/tests/drive next to the
rewind binary under test (rwtest.BIN: build/asan/rewind -> build/asan/tests/drive).
The Makefile builds it: `make build/<variant>/tests/drive`, or `make integration`.
"""
import json
import os
import subprocess

from rwtest import BIN, VALGRIND, VALGRIND_CMD, RewindCase


def driver():
    """The path of the driver binary; an error that says how to build it when it is missing."""
    path = os.environ.get("REWIND_DRIVE")
    if path:
        return path
    build = os.path.dirname(os.path.abspath(BIN))
    path = os.path.join(build, "tests", "drive")
    if not os.path.exists(path):
        variant = os.path.basename(build)
        make = "make" if variant == "release" else "make VARIANT=%s" % variant
        raise RuntimeError("the orchestrator test driver %s is missing: build it with `%s build/%s/tests/drive` "
                           "(or `%s integration`), or point $REWIND_DRIVE at one" % (path, make, variant, make))
    return path


def under_valgrind(cmd):
    """cmd as is, or under valgrind memcheck (rwtest.VALGRIND_CMD: exit 99 on an error) with --valgrind."""
    return VALGRIND_CMD + cmd if VALGRIND else cmd


def commands(args):
    """("find", "web") is one command; (("find", "web"), ("current", "x")) several, joined by "+"."""
    if all(isinstance(a, str) for a in args):
        return list(args)
    out = []
    for a in args:
        out += (["+"] if out else []) + list(a)
    return out


def argv(backend, options, args, verbose=None):
    """The command line that runs args (see commands) on backend with the options file, under
    valgrind with --valgrind; verbose is None, "-v" or "-vv"."""
    return under_valgrind([driver()] + ([verbose] if verbose else []) + [backend, options] + commands(args))


class DriveResult:
    """What one run of the driver gave: exit code, stdout, stderr and the JSON line of each command."""

    def __init__(self, code, out, err):
        self.code, self.out, self.err = code, out, err
        self.lines = [json.loads(line) for line in out.splitlines() if line.strip()]
        self.last = self.lines[-1] if self.lines else {}

    def of(self, command):
        """The results of one command, in order."""
        return [line for line in self.lines if line["command"] == command]

    def last_of(self, command):
        """The last result of one command; it must have one."""
        for line in reversed(self.lines):
            if line["command"] == command:
                return line
        raise AssertionError("no result for %s in %r" % (command, self))

    def __repr__(self):
        return "exit %d\n--- stdout\n%s--- stderr\n%s" % (self.code, self.out, self.err)


def check(case, res):
    """Asserts in case (a TestCase) that the driver neither crashed, nor leaked or erred under
    valgrind or a sanitizer; returns res."""
    case.assertNotEqual(res.code, 99, "valgrind found errors:\n%r" % res)
    case.assertGreaterEqual(res.code, 0, repr(res))
    for bad in ("runtime error:", "AddressSanitizer", "LeakSanitizer"):
        case.assertNotIn(bad, res.err, repr(res))
    return res


class DriveCase(RewindCase):
    """A test that runs the driver on BACKEND, checking it never crashes or leaks: drive, ok
    and fails take the options (a dict, written to a file) and the commands (see commands)."""

    BACKEND = None
    DRIVE_TIMEOUT = 60   # seconds one run may take

    def drive(self, opts, *args, env=None, verbose=None, popen=False):
        """The DriveResult, or with popen the running driver (see checked)."""
        path = os.path.join(self.tmp, "options-%d.json" % len(os.listdir(self.tmp)))
        with open(path, "w") as f:
            json.dump(opts, f)
        cmd = argv(self.BACKEND, path, args, verbose)
        if popen:
            return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    env=self.env(env), cwd=self.cwd)
        proc = subprocess.run(cmd, capture_output=True, text=True, env=self.env(env), cwd=self.cwd,
                              timeout=self.DRIVE_TIMEOUT)
        return self.checked(proc.returncode, proc.stdout, proc.stderr)

    def checked(self, code, out, err):
        return check(self, DriveResult(code, out, err))

    def ok(self, opts, *args, **kw):
        res = self.drive(opts, *args, **kw)
        self.assertEqual(res.code, 0, repr(res))
        return res

    def fails(self, code, opts, *args, **kw):
        res = self.drive(opts, *args, **kw)
        self.assertEqual(res.code, code, repr(res))
        self.assertFalse(res.last["ok"], repr(res))
        self.assertIn("drive: error: " + res.last["error"], res.err)
        return res
