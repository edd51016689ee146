#!/usr/bin/env python3
"""Runs the integration tests (tests/integration/test_*.py) against a rewind binary.

    run.py --rewind build/release/rewind [--valgrind] [-k PATTERN] [--jobs N]

The test modules are shared out among N processes (default 2): the suite
mostly waits on servers (registry, dockerd, sshd), so two run in the time of
one. test_swarm runs alone in its process: it needs the machine's one swarm
gossip port. A skipped test is a failure here: a test that did not run
proves nothing.
"""
import argparse
import glob
import os
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def run_modules(modules, pattern):
    """Runs the given modules here; returns (run, failures, errors, skipped)."""
    sys.path.insert(0, HERE)
    sys.path.insert(0, os.path.join(HERE, "..", "helpers"))
    loader = unittest.TestLoader()
    if pattern:
        loader.testNamePatterns = ["*%s*" % pattern]
    suite = unittest.TestSuite(loader.loadTestsFromName(m) for m in modules)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    return result


def groups(jobs):
    """test_swarm first in a group of its own, the rest dealt out by size."""
    mods = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(HERE, "test_*.py")))
    if jobs <= 1:
        return [mods]
    out = [[m for m in mods if m == "test_swarm"]]
    rest = sorted((m for m in mods if m != "test_swarm"),
                  key=lambda m: -os.path.getsize(os.path.join(HERE, m + ".py")))
    out += [[] for _ in range(jobs - 1)]
    sizes = [os.path.getsize(os.path.join(HERE, "test_swarm.py")) * 2 if out[0] else 0] + [0] * (jobs - 1)
    for m in rest:
        i = sizes.index(min(sizes))
        out[i].append(m)
        sizes[i] += os.path.getsize(os.path.join(HERE, m + ".py"))
    return [g for g in out if g]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rewind", required=True, help="the rewind binary to test")
    ap.add_argument("--valgrind", action="store_true", help="run every rewind under valgrind memcheck")
    ap.add_argument("-k", dest="pattern", help="only tests whose name contains this")
    ap.add_argument("--jobs", type=int, default=2, help="processes (default 2)")
    ap.add_argument("--modules", help=argparse.SUPPRESS)  # a worker's share
    args = ap.parse_args()
    os.environ["REWIND_BIN"] = os.path.abspath(args.rewind)
    if args.valgrind:
        os.environ["REWIND_VALGRIND"] = "1"
    if args.modules:
        r = run_modules(args.modules.split(","), args.pattern)
        print("worker: %d %d %d %d" % (r.testsRun, len(r.failures), len(r.errors), len(r.skipped)))
        sys.exit(0)
    started = time.monotonic()
    workers = []
    for g in groups(max(1, min(args.jobs, 4))):
        cmd = [sys.executable, __file__, "--rewind", args.rewind, "--modules", ",".join(g)]
        cmd += ["--valgrind"] if args.valgrind else []
        cmd += ["-k", args.pattern] if args.pattern else []
        workers.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    totals = [0, 0, 0, 0]
    crashed = False
    for w in workers:
        out, _ = w.communicate()
        sys.stdout.write(out)
        last = [l for l in out.splitlines() if l.startswith("worker: ")]
        if w.returncode or not last:
            crashed = True
            continue
        for i, n in enumerate(last[-1].split()[1:]):
            totals[i] += int(n)
    run, failures, errors, skipped = totals
    print("integration: %d tests, %d failures, %d errors, %d skipped in %.1f s (%s)" % (
        run, failures, errors, skipped, time.monotonic() - started,
        os.path.basename(os.path.dirname(os.environ["REWIND_BIN"]))))
    if skipped:
        print("integration: skipped tests count as failures", file=sys.stderr)
    ok = not crashed and not failures and not errors and not skipped and run > 0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
