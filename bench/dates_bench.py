#!/usr/bin/env python3
"""Times `rewind dates` cold (empty cache) and warm (cache filled) on a real
registry holding REPOS repositories x TAGS tags (default 20 x 50).

    bench/dates_bench.py --rewind build/release/rewind [--repos 20] [--tags 50]
                         [--runs 5] [--tls] [--concurrency 1,16]

Prints figures only; asserts nothing. The registry runs on 127.0.0.1, so the
figures measure rewind and the registry, not a network: against a registry
across a WAN, round trips dominate and concurrency matters more.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "helpers"))

from registry import Registry  # noqa: E402
from regpush import RegistryClient  # noqa: E402


def fill(reg, repos, tags):
    def push_repo(r):
        c = RegistryClient(reg.url, ca_file=reg.ca_file)
        for t in range(tags):
            day = 1 + (t * 29) // tags
            c.push_image("svc%02d" % r, ["1.%d.%d-master" % (r, t)],
                         "2026-10-%02dT%02d:%02d:00Z" % (day, (r + t) % 24, t % 60))

    with ThreadPoolExecutor(8) as ex:
        list(ex.map(push_repo, range(repos)))


def timed(cmd, env):
    t0 = time.monotonic()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    took = time.monotonic() - t0
    if proc.returncode != 0:
        sys.exit("bench: %s failed:\n%s" % (" ".join(cmd), proc.stderr))
    return took, proc.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rewind", required=True)
    ap.add_argument("--repos", type=int, default=20)
    ap.add_argument("--tags", type=int, default=50)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--tls", action="store_true", help="HTTPS (HTTP/2) instead of plain HTTP")
    ap.add_argument("--concurrency", default="1,4,16,64")
    a = ap.parse_args()
    a.runs = max(1, min(a.runs, 50))
    work = tempfile.mkdtemp(prefix="rewind-bench-")
    try:
        with Registry(tls=a.tls) as reg:
            t0 = time.monotonic()
            fill(reg, a.repos, a.tags)
            print("registry %s: %d repositories x %d tags pushed in %.1f s" % (
                reg.url, a.repos, a.tags, time.monotonic() - t0))
            repos = ",".join("svc%02d" % r for r in range(a.repos))
            base = [os.path.abspath(a.rewind), "dates", "--registry", reg.url, "--repos", repos,
                    "--env", "master", "-v"]
            if a.tls:
                base += ["--ca-file", reg.ca_file]
            env = dict(os.environ, HOME=work)
            print("%-12s %-6s %8s %8s %8s  %s" % ("concurrency", "cache", "min s", "median", "max", "requests"))
            for conc in [int(c) for c in a.concurrency.split(",")]:
                for mode in ("cold", "warm"):
                    times, stats = [], ""
                    cache = os.path.join(work, "cache-%d" % conc)
                    for _ in range(a.runs):
                        if mode == "cold":
                            shutil.rmtree(cache, ignore_errors=True)
                        took, err = timed(base + ["--concurrency", str(conc), "--cache-dir", cache], env)
                        times.append(took)
                        stats = [l for l in err.splitlines() if "requests:" in l][-1].split("rewind: ")[-1]
                    print("%-12d %-6s %8.3f %8.3f %8.3f  %s" % (
                        conc, mode, min(times), statistics.median(times), max(times), stats))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
