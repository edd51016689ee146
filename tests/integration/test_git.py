"""The git backend (orchestrator/git.c) against real repositories, through the
orchestrator test driver (tests/orchestrator/drive.c).

Every remote is a bare repository seeded with the git CLI with manifests as
people write them (comments, odd spacing, quotes, CRLF, Helm values, compose,
Marathon JSON). It is reached over a local path, file://, ssh:// (a real
OpenSSH server, tests/helpers/sshd.py, running git-upload-pack and
git-receive-pack, so server hooks run) and http:// (git http-backend behind a
small server that wants a token).

The driver is $REWIND_DRIVE, else build/<variant>/tests/drive, which the
Makefile builds (see drivetest.py).
"""
import base64
import http.server
import json
import os
import shutil
import socket
import subprocess
import threading
import unittest

from drivetest import DriveResult, argv, check
from rwtest import VALGRIND, RewindCase
from sshd import Sshd, make_keypair

RUN_TIMEOUT = 240 if VALGRIND else 60


# --- the manifests of the seed commit -------------------------------------------------

WEB_YAML = (
    b"# web: the shop's front end. Owned by team-shop.\n"
    b"apiVersion: apps/v1\n"
    b"kind: Deployment\n"
    b"metadata:\n"
    b"  name: web\n"
    b"  labels: {app: web, tier: \"front\"}\n"
    b"spec:\n"
    b"  replicas: 3   # see HPA\n"
    b"  template:\n"
    b"    spec:\n"
    b"      initContainers:\n"
    b"        - name: migrate\n"
    b"          image: \"registry.example.com/team/web:1.8.0-master\"   # same image, runs migrations\n"
    b"          args: [\"migrate\", \"--yes\"]\n"
    b"      containers:\n"
    b"      - name: web\n"
    b"        image:   registry.example.com/team/web:1.8.0-master\n"
    b"        # image: registry.example.com/team/web:1.6.0-master  (before the incident)\n"
    b"        ports:\n"
    b"        - containerPort: 8080\n"
    b"      - name: shop\n"
    b"        image: 'registry.example.com/team/webshop:4.1.0-master'\n"
    b"---\n"
    b"apiVersion: v1\n"
    b"kind: Service\n"
    b"metadata: {name: web}\n"
    b"spec:\n"
    b"  ports: [{port: 80, targetPort: 8080}]\n"
)

API_YAML = (
    b"apiVersion: apps/v1\r\n"
    b"kind: Deployment\r\n"
    b"metadata:\r\n"
    b"  name: api\r\n"
    b"spec:\r\n"
    b"  template:\r\n"
    b"    spec:\r\n"
    b"      containers:\r\n"
    b"      - name: api\r\n"
    b"        image: registry.example.com/team/api:2.3.1-master\r\n"
)

VALUES_YAML = (
    b"# Production values (CRLF: edited on Windows)\r\n"
    b"replicaCount: 2\r\n"
    b"\r\n"
    b"image:\r\n"
    b"  registry: registry.example.com\r\n"
    b"  repository: team/web   # the service\r\n"
    b"  pullPolicy: IfNotPresent\r\n"
    b"  # Overrides the image tag whose default is the chart appVersion.\r\n"
    b"  tag: \"1.8.0-master\"\r\n"
    b"\r\n"
    b"worker:\r\n"
    b"  image: {repository: registry.example.com/team/worker, tag: 3.0.2-master}\r\n"
)

COMPOSE_YML = (
    b"version: \"3.8\"\n"
    b"x-defaults: &defaults\n"
    b"  restart: always\n"
    b"services:\n"
    b"  web:\n"
    b"    <<: *defaults\n"
    b"    image: \"registry.example.com/team/web:1.8.0-master\"\n"
    b"    ports: [\"80:80\"]\n"
    b"  api:\n"
    b"    image: registry.example.com/team/api:2.3.1-master   # pinned by ops\n"
)

WEB_JSON = (
    b"{\n"
    b"  \"id\": \"/prod/shop/web\",\n"
    b"  \"instances\": 3,\n"
    b"  \"container\": {\n"
    b"    \"type\": \"DOCKER\",\n"
    b"    \"docker\": {\n"
    b"      \"image\": \"registry.example.com/team/web:1.8.0-master\",\n"
    b"      \"forcePullImage\": true\n"
    b"    }\n"
    b"  },\n"
    b"  \"labels\": {\"HAPROXY_0_VHOST\": \"web.example.com\"}\n"
    b"}\n"
)

README = b"Images are deployed from here. web runs registry.example.com/team/web:1.8.0-master.\n"

