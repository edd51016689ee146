#!/usr/bin/env python3
"""make demo: rewind's main job on an embedded sample.

Starts a real registry (Debian's docker-registry) on 127.0.0.1, pushes the
sample release history of tests/helpers/sample_history.py (five services over
three weeks), then runs `rewind dates` and `rewind plan` the way an operator
would, explaining each step. Everything it starts is stopped at the end.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "helpers"))

from registry import Registry  # noqa: E402
from regpush import RegistryClient  # noqa: E402
import sample_history  # noqa: E402

BOLD, RESET = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("", "")


def say(text):
    print("\n" + BOLD + textwrap.dedent(text).strip() + RESET)


def run(rewind, args, cwd, env):
    print("\n$ rewind " + " ".join(args), flush=True)
    proc = subprocess.run([rewind] + args, cwd=cwd, env=env)
    if proc.returncode != 0:
        sys.exit("demo: rewind %s failed with exit code %d" % (args[0], proc.returncode))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rewind", required=True)
    rewind = os.path.abspath(ap.parse_args().rewind)
    work = tempfile.mkdtemp(prefix="rewind-demo-")
    try:
        with Registry() as reg:
            say("""
                1. A registry with a release history.
                A real registry (docker-registry) now runs at %s. Five services
                (web, api, worker, front, shop/cart) released over three weeks, tagged
                <version>-master for production and <version>-develop for dev.
                Not every service released every day.""" % reg.url)
            sample_history.push(RegistryClient(reg.url))
            conf = os.path.join(work, "rewind.conf")
            with open(conf, "w") as f:
                f.write(textwrap.dedent("""\
                    # what a team keeps next to its pipelines
                    [registry]
                        url = %s
                    [release]
                        repos = web, api, worker, front, shop/cart
                        keep = 10
                    [env "prod"]
                        tag-suffix = master
                    [env "dev"]
                        tag-suffix = develop
                    """ % reg.url))
            with open(conf) as f:
                print("\n" + f.read().rstrip())
            env = dict(os.environ, XDG_CACHE_HOME=os.path.join(work, "cache"))
            say("""
                2. Which days can production go back to?
                rewind asks the registry for every tag and every image's creation
                date (concurrently, caching what never changes) and groups the
                images by day. Each line names the services that released that day.""")
            run(rewind, ["dates", "--env", "prod"], work, env)
            say("""
                3. Roll back to 2026-11-18: what would every service run?
                Only shop/cart released on the 18th. The others did not: rewind
                fills the gap with each one's newest image built on or before that
                day, so the whole release is exactly as it was on the 18th.""")
            run(rewind, ["plan", "--date", "2026-11-18", "--env", "prod"], work, env)
            say("""
                4. The same question from a script, as JSON. The second run reads
                every creation date from the cache and only asks the registry
                where each tag points now (one HEAD per tag).""")
            run(rewind, ["plan", "--date", "2026-11-18", "--env", "prod", "--json", "-v"], work, env)
            say("""
                5. Days are calendar days of a time zone. web 1.6.1 was built at
                23:55 UTC on the 19th, which is already the 20th in Paris.""")
            run(rewind, ["dates", "--env", "prod", "--keep", "2", "--timezone", "Europe/Paris"], work, env)
        say("The registry is stopped; nothing is left running. See README.md for more.")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
