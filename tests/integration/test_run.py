"""rewind run / undo / history end to end: the real registry for the images,
and for the orchestrator the Marathon emulator (tests/helpers/marathon.py,
which follows Marathon's REST API v2 RAML; see its docstring)."""
import fcntl
import json
import os
import signal
import subprocess
import time
import unittest

from marathon import MarathonEmulator
from registry import Registry
from rwtest import BIN, EXAMPLE, RewindCase, push
from sshd import Sshd, make_keypair

REPOS = ["web", "api", "worker", "front"]
NOW = {"web": "1.8.0-master", "api": "2.3.1-master", "worker": "3.0.2-master", "front": "0.9.4-master"}


def app_definition(repo, tag):
    """A realistic app: every field must survive a rollback."""
    return {
        "id": "/ds/prod/shop/%s" % repo, "cmd": None, "cpus": 0.5, "mem": 256, "instances": 2,
        "env": {"JAVA_OPTS": "-Xmx200m", "SERVICE": repo},
        "labels": {"team": "shop", "HAPROXY_GROUP": "external"},
        "container": {"type": "DOCKER", "volumes": [],
                      "docker": {"image": "registry.example.com/%s:%s" % (repo, tag), "forcePullImage": True,
                                 "parameters": [{"key": "log-driver", "value": "journald"}]},
                      "portMappings": [{"containerPort": 8080, "hostPort": 0, "protocol": "tcp", "name": "http"}]},
        "healthChecks": [{"protocol": "MESOS_HTTP", "path": "/health", "portIndex": 0,
                          "gracePeriodSeconds": 30, "intervalSeconds": 10, "maxConsecutiveFailures": 3}],
        "upgradeStrategy": {"minimumHealthCapacity": 0.5, "maximumOverCapacity": 0.5},
        "constraints": [["hostname", "UNIQUE"]],
        "networks": [{"mode": "container/bridge"}],
    }