SEED = {
    "README.md": README,
    "k8s/web.yaml": WEB_YAML,
    "k8s/api.yaml": API_YAML,
    "helm/values-prod.yaml": VALUES_YAML,
    "compose/docker-compose.yml": COMPOSE_YML,
    "marathon/web.json": WEB_JSON,
}
PATHS = ["k8s/*.yaml", "helm/*.yaml", "compose/*.yml", "marathon/*.json"]
WEB_APP = "compose/docker-compose.yml,helm/values-prod.yaml,k8s/web.yaml,marathon/web.json#team/web"
OLD = "registry.example.com/team/web:1.8.0-master"
NEW = "registry.example.com/team/web:1.7.9-master"
MESSAGE = "rewind: roll back prod to 2026-11-17\n\nweb 1.8.0-master -> 1.7.9-master\n\nby jenkins (build 42)\n"


def replaced(text, old, new, count):
    """text with old replaced by new, asserting it occurs exactly count times."""
    assert text.count(old) == count, (old, text.count(old), count)
    return text.replace(old, new)


def rolled_back(files):
    """The seed as it must read after rolling web back to 1.7.9-master: only those bytes differ."""
    out = dict(files)
    out["k8s/web.yaml"] = replaced(files["k8s/web.yaml"], b"team/web:1.8.0-master\"", b"team/web:1.7.9-master\"", 1)
    out["k8s/web.yaml"] = replaced(out["k8s/web.yaml"], b"   registry.example.com/team/web:1.8.0-master\n",
                                   b"   registry.example.com/team/web:1.7.9-master\n", 1)
    out["helm/values-prod.yaml"] = replaced(files["helm/values-prod.yaml"], b"tag: \"1.8.0-master\"\r\n",
                                            b"tag: \"1.7.9-master\"\r\n", 1)
    out["compose/docker-compose.yml"] = replaced(files["compose/docker-compose.yml"], b"web:1.8.0-master",
                                                 b"web:1.7.9-master", 1)
    out["marathon/web.json"] = replaced(files["marathon/web.json"], b"web:1.8.0-master", b"web:1.7.9-master", 1)
    return out


# --- driving --------------------------------------------------------------------------

