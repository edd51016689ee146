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
    if proc.returncode not in (0, 7):
        sys.exit("demo: rewind %s failed with exit code %d" % (args[0], proc.returncode))


MANIFEST = """\
# {repo}: owned by the shop team. Argo CD applies this file.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels: {{app: {name}}}
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: {name}
          image: "{host}/{repo}:{tag}"   # bumped by CI on every release
          ports:
            - containerPort: 8080
"""


def git(*args, cwd=None):
    subprocess.run(["git"] + list(args), cwd=cwd, check=True, capture_output=True)


def make_manifests_repo(work, host):
    """A bare repository, as Argo CD or Flux would watch, holding the manifests
    of what production runs today (each service's newest release)."""
    bare = os.path.join(work, "deploy.git")
    seed = os.path.join(work, "seed")
    git("init", "--bare", "-b", "main", bare)
    git("init", "-b", "main", seed)
    newest = {}
    for created, repo, tags, _ in sample_history.HISTORY:
        if tags[0].endswith("-master"):
            newest[repo] = tags[0]
    os.makedirs(os.path.join(seed, "k8s"))
    for repo, tag in newest.items():
        name = repo.replace("/", "-")
        with open(os.path.join(seed, "k8s", name + ".yaml"), "w") as f:
            f.write(MANIFEST.format(repo=repo, name=name, host=host, tag=tag))
    git("add", ".", cwd=seed)
    git("-c", "user.name=CI", "-c", "user.email=ci@example.com", "commit", "-m", "release 2026-11-20", cwd=seed)
    git("push", bare, "main", cwd=seed)
    return bare


def rollback_for_real(rewind, reg, work, conf, env):
    bare = make_manifests_repo(work, reg.host)
    with open(conf, "a") as f:
        f.write(textwrap.dedent("""\
            [env "prod"]
                orchestrator = git
            [git]
                url = %s
                branch = main
                paths = k8s/*.yaml
                workdir = %s
            """ % (bare, os.path.join(work, "clone"))))
    say("""
        6. Now for real. Production is deployed from a git repository of
        manifests (Argo CD or Flux apply it). rewind.conf gains:
            [env "prod"] orchestrator = git
            [git] url = %s, branch = main, paths = k8s/*.yaml
        The plan now shows each service's file, the image it runs and the
        one it gets.""" % bare)
    run(rewind, ["plan", "--date", "2026-11-18", "--env", "prod"], work, env)
    say("""
        7. rewind run: takes the lock, writes the journal, rewrites only the
        image tag in each file (comments and formatting stay), commits and
        pushes. (--yes because a demo has nobody to answer the question.)""")
    run(rewind, ["run", "--date", "2026-11-18", "--env", "prod", "--yes", "--user", "demo"], work, env)
    print("\n$ git log -1 -p  (in the manifests repository)", flush=True)
    subprocess.run(["git", "--git-dir", bare, "log", "-1", "-p", "--stat", "--format=%an: %s%n%n%b"], check=True)
    say("""
        8. Every rollback is recorded; rewind undo puts the services back to
        what they ran before it, from that record.""")
    run(rewind, ["history", "--env", "prod"], work, env)
    run(rewind, ["undo", "--env", "prod", "--yes", "--user", "demo"], work, env)
    print("\n$ git log --oneline  (in the manifests repository)", flush=True)
    subprocess.run(["git", "--git-dir", bare, "log", "--oneline"], check=True)


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
            env = dict(os.environ, XDG_CACHE_HOME=os.path.join(work, "cache"),
                       XDG_STATE_HOME=os.path.join(work, "state"))
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
            rollback_for_real(rewind, reg, work, conf, env)
        say("The registry is stopped; nothing is left running. See README.md for more.")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