class RunOnMarathon(RewindCase):
    @classmethod
    def setUpClass(cls):
        cls.reg = Registry()
        cls.digests = push(cls.reg.url, dict(EXAMPLE, mailer=[("0.1.0-master", "2026-11-01T10:00:00Z")]))

    @classmethod
    def tearDownClass(cls):
        cls.reg.stop()

    def setUp(self):
        super().setUp()
        self.m = MarathonEmulator({app_definition(r, t)["id"]: app_definition(r, t) for r, t in NOW.items()},
                                  deploy_seconds=0.3)
        self.addCleanup(self.m.stop)
        self.conf = self.write("rewind.conf", """[registry]
    url = %s
[release]
    repos = web, api, worker, front
    env = prod
[env "prod"]
    tag-suffix = master
    orchestrator = marathon
[marathon "prod"]
    url = %s
    app-prefix = /ds/prod
""" % (self.reg.url, self.m.url))
        self.state = os.path.join(self.tmp, "state")

    def rw(self, *args, **kw):
        if args[0] in ("run", "undo", "history"):
            args = args + ("--state-dir", self.state)
        return self.rewind("--config", self.conf, *args, **kw)

    def env(self, extra=None):
        env = super().env(extra)
        env["REWIND_POLL_MS"] = "50"
        return env

    def image(self, repo):
        return self.m.app("/ds/prod/shop/%s" % repo)["container"]["docker"]["image"]

    def journals(self):
        d = os.path.join(self.state, "journals")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def journal(self, name=None):
        name = name or self.journals()[-1]
        with open(os.path.join(self.state, "journals", name)) as f:
            return json.load(f)

    def test_plan_shows_apps_and_changes(self):
        res = self.rw("plan", "--date", "2026-11-19")
        self.assertEqual(res.code, 0, res)
        lines = res.out.splitlines()
        self.assertRegex(lines[0], r"^web +1\.7\.9-master +2026-11-17 +/ds/prod/shop/web +1\.8\.0-master -> 1\.7\.9-master")
        self.assertRegex(lines[2], r"^worker .*3\.0\.2-master \(unchanged\)")
        doc = self.rw("plan", "--json", "--date", "2026-11-19").json()
        web = doc["images"][0]
        self.assertEqual(web["app"], "/ds/prod/shop/web")
        self.assertEqual(web["current"], "registry.example.com/web:1.8.0-master")
        self.assertEqual(web["image"], "registry.example.com/web:1.7.9-master")
        self.assertTrue(web["change"])
        self.assertFalse(doc["images"][2]["change"])
        self.assertEqual(self.m.count("PUT"), 0)

    def test_run_rolls_back_keeps_every_field_and_undo_puts_it_back(self):
        before = {r: self.m.definition("/ds/prod/shop/%s" % r) for r in REPOS}
        res = self.rw("run", "--date", "2026-11-19", "--yes", "--user", "alice")
        self.assertEqual(res.code, 0, res)
        self.assertEqual(self.image("web"), "registry.example.com/web:1.7.9-master")
        self.assertEqual(self.image("api"), "registry.example.com/api:2.3.0-master")
        self.assertEqual(self.image("worker"), "registry.example.com/worker:3.0.2-master")
        for r in ("web", "api"):
            after = self.m.definition("/ds/prod/shop/%s" % r)
            after["container"]["docker"]["image"] = before[r]["container"]["docker"]["image"]
            self.assertEqual(after, before[r], "a field of %s changed" % r)
        self.assertEqual(self.m.count("PUT"), 2)
        self.assertIn("rolled back: 2 done", res.out)
        j = self.journal()
        self.assertEqual((j["kind"], j["state"], j["user"], j["target"]), ("run", "done", "alice", "2026-11-19"))
        self.assertEqual([(s["repo"], s["state"]) for s in j["services"]],
                         [("web", "done"), ("api", "done"), ("worker", "unchanged"), ("front", "unchanged")])
        hist = self.rw("history")
        self.assertIn("run   prod      2026-11-19  alice", hist.out)
        undo = self.rw("undo", "--yes")
        self.assertEqual(undo.code, 0, undo)
        self.assertEqual(self.image("web"), "registry.example.com/web:1.8.0-master")
        self.assertEqual(self.image("api"), "registry.example.com/api:2.3.1-master")
        self.assertEqual(self.journal(self.journals()[0])["undone_by"] is not None or
                         self.journal(self.journals()[1])["undone_by"] is not None, True)
        again = self.rw("undo", "--yes")
        self.assertEqual(again.code, 2, again)
        self.assertIn("no rollback to undo", again.err)

    def test_run_refuses_without_confirmation(self):
        res = self.rw("run", "--date", "2026-11-19")
        self.assertEqual(res.code, 2, res)
        self.assertIn("--yes", res.err)
        self.assertEqual(self.m.count("PUT"), 0)
        self.assertEqual(self.journals(), [])

    def test_dry_run_changes_nothing(self):
        res = self.rw("run", "--date", "2026-11-19", "--dry-run")
        self.assertEqual(res.code, 0, res)
        self.assertIn("would PUT", res.out)
        self.assertIn("dry run: nothing was changed", res.out)
        doc = self.rw("run", "--date", "2026-11-19", "--dry-run", "--json").json()
        self.assertTrue(doc["dry_run"])
        self.assertEqual([(c["repo"], c["image"]) for c in doc["changes"]],
                         [("web", "registry.example.com/web:1.7.9-master"),
                          ("api", "registry.example.com/api:2.3.0-master")])
        self.assertEqual(self.m.count("PUT"), 0)
        self.assertEqual(self.journals(), [])

    def test_failed_revert_is_a_partial_failure(self):
        # web's deploy never finishes, nor does its revert: web stays changed
        self.m.never_finish = True
        res = self.rw("run", "--date", "2026-11-19", "--yes", "--timeout", "1", "--on-failure=revert")
        self.assertEqual(res.code, 8, res)
        j = self.journal()
        self.assertEqual(j["state"], "partial")
        web = j["services"][0]
        self.assertEqual((web["state"], web["changed"]), ("failed", True))
        self.assertRegex(web["detail"], r"^timed out: .*; timed out: ")
        self.assertEqual(self.m.count("PUT"), 2)

    def test_undo_uses_the_environment_of_its_journal(self):
        conf = self.write("envs.conf", """[registry]
    url = %s
[release]
    repos = web, api
[env "stage"]
    tag-suffix = master
    orchestrator = marathon
[marathon]
    url = http://127.0.0.1:9
[marathon "stage"]
    url = %s
    app-prefix = /ds/prod
""" % (self.reg.url, self.m.url))
        state = ["--state-dir", self.state]
        res = self.rewind("--config", conf, "run", "--env", "stage", "--date", "2026-11-19", "--yes", *state)
        self.assertEqual(res.code, 0, res)
        journal = os.path.join(self.state, "journals", self.journals()[0])
        wrong = self.rewind("--config", conf, "undo", "--yes", "--env", "prod", "--journal", journal, *state)
        self.assertEqual(wrong.code, 2, wrong)
        self.assertIn("is a rollback of environment 'stage', not 'prod'", wrong.err)
        # no --env: the journal's environment picks [marathon "stage"], not [marathon]
        undo = self.rewind("--config", conf, "undo", "--yes", *state)
        self.assertEqual(undo.code, 0, undo)
        self.assertEqual(self.image("web"), "registry.example.com/web:1.8.0-master")

    def test_nothing_to_do(self):
        res = self.rw("run", "--date", "2026-11-20", "--yes")
        self.assertEqual(res.code, 7, res)
        self.assertIn("nothing to do", res.err)
        self.assertEqual(self.m.count("PUT"), 0)

    def test_failure_stops_with_partial_exit_and_keeps_the_record(self):
        self.m.fail_images = r"api:2\.3\.0"
        self.m.fail_mode = "abort"
        res = self.rw("run", "--date", "2026-11-17", "--yes")
        self.assertEqual(res.code, 8, res)
        self.assertIn("api (/ds/prod/shop/api)", res.err)
        states = [(s["repo"], s["state"]) for s in self.journal()["services"]]
        self.assertEqual(states, [("web", "done"), ("api", "failed"), ("worker", "unchanged"), ("front", "skipped")])
        self.assertEqual(self.image("front"), "registry.example.com/front:0.9.4-master")
        self.assertEqual(self.journal()["state"], "partial")

    def test_failure_with_revert_puts_changed_services_back(self):
        self.m.fail_images = r"api:2\.3\.0"
        self.m.fail_mode = "abort"
        res = self.rw("run", "--date", "2026-11-17", "--yes", "--on-failure=revert")
        self.assertEqual(res.code, 9, res)
        self.assertEqual(self.image("web"), "registry.example.com/web:1.8.0-master")
        self.assertEqual(self.image("api"), "registry.example.com/api:2.3.1-master")
        self.assertEqual(self.journal()["state"], "reverted")

    def test_deploy_that_never_finishes_times_out_and_is_recorded(self):
        self.m.never_finish = True
        res = self.rw("run", "--date", "2026-11-19", "--yes", "--timeout", "1")
        # web's configuration was written: the environment is changed, partially
        self.assertEqual(res.code, 8, res)
        self.assertIn("timed out", res.err)
        web = self.journal()["services"][0]
        self.assertEqual((web["state"], web["changed"]), ("failed", True))
        self.assertIn("timed out", web["detail"])

    def test_order_and_parallel(self):
        res = self.rw("run", "--date", "2026-11-17", "--yes", "--order", "front,api")
        self.assertEqual(res.code, 0, res)
        puts = [r["path"] for r in self.m.requests if r["method"] == "PUT"]
        self.assertEqual(puts, ["/v2/apps/ds/prod/shop/front", "/v2/apps/ds/prod/shop/api", "/v2/apps/ds/prod/shop/web"])

    def test_parallel_deploys_overlap(self):
        self.m.deploy_seconds = 1.0
        res = self.rw("run", "--date", "2026-11-17", "--yes", "--parallel", "3")
        self.assertEqual(res.code, 0, res)
        puts = [r for r in self.m.requests if r["method"] == "PUT"]
        self.assertEqual(len(puts), 3)
        self.assertLess(puts[-1]["time"] - puts[0]["time"], 0.9)

    def test_second_rollback_fails_fast_naming_the_holder(self):
        os.makedirs(os.path.join(self.state, "locks"))
        path = os.path.join(self.state, "locks", "prod.lock")
        with open(path, "w") as f:
            f.write(json.dumps({"user": "bob", "pid": os.getpid(), "host": "ci-7", "since": "now", "journal": "x"}))
            f.flush()
            fcntl.flock(f, fcntl.LOCK_EX)
            res = self.rw("run", "--date", "2026-11-19", "--yes")
        self.assertEqual(res.code, 10, res)
        self.assertIn("held by bob (pid %d on ci-7" % os.getpid(), res.err)
        self.assertEqual(self.m.count("PUT"), 0)

    def test_kill_9_then_run_again_and_undo(self):
        self.m.deploy_seconds = 30
        cmd = [BIN, "--config", self.conf, "run", "--date", "2026-11-19", "--yes", "--state-dir", self.state]
        proc = subprocess.Popen(cmd, env=self.env(), cwd=self.cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while self.m.count("PUT") < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.assertEqual(self.image("web"), "registry.example.com/web:1.7.9-master")
        j = self.journal()
        self.assertEqual(j["services"][0]["state"], "deploying")
        self.assertEqual(j["state"], "running")
        # the lock died with it: a new run sees that and carries on
        self.m.deploy_seconds = 0.2
        again = self.rw("run", "--date", "2026-11-19", "--yes")
        self.assertEqual(again.code, 0, again)
        self.assertIn("did not finish", again.err)
        self.assertEqual(self.image("api"), "registry.example.com/api:2.3.0-master")
        states = {s["repo"]: s["state"] for s in self.journal()["services"]}
        self.assertEqual((states["web"], states["api"]), ("unchanged", "done"))
        # undo reverses the last rollback, then the one that was killed, from its journal
        self.assertEqual(self.rw("undo", "--yes").code, 0)
        self.assertEqual(self.image("api"), "registry.example.com/api:2.3.1-master")
        undo = self.rw("undo", "--yes", "--force")
        self.assertEqual(undo.code, 0, undo)
        self.assertEqual(self.image("web"), "registry.example.com/web:1.8.0-master")

    def test_marathon_down(self):
        self.m.stop()
        res = self.rw("run", "--date", "2026-11-19", "--yes", "--retries", "0")
        self.assertEqual(res.code, 9, res)
        self.assertIn("Marathon http://127.0.0.1", res.err)
        self.assertIn("Couldn't connect", res.err)
        self.assertEqual(self.journals(), [])

    def test_repository_without_app(self):
        res = self.rw("run", "--date", "2026-11-19", "--yes", "--repos", "web,mailer")
        self.assertEqual(res.code, 9, res)
        self.assertIn("no app for repository 'mailer'", res.err)
        self.assertEqual(self.m.count("PUT"), 0)

    def test_no_orchestrator_is_a_usage_error(self):
        res = self.rewind("run", "--date", "2026-11-19", "--yes", "--registry", self.reg.url,
                          "--repos", "web", "--env", "master")
        self.assertEqual(res.code, 2, res)
        self.assertIn("no orchestrator configured", res.err)


if __name__ == "__main__":
    unittest.main()


K8S = """# web: the shop's front door
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
        - name: web
          image: 'registry.example.com/web:1.8.0-master'  # CI bumps this
        - name: api-sidecar
          image: registry.example.com/api:2.3.1-master
"""


class RunOnGit(RewindCase):
    """rewind run and undo on a git repository of manifests (a real bare
    repository as the remote, pushed to over file://)."""

    @classmethod
    def setUpClass(cls):
        cls.reg = Registry()
        push(cls.reg.url, EXAMPLE)

    @classmethod
    def tearDownClass(cls):
        cls.reg.stop()

    def git(self, *args, cwd=None):
        return subprocess.run(["git"] + list(args), cwd=cwd or self.tmp, check=True,
                              capture_output=True, text=True).stdout

    def setUp(self):
        super().setUp()
        self.remote = os.path.join(self.tmp, "deploy.git")
        seed = os.path.join(self.tmp, "seed")
        self.git("init", "-q", "--bare", "-b", "main", self.remote)
        self.git("init", "-q", "-b", "main", seed)
        os.makedirs(os.path.join(seed, "k8s"))
        with open(os.path.join(seed, "k8s", "web.yaml"), "w") as f:
            f.write(K8S)
        self.git("add", ".", cwd=seed)
        self.git("-c", "user.name=ci", "-c", "user.email=ci@x", "commit", "-q", "-m", "release", cwd=seed)
        self.git("push", "-q", self.remote, "main", cwd=seed)
        self.conf = self.write("rewind.conf", """[registry]
    url = %s
[release]
    repos = web, api
    env = prod
[env "prod"]
    tag-suffix = master
    orchestrator = git
[git]
    url = file://%s
    paths = k8s/*.yaml
""" % (self.reg.url, self.remote))

    def rw(self, *args):
        return self.rewind("--config", self.conf, *args, "--state-dir", os.path.join(self.tmp, "state"))

    def remote_file(self):
        return self.git("--git-dir", self.remote, "show", "main:k8s/web.yaml")

    def test_run_commits_a_one_line_diff_and_undo_reverts_it(self):
        res = self.rw("run", "--date", "2026-11-19", "--yes", "--user", "alice")
        self.assertEqual(res.code, 0, res)
        self.assertIn("Argo CD, Flux", res.out)
        self.assertEqual(self.remote_file(), K8S.replace("web:1.8.0-master", "web:1.7.9-master")
                         .replace("api:2.3.1-master", "api:2.3.0-master"))
        log = self.git("--git-dir", self.remote, "log", "-1", "--format=%an%n%B")
        self.assertIn("rewind: roll prod back to 2026-11-19", log)
        self.assertIn("web: 1.8.0-master -> 1.7.9-master", log)
        self.assertIn("Rolled back by alice", log)
        undo = self.rw("undo", "--yes")
        self.assertEqual(undo.code, 0, undo)
        self.assertEqual(self.remote_file(), K8S)
        self.assertEqual(len(self.git("--git-dir", self.remote, "log", "--format=%h").split()), 3)

    def test_rejected_push_over_ssh_changes_nothing_and_says_why(self):
        # hooks run where git-receive-pack runs: over ssh, to a real sshd
        hook = os.path.join(self.remote, "hooks", "pre-receive")
        with open(hook, "w") as f:
            f.write("#!/bin/sh\necho 'branch main is frozen for the release' >&2\nexit 1\n")
        os.chmod(hook, 0o755)
        key, pub = make_keypair(self.tmp)
        with Sshd(authorized_keys=[pub]) as sshd:
            res = self.rewind("--config", self.conf, "run", "--date", "2026-11-19", "--yes",
                              "--state-dir", os.path.join(self.tmp, "state"), "--git-url", sshd.url(self.remote),
                              "--git-ssh-key", key, "--git-known-hosts", sshd.known_hosts_file,
                              env={"ASAN_OPTIONS": "fast_unwind_on_malloc=0"})
        self.assertEqual(res.code, 9, res)
        self.assertIn("frozen for the release", res.err)
        self.assertEqual(self.remote_file(), K8S)
        journals = os.listdir(os.path.join(self.tmp, "state", "journals"))
        with open(os.path.join(self.tmp, "state", "journals", journals[0])) as f:
            j = json.load(f)
        self.assertEqual(j["state"], "failed")
        self.assertEqual({s["changed"] for s in j["services"]}, {False})
