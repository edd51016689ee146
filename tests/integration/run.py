#!/usr/bin/env python3
"""Runs the integration tests (tests/integration/test_*.py) against a rewind binary.

    run.py --rewind build/release/rewind [--valgrind] [-k PATTERN]

A skipped test is a failure here: a test that did not run proves nothing.
"""
import argparse
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rewind", required=True, help="the rewind binary to test")
    ap.add_argument("--valgrind", action="store_true", help="run every rewind under valgrind memcheck")
    ap.add_argument("-k", dest="pattern", help="only tests whose name contains this")
    args = ap.parse_args()
    os.environ["REWIND_BIN"] = os.path.abspath(args.rewind)
    if args.valgrind:
        os.environ["REWIND_VALGRIND"] = "1"
    sys.path.insert(0, HERE)
    sys.path.insert(0, os.path.join(HERE, "..", "helpers"))
    loader = unittest.TestLoader()
    if args.pattern:
        loader.testNamePatterns = ["*%s*" % args.pattern]
    suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    started = time.monotonic()
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    took = time.monotonic() - started
    print("integration: %d tests, %d failures, %d errors, %d skipped in %.1f s (%s)" % (
        result.testsRun, len(result.failures), len(result.errors), len(result.skipped),
        took, os.path.basename(os.path.dirname(os.environ["REWIND_BIN"]))))
    if result.skipped:
        print("integration: skipped tests count as failures", file=sys.stderr)
    ok = result.wasSuccessful() and not result.skipped and result.testsRun > 0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