class GitCase(RewindCase):
    """A test with a seeded bare repository as the remote (self.remote)."""

    def setUp(self):
        super().setUp()
        self.remote = os.path.join(self.tmp, "remote.git")
        self.work = os.path.join(self.tmp, "clone")
        self.runs = 0
        self.git("init", "-q", "--bare", "-b", "main", self.remote)
        self.seed = dict(SEED)
        self.commit_files(self.seed, "Initial manifests")

    # --- git CLI ---

    def git_env(self):
        env = self.env()
        env.update({"GIT_AUTHOR_NAME": "Alice Ops", "GIT_AUTHOR_EMAIL": "alice@example.com",
                    "GIT_COMMITTER_NAME": "Alice Ops", "GIT_COMMITTER_EMAIL": "alice@example.com",
                    "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0"})
        return env

    def git(self, *args, cwd=None, check=True):
        proc = subprocess.run(["git"] + list(args), capture_output=True, env=self.git_env(),
                              cwd=cwd or self.tmp, timeout=60)
        if check and proc.returncode:
            raise AssertionError("git %s failed: %s" % (" ".join(args), proc.stderr.decode(errors="replace")))
        return proc.stdout.decode()

    def commit_files(self, files, message, remove=()):
        """Commits files ({path: bytes}) to main of the remote from a scratch clone, like a colleague."""
        scratch = os.path.join(self.tmp, "scratch")
        shutil.rmtree(scratch, ignore_errors=True)
        self.git("clone", "-q", self.remote, scratch)
        self.git("checkout", "-q", "-B", "main", cwd=scratch)
        for path, data in files.items():
            full = os.path.join(scratch, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as f:
                f.write(data)
        for path in remove:
            self.git("rm", "-q", path, cwd=scratch)
        self.git("add", "-A", cwd=scratch)
        self.git("-c", "core.autocrlf=false", "commit", "-q", "-m", message, cwd=scratch)
        self.git("push", "-q", "origin", "main", cwd=scratch)
        shutil.rmtree(scratch, ignore_errors=True)

    def remote_file(self, path, ref="main"):
        return subprocess.run(["git", "--git-dir", self.remote, "show", "%s:%s" % (ref, path)],
                              capture_output=True, check=True, env=self.git_env()).stdout

    def remote_files(self, ref="main"):
        names = self.git("--git-dir", self.remote, "ls-tree", "-r", "--name-only", ref).split()
        return {n: self.remote_file(n, ref) for n in names}

    def remote_head(self):
        return self.git("--git-dir", self.remote, "rev-parse", "main").strip()

    def remote_log(self, fmt="%an <%ae>|%cn <%ce>|%s"):
        return self.git("--git-dir", self.remote, "log", "--format=" + fmt, "main").splitlines()

    def hook(self, name, script):
        path = os.path.join(self.remote, "hooks", name)
        with open(path, "w") as f:
            f.write(script)
        os.chmod(path, 0o755)

    # --- the driver ---

    def opts(self, **extra):
        o = {"git_url": "file://" + self.remote, "git_paths": PATHS, "git_workdir": self.work}
        o.update(extra)
        return {k: v for k, v in o.items() if v is not None}

    def drive_argv(self, opts, commands):
        self.runs += 1
        path = self.write("opts-%d.json" % self.runs, json.dumps(opts))
        return argv("git", path, commands, "-v")

    def drive(self, opts, *commands, env=None):
        proc = subprocess.run(self.drive_argv(opts, commands), capture_output=True, text=True,
                              env=self.env(env), cwd=self.cwd, timeout=RUN_TIMEOUT)
        return check(self, DriveResult(proc.returncode, proc.stdout, proc.stderr))

    def drive_ok(self, opts, *commands, env=None):
        res = self.drive(opts, *commands, env=env)
        self.assertEqual(res.code, 0, repr(res))
        return res

    def drive_fails(self, code, opts, *commands, env=None):
        res = self.drive(opts, *commands, env=env)
        self.assertEqual(res.code, code, repr(res))
        self.assertIn("drive: error: ", res.err, repr(res))
        return res

    def rollback(self, opts, repo="team/web", image=NEW, message=MESSAGE, env=None):
        """find, current, update, publish, poll in one process; returns the result."""
        app = self.drive_ok(opts, ["find", repo], env=env).last_of("find")["app_id"]
        return self.drive_ok(opts, ["current", app], ["update", app, image], ["poll", app, "@"],
                             ["publish", message], ["poll", app, "@"], env=env)

    def assert_rolled_back(self, res, before=None):
        """The remote's tip is one commit by rewind on top of before, changing only the image bytes."""
        before = before or self.seed
        self.assertEqual(self.remote_files(), rolled_back(before))
        head = self.remote_head()
        self.assertEqual(res.last_of("publish")["detail"], "pushed %s to main" % head[:7])
        self.assertEqual(res.last_of("poll")["state"], "done")
        self.assertEqual(self.git("--git-dir", self.remote, "log", "-1", "--format=%B", "main"), MESSAGE + "\n")


# --- local transports -----------------------------------------------------------------

class LocalTest(GitCase):
    def test_file_url_rollback_changes_only_the_tags(self):
        opts = self.opts()
        res = self.drive_ok(opts, ["find", "team/web"], ["current", WEB_APP],
                            ["describe", WEB_APP, NEW], ["warning", WEB_APP])
        self.assertEqual(res.last_of("find")["app_id"], WEB_APP)
        self.assertEqual(res.last_of("current")["image"], OLD)
        self.assertEqual(res.last_of("describe")["text"],
                         "compose/docker-compose.yml:7: image %s -> %s; helm/values-prod.yaml:9: image %s -> %s; "
                         "k8s/web.yaml:13: image %s -> %s; k8s/web.yaml:17: image %s -> %s; "
                         "marathon/web.json:7: image %s -> %s" % ((OLD, NEW) * 5))
        self.assertIsNone(res.last_of("warning")["text"])
        res = self.rollback(opts)
        self.assertEqual(res.last_of("current")["image"], OLD)
        self.assertIsNone(res.last_of("update")["deploy_id"])
        self.assertEqual([l["state"] for l in res.lines if l["command"] == "poll"], ["running", "done"])
        self.assert_rolled_back(res)
        self.assertEqual(self.remote_log(), ["rewind <rewind@localhost>|rewind <rewind@localhost>|"
                                             "rewind: roll back prod to 2026-11-17",
                                             "Alice Ops <alice@example.com>|Alice Ops <alice@example.com>|"
                                             "Initial manifests"])

    def test_plain_path_author_and_a_second_run_on_the_same_clone(self):
        opts = self.opts(git_url=self.remote, git_author_name="Rollback Bot",
                         git_author_email="rollback@example.com")
        self.assert_rolled_back(self.rollback(opts))
        self.assertEqual(self.remote_log()[0], "Rollback Bot <rollback@example.com>|"
                         "Rollback Bot <rollback@example.com>|rewind: roll back prod to 2026-11-17")
        # someone changes the remote; the clone fetches it and starts from there
        after_first = self.remote_files()
        after_first["k8s/api.yaml"] = replaced(after_first["k8s/api.yaml"], b"2.3.1", b"2.3.2", 1)
        self.commit_files({"k8s/api.yaml": after_first["k8s/api.yaml"]}, "api 2.3.2")
        res = self.rollback(opts, image="registry.example.com/team/web:1.7.8-master")
        want = {k: v.replace(b"web:1.7.9-master", b"web:1.7.8-master").replace(b"\"1.7.9-master\"",
                                                                              b"\"1.7.8-master\"")
                for k, v in after_first.items()}
        want["README.md"] = README
        self.assertEqual(self.remote_files(), want)
        self.assertEqual(len(self.remote_log()), 4)
        self.assertIn("pushed", res.last_of("publish")["detail"])

    def test_leftovers_of_a_crashed_run_are_discarded(self):
        opts = self.opts()
        self.drive_ok(opts, ["find", "team/web"])
        # a crash after writing and committing, before pushing
        with open(os.path.join(self.work, "k8s/web.yaml"), "ab") as f:
            f.write(b"# half-written\n")
        with open(os.path.join(self.work, "stray.yaml"), "w") as f:
            f.write("image: registry.example.com/team/web:0.0.1\n")
        self.git("-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qam", "local junk", cwd=self.work)
        self.assert_rolled_back(self.rollback(opts))
        self.assertEqual(len(self.remote_log()), 2)
        self.assertFalse(os.path.exists(os.path.join(self.work, "stray.yaml")))

    def test_default_workdir_is_in_the_cache(self):
        opts = self.opts(git_workdir=None)
        self.drive_ok(opts, ["find", "team/web"])
        base = os.path.join(self.cache, "rewind", "git")
        clones = os.listdir(base)
        self.assertEqual(len(clones), 1, clones)
        self.assertRegex(clones[0], r"^remote-[0-9a-f]{12}$")
        self.assertTrue(os.path.isdir(os.path.join(base, clones[0], ".git")))

    def test_a_concurrent_push_is_rebased(self):
        opts = self.opts()
        app = self.drive_ok(opts, ["find", "team/web"]).last_of("find")["app_id"]
        sleep = "6000" if VALGRIND else "1500"
        proc = subprocess.Popen(self.drive_argv(opts, [["update", app, NEW], ["sleep", sleep],
                                                       ["publish", MESSAGE], ["poll", app, "@"]]),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=self.env(), cwd=self.cwd)
        try:
            first = proc.stdout.readline()
            self.assertIn('"update"', first)
            # a colleague pushes while rewind is about to: another line of the same file, another file
            theirs = dict(self.seed)
            theirs["k8s/web.yaml"] = replaced(WEB_YAML, b"replicas: 3", b"replicas: 5", 1)
            theirs["k8s/api.yaml"] = replaced(API_YAML, b"2.3.1", b"2.3.2", 1)
            self.commit_files({k: theirs[k] for k in ("k8s/web.yaml", "k8s/api.yaml")}, "scale web, api 2.3.2")
            out, err = proc.communicate(timeout=RUN_TIMEOUT)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        res = check(self, DriveResult(proc.returncode, first + out, err))
        self.assertEqual(res.code, 0, repr(res))
        self.assertIn("someone pushed to main first", res.err)
        self.assert_rolled_back(res, before=theirs)
        self.assertEqual([l.split("|")[2] for l in self.remote_log()],
                         ["rewind: roll back prod to 2026-11-17", "scale web, api 2.3.2", "Initial manifests"])

    def test_two_services_in_one_file_are_one_commit(self):
        opts = self.opts(git_paths="compose/*.yml")
        res = self.drive_ok(opts, ["find", "team/web"], ["find", "api"])
        web, api = [l["app_id"] for l in res.lines if l["command"] == "find"]
        self.assertEqual((web, api), ("compose/docker-compose.yml#team/web", "compose/docker-compose.yml#api"))
        res = self.drive_ok(opts, ["update", web, NEW], ["update", api, "registry.example.com/team/api:2.3.0-master"],
                            ["publish", MESSAGE])
        want = replaced(replaced(COMPOSE_YML, b"web:1.8.0-master", b"web:1.7.9-master", 1),
                        b"api:2.3.1-master   #", b"api:2.3.0-master   #", 1)
        self.assertEqual(self.remote_file("compose/docker-compose.yml"), want)
        self.assertEqual(self.remote_file("k8s/api.yaml"), API_YAML)
        self.assertEqual(len(self.remote_log()), 2)

    def test_explicit_app_narrows_the_files(self):
        opts = self.opts(app_ids={"team/web": "k8s/web.yaml, helm/values-prod.yaml"})
        res = self.drive_ok(opts, ["find", "team/web"])
        self.assertEqual(res.last_of("find")["app_id"], "helm/values-prod.yaml,k8s/web.yaml#team/web")
        res = self.drive_fails(9, self.opts(app_ids={"team/web": "k8s/api.yaml"}), ["find", "team/web"])
        self.assertIn("no image of repository 'team/web' in k8s/api.yaml", res.last_of("find")["error"])

    def test_pinned_digest_and_helm_split_values(self):
        digest = "sha256:" + "ab" * 32
        values = (b"image:\n  repository: registry.example.com/team/web\n  tag: 1.8.0-master\n"
                  b"  digest: \"sha256:" + b"cd" * 32 + b"\"   # pinned\n")
        self.commit_files({"helm/values-canary.yaml": values}, "canary values")
        opts = self.opts(git_paths="helm/values-canary.yaml")
        app = self.drive_ok(opts, ["find", "web"]).last_of("find")["app_id"]
        self.assertEqual(app, "helm/values-canary.yaml#web")
        res = self.drive_ok(opts, ["current", app], ["update", app, "registry.example.com/team/web:1.10@" + digest],
                            ["publish", "pin"])
        self.assertEqual(res.last_of("current")["image"], "registry.example.com/team/web:1.8.0-master@sha256:" + "cd" * 32)
        self.assertEqual(self.remote_file("helm/values-canary.yaml"),
                         b"image:\n  repository: registry.example.com/team/web\n  tag: \"1.10\"\n"
                         b"  digest: \"" + digest.encode() + b"\"   # pinned\n")

    def test_nothing_to_publish_when_the_image_is_already_there(self):
        opts = self.opts()
        app = self.drive_ok(opts, ["find", "team/web"]).last_of("find")["app_id"]
        res = self.drive_ok(opts, ["update", app, OLD], ["publish", MESSAGE], ["poll", app, "-"])
        self.assertEqual(res.last_of("publish")["detail"], "nothing to push: main already has these images")
        self.assertEqual(res.last_of("poll")["state"], "done")
        self.assertEqual(len(self.remote_log()), 1)

    def test_missing_repository_names_the_paths_searched(self):
        res = self.drive_fails(9, self.opts(), ["find", "billing"])
        err = res.last_of("find")["error"]
        self.assertIn("no image of repository 'billing'", err)
        for p in PATHS + ["k8s/web.yaml", "helm/values-prod.yaml", "marathon/web.json"]:
            self.assertIn(p, err)
        self.assertEqual(res.last_of("find")["class"], "orchestrator")
        # "webshop" is there, "shop" is not a name of it
        self.drive_fails(9, self.opts(), ["find", "shop"])
        self.assertEqual(self.drive_ok(self.opts(), ["find", "webshop"]).last_of("find")["app_id"],
                         "k8s/web.yaml#webshop")

    def test_configuration_errors(self):
        res = self.drive_fails(3, self.opts(git_paths="nothing/*.yaml"), ["find", "web"])
        self.assertIn("match no file", res.last_of("open")["error"])
        res = self.drive_fails(3, self.opts(git_paths=[]), ["find", "web"])
        self.assertIn("no paths", res.last_of("new")["error"])
        res = self.drive_fails(3, {"git_paths": PATHS}, ["find", "web"])
        self.assertIn("no repository URL", res.last_of("new")["error"])
        res = self.drive_fails(9, self.opts(git_branch="release"), ["find", "web"])
        self.assertIn("no branch 'release'", res.last_of("open")["error"])
        # a remote that is not there is an orchestrator that cannot be reached (exit 9), not a registry error
        res = self.drive_fails(9, self.opts(git_url="file://" + self.tmp + "/nope.git"), ["find", "web"])
        self.assertIn("cannot fetch from", res.last_of("open")["error"])
        self.assertEqual(res.last_of("open")["class"], "orchestrator")
        os.makedirs(os.path.join(self.tmp, "busy"))
        with open(os.path.join(self.tmp, "busy", "notes.txt"), "w") as f:
            f.write("mine\n")
        res = self.drive_fails(3, self.opts(git_workdir=os.path.join(self.tmp, "busy")), ["find", "web"])
        self.assertIn("is not a git repository", res.last_of("open")["error"])
        self.assertTrue(os.path.exists(os.path.join(self.tmp, "busy", "notes.txt")))

    def test_image_of_another_repository_is_refused(self):
        opts = self.opts()
        app = self.drive_ok(opts, ["find", "team/web"]).last_of("find")["app_id"]
        res = self.drive_fails(9, opts, ["update", app, "registry.example.com/team/api:1.0"])
        self.assertIn("is not of repository 'team/web'", res.last_of("update")["error"])
        res = self.drive_fails(9, opts, ["current", "k8s/web.yaml"])
        self.assertIn("invalid app id", res.last_of("current")["error"])

    def test_flux_marker_warns(self):
        marked = replaced(WEB_YAML, b"   registry.example.com/team/web:1.8.0-master\n",
                          b"   registry.example.com/team/web:1.8.0-master # {\"$imagepolicy\": \"flux-system:web\"}\n", 1)
        self.commit_files({"k8s/web.yaml": marked}, "flux automation")
        opts = self.opts(git_paths="k8s/*.yaml")
        res = self.drive_ok(opts, ["find", "team/web"], ["warning", "k8s/web.yaml#team/web"],
                            ["warning", "k8s/api.yaml#api"])
        warnings = [l["text"] for l in res.lines if l["command"] == "warning"]
        self.assertIn("k8s/web.yaml:17 is managed by Flux image automation (image policy flux-system:web)", warnings[0])
        self.assertIn("flux suspend image update", warnings[0])
        self.assertIn("push the newest image back", warnings[0])
        self.assertIsNone(warnings[1])
        # the rewrite keeps the marker
        self.rollback(opts)
        self.assertEqual(self.remote_file("k8s/web.yaml"),
                         replaced(marked, b"1.8.0-master #", b"1.7.9-master #", 1).replace(
                             b"team/web:1.8.0-master\"", b"team/web:1.7.9-master\""))

    def test_argocd_image_updater_warns(self):
        self.commit_files({"k8s/.argocd-source-web.yaml": b"helm:\n  parameters:\n  - name: image.tag\n"
                                                         b"    value: 1.8.0-master\n"}, "argocd write-back")
        res = self.drive_ok(self.opts(), ["find", "api"], ["warning", "k8s/api.yaml#api"])
        text = res.last_of("warning")["text"]
        self.assertIn("k8s/.argocd-source-web.yaml is an Argo CD Image Updater write-back file", text)
        self.assertIn("argocd-image-updater annotations", text)


# --- ssh ------------------------------------------------------------------------------

class SshTest(GitCase):
    @classmethod
    def setUpClass(cls):
        cls.keys = os.path.join(os.environ.get("TMPDIR", "/tmp"), "rewind-git-keys-%d" % os.getpid())
        cls.key, cls.pub = make_keypair(cls.keys, "ed25519", name="deploy")
        cls.other_key, _ = make_keypair(cls.keys, "ed25519", name="other")
        cls.sshd = Sshd(authorized_keys=[cls.pub])

    @classmethod
    def tearDownClass(cls):
        cls.sshd.stop()
        shutil.rmtree(cls.keys, ignore_errors=True)

    def env(self, extra=None):
        # Full stacks for the suppression to see git_remote_connect_ext through
        # libgit2's frames (it is built without frame pointers).
        env = super().env(extra)
        asan = env.get("ASAN_OPTIONS")
        env["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "fast_unwind_on_malloc=0"
        return env

    def ssh_opts(self, **extra):
        o = {"git_url": self.sshd.url(self.remote), "git_ssh_key": self.key,
             "git_known_hosts": self.sshd.known_hosts_file}
        o.update(extra)
        return self.opts(**o)

    def test_rollback_over_ssh(self):
        res = self.rollback(self.ssh_opts())
        self.assert_rolled_back(res)
        self.assertIn("Accepted publickey for %s" % self.sshd.user, self.sshd.log())

    def test_default_known_hosts_hashed(self):
        # ~/.ssh/known_hosts, hashed like Debian's ssh does by default
        ssh = os.path.join(self.home, ".ssh")
        os.makedirs(ssh)
        kh = os.path.join(ssh, "known_hosts")
        with open(kh, "w") as f:
            f.write("# managed by hand\nother.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n")
            f.write(self.sshd.host_key_line() + "\n")
        subprocess.run(["ssh-keygen", "-q", "-H", "-f", kh], check=True, capture_output=True)
        with open(kh) as f:
            self.assertIn("|1|", f.read())
        self.drive_ok(self.ssh_opts(git_known_hosts=None), ["find", "team/web"])

    def test_wrong_key_is_refused(self):
        res = self.drive_fails(5, self.ssh_opts(git_ssh_key=self.other_key), ["find", "team/web"])
        err = res.last_of("open")["error"]
        self.assertIn("the server refused %s for user '%s'" % (self.other_key, self.sshd.user), err)
        self.assertEqual(res.last_of("open")["class"], "auth")

    def test_no_key_and_no_agent(self):
        res = self.drive_fails(5, self.ssh_opts(git_ssh_key=None), ["find", "team/web"],
                               env={"SSH_AUTH_SOCK": ""})
        self.assertIn("no SSH key", res.last_of("open")["error"])
        res = self.drive_fails(3, self.ssh_opts(git_ssh_key=self.keys + "/missing"), ["find", "team/web"])
        self.assertIn("missing", res.last_of("open")["error"])

    def test_unknown_host_key_is_refused(self):
        empty = self.write("known_hosts", "")
        seen = len(self.sshd.log())
        res = self.drive_fails(5, self.ssh_opts(git_known_hosts=empty), ["find", "team/web"])
        err = res.last_of("open")["error"]
        self.assertIn("unknown host key of [127.0.0.1]:%d" % self.sshd.port, err)
        self.assertIn("SHA256:", err)
        self.assertNotIn("Accepted publickey", self.sshd.log()[seen:])  # not even authenticated

    def test_changed_host_key_is_refused(self):
        _, impostor = make_keypair(os.path.join(self.tmp, "impostor"), "ed25519")
        with open(impostor) as f:
            kind, blob = f.read().split()[:2]
        kh = self.write("known_hosts", "[127.0.0.1]:%d %s %s\n" % (self.sshd.port, kind, blob))
        res = self.drive_fails(5, self.ssh_opts(git_known_hosts=kh), ["find", "team/web"])
        self.assertIn("does not match", res.last_of("open")["error"])
        self.assertIn("someone is in the middle", res.last_of("open")["error"])

    def test_hook_refusal_is_reported_with_the_remote_message(self):
        self.hook("pre-receive", "#!/bin/sh\necho 'production is frozen until Monday (ask #release)' >&2\nexit 1\n")
        opts = self.ssh_opts()
        app = self.drive_ok(opts, ["find", "team/web"]).last_of("find")["app_id"]
        res = self.drive_fails(9, opts, ["update", app, NEW], ["publish", MESSAGE])
        err = res.last_of("publish")["error"]
        self.assertIn("refused the push", err)
        self.assertIn("pre-receive hook declined", err)
        self.assertIn("production is frozen until Monday (ask #release)", err)
        self.assertEqual(self.remote_files(), self.seed)
        self.assertEqual(len(self.remote_log()), 1)

    def race_hook(self, times):
        """A pre-receive hook that lets a colleague's push in first, the first `times` pushes."""
        racer = os.path.join(self.tmp, "racer")
        self.git("clone", "-q", self.remote, racer)
        counter = os.path.join(self.tmp, "races")
        self.hook("pre-receive", """#!/bin/sh
[ -n "$RACE_NESTED" ] && exit 0
n=$(cat %(counter)s 2>/dev/null || echo 0)
[ "$n" -ge %(times)d ] && exit 0
echo $((n + 1)) > %(counter)s
(
  unset GIT_DIR GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES GIT_PUSH_OPTION_COUNT
  export RACE_NESTED=1 GIT_CONFIG_NOSYSTEM=1
  cd %(racer)s && git pull -q --rebase origin main &&
  echo "# touched by race $((n + 1))" >> k8s/api.yaml &&
  git -c user.name=Racer -c user.email=racer@example.com commit -qam "race $((n + 1))" &&
  git push -q origin HEAD:main
) >/dev/null 2>&1
exit 0
""" % {"counter": counter, "times": times, "racer": racer})

    def test_server_side_race_is_retried(self):
        self.race_hook(1)
        res = self.rollback(self.ssh_opts())
        self.assertIn("someone pushed to main first", res.err)
        log = self.remote_log()
        self.assertEqual([l.split("|")[2] for l in log],
                         ["rewind: roll back prod to 2026-11-17", "race 1", "Initial manifests"])
        before = dict(self.seed)
        before["k8s/api.yaml"] = API_YAML + b"# touched by race 1\n"
        self.assert_rolled_back(res, before=before)

    def test_retries_are_bounded(self):
        self.race_hook(10)
        opts = self.ssh_opts()
        app = self.drive_ok(opts, ["find", "team/web"]).last_of("find")["app_id"]
        res = self.drive_fails(9, opts, ["update", app, NEW], ["publish", MESSAGE])
        self.assertIn("moved under each of 3 pushes", res.last_of("publish")["error"])
        self.assertEqual(res.err.count("someone pushed to main first"), 2)
        self.assertEqual([l.split("|")[2] for l in self.remote_log()],
                         ["race 3", "race 2", "race 1", "Initial manifests"])


# --- http with a token ----------------------------------------------------------------

class GitHttpServer:
    """git http-backend (smart HTTP) on 127.0.0.1, behind Basic auth with one user and token."""

    def __init__(self, project_root, user, token):
        outer = self
        self.requests = []

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                self.serve()

            def do_POST(self):
                self.serve()

            def body(self):
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if not size:
                            self.rfile.readline()
                            return data
                        data += self.rfile.read(size)
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def serve(self):
                body = self.body()
                auth = self.headers.get("Authorization", "")
                outer.requests.append((self.command, self.path, auth))
                want = "Basic " + base64.b64encode(("%s:%s" % (user, token)).encode()).decode()
                if auth != want:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="git"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                path, _, query = self.path.partition("?")
                env = {"PATH": os.environ["PATH"], "GIT_PROJECT_ROOT": project_root, "GIT_HTTP_EXPORT_ALL": "1",
                       "REQUEST_METHOD": self.command, "PATH_INFO": path, "QUERY_STRING": query,
                       "CONTENT_TYPE": self.headers.get("Content-Type", ""), "CONTENT_LENGTH": str(len(body)),
                       "REMOTE_USER": user, "REMOTE_ADDR": "127.0.0.1", "GIT_CONFIG_NOSYSTEM": "1"}
                proc = subprocess.run(["git", "http-backend"], input=body, capture_output=True, env=env)
                head, _, payload = proc.stdout.partition(b"\r\n\r\n")
                status, headers = 200, []
                for line in head.decode().split("\r\n"):
                    k, _, v = line.partition(":")
                    if k.lower() == "status":
                        status = int(v.split()[0])
                    elif k:
                        headers.append((k, v.strip()))
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class HttpTokenTest(GitCase):
    def setUp(self):
        super().setUp()
        self.token = "ghp_s3cr3t-token-of-the-deploy-bot"
        self.server = GitHttpServer(self.tmp, "x-access-token", self.token)
        self.addCleanup(self.server.stop)
        self.url = "http://127.0.0.1:%d/remote.git" % self.server.port

    def test_rollback_with_a_token(self):
        token_file = self.write("token", self.token + "\n", mode=0o600)
        res = self.rollback(self.opts(git_url=self.url, git_token_file=token_file))
        self.assert_rolled_back(res)
        self.assertIn(("POST", "/remote.git/git-receive-pack",
                       "Basic " + base64.b64encode(("x-access-token:" + self.token).encode()).decode()),
                      self.server.requests)
        self.assertNotIn(self.token, res.out + res.err)

    def test_wrong_or_missing_token(self):
        token_file = self.write("token", "not-the-token\n", mode=0o600)
        res = self.drive_fails(5, self.opts(git_url=self.url, git_token_file=token_file), ["find", "web"])
        self.assertIn("the server refused the token of %s (user 'x-access-token')" % token_file,
                      res.last_of("open")["error"])
        self.assertNotIn("not-the-token", res.out + res.err)
        res = self.drive_fails(5, self.opts(git_url=self.url), ["find", "web"])
        self.assertIn("set the git token file", res.last_of("open")["error"])

    def test_a_token_in_the_url_is_never_shown(self):
        # https://TOKEN@host: the token is the URL's user, which messages must not show either
        token_file = self.write("token", self.token + "\n", mode=0o600)
        url = "http://%s@127.0.0.1:%d/remote.git" % (self.token, self.server.port)
        res = self.drive_fails(5, self.opts(git_url=url, git_token_file=token_file), ["find", "web"])
        self.assertIn("http://REDACTED@127.0.0.1:%d/remote.git" % self.server.port, res.last_of("open")["error"])
        self.assertNotIn(self.token, res.out + res.err)
        # unreachable: exit 9 as for Marathon and Swarm, and still no token
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        url = "http://%s@127.0.0.1:%d/remote.git" % (self.token, port)
        res = self.drive_fails(9, self.opts(git_url=url, git_token_file=token_file), ["find", "web"])
        self.assertEqual(res.last_of("open")["class"], "orchestrator")
        self.assertIn("cannot fetch from http://REDACTED@127.0.0.1:%d/remote.git" % port, res.last_of("open")["error"])
        self.assertNotIn(self.token, res.out + res.err)


if __name__ == "__main__":
    unittest.main()
