"""The Marathon backend (orchestrator/marathon.c) against the Marathon emulator
(tests/helpers/marathon.py), through the orchestrator test driver
(tests/orchestrator/drive.c).

The driver is $REWIND_DRIVE, else build/<variant>/tests/drive, which the
Makefile builds (see drivetest.py).
"""
import base64
import copy
import json
import socket
import unittest
import urllib.request

from drivetest import DriveCase
from faultproxy import FaultProxy
from marathon import MarathonEmulator
from rwtest import VALGRIND

RUN_TIMEOUT = 180 if VALGRIND else 60
SLOW = 4 if VALGRIND else 1   # valgrind runs the driver that much slower


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- app definitions, as Marathon 1.x shows them ----------------------------------

REGISTRY = "registry.example.com"


def app_def(app_id, image=None, instances=2, **extra):
    name = app_id.rsplit("/", 1)[-1]
    d = {
        "id": app_id,
        "cmd": None,
        "args": ["--port", "8080", "--config", "/etc/%s.yml" % name],
        "user": "nobody",
        "instances": instances,
        "cpus": 0.25,
        "mem": 384.5,
        "disk": 0,
        "gpus": 0,
        "executor": "",
        "constraints": [["hostname", "UNIQUE"], ["rack_id", "GROUP_BY", "3"]],
        "acceptedResourceRoles": ["*", "slave_public"],
        "env": {"JAVA_OPTS": "-Xmx256m -Dfile.encoding=UTF-8", "GREETING": "grüß dich \"quoted\"",
                "DB_PASSWORD": {"secret": "dbpass"}},
        "secrets": {"dbpass": {"source": "/ds/prod/db/password"}},
        "labels": {"HAPROXY_GROUP": "external", "HAPROXY_0_VHOST": "%s.example.com" % name,
                   "owner": "team-ds"},
        "fetch": [{"uri": "https://artifacts.example.com/%s/config.tgz" % name, "extract": True,
                   "executable": False, "cache": False}],
        "healthChecks": [{"gracePeriodSeconds": 300, "intervalSeconds": 20, "maxConsecutiveFailures": 3,
                          "portIndex": 0, "timeoutSeconds": 20, "delaySeconds": 15, "protocol": "MESOS_HTTP",
                          "path": "/health", "ipProtocol": "IPv4"}],
        "readinessChecks": [{"name": "ready", "protocol": "HTTP", "path": "/ready", "portName": "http",
                             "intervalSeconds": 30, "timeoutSeconds": 10, "httpStatusCodesForReady": [200],
                             "preserveLastResponse": False}],
        "dependencies": ["/ds/prod/db"],
        "upgradeStrategy": {"minimumHealthCapacity": 0.5, "maximumOverCapacity": 0.2},
        "unreachableStrategy": {"inactiveAfterSeconds": 300, "expungeAfterSeconds": 600},
        "killSelection": "OLDEST_FIRST",
        "backoffSeconds": 1,
        "backoffFactor": 1.15,
        "maxLaunchDelaySeconds": 3600,
        "taskKillGracePeriodSeconds": 30,
        "requirePorts": False,
        "networks": [{"mode": "container/bridge"}],
        "portDefinitions": [],
        "container": {
            "type": "DOCKER",
            "docker": {
                "image": image or "%s/%s:1.8.0-master" % (REGISTRY, name),
                "forcePullImage": True,
                "privileged": False,
                "parameters": [{"key": "log-driver", "value": "journald"},
                               {"key": "label", "value": "team=ds"}],
                "pullConfig": {"secret": "pullsecret"},
            },
            "portMappings": [{"containerPort": 8080, "hostPort": 0, "servicePort": 10101, "protocol": "tcp",
                              "name": "http", "labels": {"VIP_0": "/%s:8080" % name}}],
            "volumes": [{"containerPath": "/var/log/%s" % name, "hostPath": "/var/log/mesos/%s" % name,
                         "mode": "RW"},
                        {"containerPath": "data", "mode": "RW",
                         "persistent": {"size": 512, "type": "root", "constraints": []}}],
        },
        "residency": {"relaunchEscalationTimeoutSeconds": 3600, "taskLostBehavior": "WAIT_FOREVER"},
        "role": "*",
    }
    del d["cmd"]
    d.update(extra)
    return d


# Fields Marathon itself changes on a deploy (AppInfo and version fields).
CHANGING = ("version", "versionInfo", "tasks", "tasksStaged", "tasksRunning", "tasksHealthy", "tasksUnhealthy",
            "deployments", "lastTaskFailure", "readinessCheckResults", "tasksStats")


def without_changing(app):
    app = copy.deepcopy(app)
    for k in CHANGING:
        app.pop(k, None)
    return app


class MarathonCase(DriveCase):
    """Runs the driver against an emulator, checking it never crashes or leaks."""

    BACKEND = "marathon"
    DRIVE_TIMEOUT = RUN_TIMEOUT

    def emulator(self, apps=(), **kw):
        m = MarathonEmulator({a["id"]: a for a in apps}, **kw)
        self.addCleanup(m.stop)
        return m

    def options(self, m=None, **opts):
        o = {"marathon_url": m.url if m else None, "marathon_app_prefix": "/ds/prod",
             "http": {"max_retries": 0, "connect_timeout_ms": 2000, "stall_timeout_ms": 10000}}
        o.update(opts)
        return {k: v for k, v in o.items() if v is not None}


def http(method, url, body=None):
    req = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


# --- mapping ---------------------------------------------------------------------------

class TestMapping(MarathonCase):

    def test_prefix_is_a_path_not_a_substring(self):
        m = self.emulator([app_def(i) for i in ("/ds/prod/web", "/ds/prod-old/web", "/ds/prod/webshop",
                                                "/ds/staging/web", "/ds/prod/api", "/other/ds/prod/worker")])
        res = self.ok(self.options(m), ("find", "web"), ("find", "api"), ("find", "webshop"))
        self.assertEqual([r["app_id"] for r in res.of("find")], ["/ds/prod/web", "/ds/prod/api", "/ds/prod/webshop"])
        # Marathon's id filter brings the substring matches; rewind keeps the path prefix
        listing = [r for r in m.requests if r["path"] == "/v2/apps"]
        self.assertEqual(len(listing), 1)
        self.assertEqual(listing[0]["query"].get("id"), ["/ds/prod"])
        res = self.fails(9, self.options(m), "find", "worker")
        self.assertIn("no app for repository 'worker' under '/ds/prod/'", res.last["error"])

    def test_prefix_spellings(self):
        m = self.emulator([app_def("/ds/prod/web"), app_def("/ds/prod-old/web")])
        for prefix in ("/ds/prod", "ds/prod/", "/ds/prod//"):
            res = self.ok(self.options(m, marathon_app_prefix=prefix), "find", "web")
            self.assertEqual(res.last["app_id"], "/ds/prod/web", prefix)

    def test_without_prefix_both_match(self):
        m = self.emulator([app_def("/ds/prod/web"), app_def("/ds/prod-old/web"), app_def("/ds/prod/webshop")])
        res = self.fails(9, self.options(m, marathon_app_prefix=None), "find", "web")
        self.assertIn("repository 'web' matches 2 apps (/ds/prod-old/web, /ds/prod/web)", res.last["error"])
        self.assertIn('[app "web"] id = ...', res.last["error"])

    def test_nested_repository(self):
        m = self.emulator([app_def("/ds/prod/shop/cart"), app_def("/ds/prod/cart-old")])
        res = self.ok(self.options(m), "find", "shop/cart")
        self.assertEqual(res.last["app_id"], "/ds/prod/shop/cart")

    def test_several_apps(self):
        m = self.emulator([app_def("/ds/prod/eu/web"), app_def("/ds/prod/us/web")])
        res = self.fails(9, self.options(m), "find", "web")
        self.assertIn("matches 2 apps (/ds/prod/eu/web, /ds/prod/us/web)", res.last["error"])

    def test_no_app(self):
        m = self.emulator([app_def("/ds/prod/web")])
        res = self.fails(9, self.options(m), "find", "api")
        self.assertEqual(res.last["class"], "orchestrator")
        self.assertIn("'api'", res.last["error"])

    def test_explicit_mapping(self):
        m = self.emulator([app_def("/ds/prod/web"), app_def("/ds/frontend/site")])
        opts = self.options(m, app_ids={"web": "ds/frontend/site/", "api": "/ds/backend/api"})
        res = self.ok(opts, ("find", "web"), ("current", "/ds/frontend/site"))
        self.assertEqual(res.of("find")[0]["app_id"], "/ds/frontend/site")
        self.assertEqual(res.last["image"], REGISTRY + "/site:1.8.0-master")
        # an explicit id Marathon does not know: found, but reading it says so
        res = self.fails(9, opts, ("find", "api"), ("current", "/ds/backend/api"))
        self.assertIn("HTTP 404 App '/ds/backend/api' does not exist", res.last["error"])
        self.assertIn("GET %s/v2/apps/ds/backend/api" % m.url, res.last["error"])


# --- reading and updating -------------------------------------------------------------

class TestUpdate(MarathonCase):

    def test_current_image_and_describe(self):
        image = REGISTRY + "/web:1.8.0-master@sha256:" + "ab" * 32
        m = self.emulator([app_def("/ds/prod/web", image=image)])
        res = self.ok(self.options(m), ("current", "/ds/prod/web"),
                      ("describe", "/ds/prod/web", REGISTRY + "/web:1.7.9-master"))
        self.assertEqual(res.of("current")[0]["image"], image)
        self.assertEqual(res.last["text"], "PUT /v2/apps/ds/prod/web: container.docker.image %s -> %s" % (
            image, REGISTRY + "/web:1.7.9-master"))
        # describe alone reads the image itself
        res = self.ok(self.options(m), "describe", "/ds/prod/web", "x/web:1")
        self.assertIn("%s -> x/web:1" % image, res.last["text"])

    def test_app_without_image(self):
        m = self.emulator([{"id": "/ds/prod/web", "cmd": "python3 -m http.server $PORT0", "instances": 1},
                           app_def("/ds/prod/api", container={"type": "MESOS", "volumes": []})])
        res = self.fails(9, self.options(m), "current", "/ds/prod/web")
        self.assertIn("app '/ds/prod/web' has no container", res.last["error"])
        res = self.fails(9, self.options(m), "update", "/ds/prod/api", "x/api:1")
        self.assertIn("app '/ds/prod/api' has no container.docker.image (container type MESOS)", res.last["error"])
        self.assertEqual(m.count("PUT"), 0)

    def test_update_keeps_every_field(self):
        web = app_def("/ds/prod/web", futureField={"nested": [1, 2.5, None, True, "ü"]})
        m = self.emulator([web, app_def("/ds/prod/api")], deploy_seconds=0.2)
        before = m.app("/ds/prod/web")
        api_before = m.app("/ds/prod/api")
        new = REGISTRY + "/web:1.7.9-master@sha256:" + "cd" * 32
        res = self.ok(self.options(m), ("update", "/ds/prod/web", new), ("wait", "/ds/prod/web", "@", "10", "50"),
                      ("current", "/ds/prod/web"))
        self.assertEqual(res.of("wait")[0]["state"], "done", repr(res))
        self.assertEqual(res.last["image"], new)
        after = m.app("/ds/prod/web")
        expected = without_changing(before)
        expected["container"]["docker"]["image"] = new
        self.assertEqual(without_changing(after), expected)
        self.assertNotEqual(after["version"], before["version"])
        self.assertEqual(m.app("/ds/prod/api"), api_before)
        # what went over the wire: a partial update naming only the container
        put = [r for r in m.requests if r["method"] == "PUT"]
        self.assertEqual(len(put), 1)
        self.assertEqual(put[0]["path"], "/v2/apps/ds/prod/web")
        self.assertEqual(put[0]["query"], {"partialUpdate": ["true"]})
        self.assertEqual(put[0]["headers"].get("Content-Type"), "application/json")
        self.assertEqual(put[0]["json"], {"container": expected["container"]})
        self.assertEqual(put[0]["status"], 200)

    def test_full_definition_round_trip_through_emulator(self):
        """The emulator itself: a complete replacement of what GET shows keeps the app as it was."""
        m = self.emulator([app_def("/ds/prod/web")])
        before = m.app("/ds/prod/web")
        status, _ = http("PUT", m.url + "/v2/apps/ds/prod/web?partialUpdate=false", before)
        self.assertEqual(status, 200)
        self.assertEqual(without_changing(m.app("/ds/prod/web")), without_changing(before))
        # a partial update naming "version" (as a naive echo of GET would) is refused
        status, body = http("PUT", m.url + "/v2/apps/ds/prod/web", before)
        self.assertEqual(status, 422)
        self.assertIn("The 'version' field may only be combined with the 'id' field.", body.decode())

    def test_deploy_takes_time(self):
        m = self.emulator([app_def("/ds/prod/web", instances=3)], deploy_seconds=1.5 * SLOW)
        new = REGISTRY + "/web:1.7.9-master"
        res = self.ok(self.options(m), ("update", "/ds/prod/web", new), ("poll", "/ds/prod/web", "@"),
                      ("wait", "/ds/prod/web", "@", "60", "100"), ("poll", "/ds/prod/web", "@"))
        dep = res.of("update")[0]["deploy_id"]
        first = res.of("poll")[0]
        self.assertEqual(first["state"], "running")
        self.assertIn("deployment %s: step 1/1" % dep, first["detail"])
        wait = res.of("wait")[0]
        self.assertEqual(wait["state"], "done")
        self.assertEqual(wait["states"], ["running", "done"])
        self.assertGreater(wait["polls"], 3)
        version = m.app("/ds/prod/web")["version"]
        self.assertEqual(wait["detail"], "3/3 task(s) run version %s" % version)
        self.assertEqual(res.last["state"], "done")
        tasks = m.tasks("/ds/prod/web")
        self.assertEqual(len(tasks), 3)
        self.assertEqual({(t["version"], t["state"]) for t in tasks}, {(version, "TASK_RUNNING")})
        self.assertGreaterEqual(m.count("GET", r"^/v2/deployments$"), 4)

    def test_poll_from_another_process(self):
        """poll without the PUT's answer (a new process) waits for the app's version."""
        m = self.emulator([app_def("/ds/prod/web")], deploy_seconds=0.2, never_finish=True)
        dep = self.ok(self.options(m), "update", "/ds/prod/web", "x/web:2").last["deploy_id"]
        res = self.ok(self.options(m), "poll", "/ds/prod/web", dep)
        self.assertEqual(res.last["state"], "running")
        m.never_finish = False
        res = self.ok(self.options(m), "wait", "/ds/prod/web", dep, "10", "50")
        self.assertEqual(res.last["state"], "done")
        self.assertEqual(res.last["detail"], "2/2 task(s) run version %s" % m.app("/ds/prod/web")["version"])

    def test_locked_app_and_force(self):
        m = self.emulator([app_def("/ds/prod/web")], deploy_seconds=0.2)
        lock = m.lock("/ds/prod/web")
        before = m.app("/ds/prod/web")
        res = self.fails(9, self.options(m), "update", "/ds/prod/web", "x/web:2")
        err = res.last["error"]
        self.assertIn("updating app '/ds/prod/web': locked by deployment %s" % lock, err)
        self.assertIn("--force", err)
        self.assertIn("HTTP 409 App is locked by one or more deployments.", err)
        self.assertIn("PUT %s/v2/apps/ds/prod/web?partialUpdate=true" % m.url, err)
        self.assertEqual(without_changing(m.app("/ds/prod/web")), without_changing(before))
        res = self.ok(self.options(m), ("update", "/ds/prod/web", "x/web:2", "force"),
                      ("wait", "/ds/prod/web", "@", "10", "50"))
        self.assertEqual(res.last["state"], "done")
        put = [r for r in m.requests if r["method"] == "PUT"]
        self.assertEqual(put[-1]["query"], {"partialUpdate": ["true"], "force": ["true"]})
        self.assertNotIn(lock, [d["id"] for d in m.deployments()])

    def test_invalid_definition(self):
        m = self.emulator([app_def("/ds/prod/web")])
        res = self.fails(9, self.options(m), "update", "/ds/prod/web", "")
        err = res.last["error"]
        self.assertIn("updating app '/ds/prod/web': Marathon rejected the new definition: HTTP 422", err)
        self.assertIn("Object is not valid: /container/docker/image: must not be empty", err)
        self.assertEqual(m.definition("/ds/prod/web")["container"]["docker"]["image"],
                         REGISTRY + "/web:1.8.0-master")


# --- deploys that do not end well -----------------------------------------------------

class TestFailures(MarathonCase):

    def test_failing_deploy_abort(self):
        m = self.emulator([app_def("/ds/prod/web")], deploy_seconds=0.5, fail_images=r":6\.6\.6",
                          fail_mode="abort")
        old_version = m.app("/ds/prod/web")["version"]
        res = self.ok(self.options(m), ("update", "/ds/prod/web", REGISTRY + "/web:6.6.6"),
                      ("wait", "/ds/prod/web", "@", "10", "50"))
        wait = res.last
        self.assertEqual(wait["state"], "failed")
        self.assertEqual(wait["states"], ["running", "failed"])
        dep = res.of("update")[0]["deploy_id"]
        self.assertIn("deployment %s ended, but 0/2 task(s) run version" % dep, wait["detail"])
        self.assertIn("(2 on %s)" % old_version, wait["detail"])
        self.assertIn("last task failure: Failed to launch container", wait["detail"])
        self.assertIn("manifest for %s/web:6.6.6 not found (TASK_FAILED on agent-1.example.com at " % REGISTRY,
                      wait["detail"])

    def test_failing_deploy_retries_forever(self):
        """What real Marathon does: the deployment stays; rewind's time-out ends the wait."""
        m = self.emulator([app_def("/ds/prod/web")], deploy_seconds=0.2, fail_images=r":6\.6\.6")
        res = self.ok(self.options(m), ("update", "/ds/prod/web", REGISTRY + "/web:6.6.6"),
                      ("wait", "/ds/prod/web", "@", "1.5", "100"))
        self.assertEqual(res.last["state"], "timeout")
        self.assertEqual(res.last["states"], ["running"])
        self.assertIn("0/2 task(s) run the new version; last task failure: Failed to launch container",
                      res.last["detail"])

    def test_never_finishing_deploy(self):
        m = self.emulator([app_def("/ds/prod/web")], deploy_seconds=0.1, never_finish=True)
        res = self.ok(self.options(m), ("update", "/ds/prod/web", "x/web:2"), ("wait", "/ds/prod/web", "@", "1", "100"))
        self.assertEqual(res.last["state"], "timeout")
        self.assertRegex(res.last["detail"], r"^deployment [-0-9a-f]+: step 1/1; 0/2 task\(s\) run the new version$")
        # once the cluster finds room, the deployment ends
        m.never_finish = False
        dep = res.of("update")[0]["deploy_id"]
        res = self.ok(self.options(m), "wait", "/ds/prod/web", dep, "10", "50")
        self.assertEqual(res.last["state"], "done")

    def test_cancelled_deployment(self):
        m = self.emulator([app_def("/ds/prod/web")], deploy_seconds=30)
        dep = self.ok(self.options(m), "update", "/ds/prod/web", "x/web:2").last["deploy_id"]
        status, _ = http("DELETE", "%s/v2/deployments/%s?force=true" % (m.url, dep))
        self.assertEqual(status, 202)
        res = self.ok(self.options(m), "poll", "/ds/prod/web", dep)
        self.assertEqual(res.last["state"], "failed")
        self.assertIn("Marathon reports no task failure (was the deployment cancelled?)", res.last["detail"])


# --- authentication ------------------------------------------------------------------------

PASSWORD = "pa$$w0rd-do-not-print"


class TestAuth(MarathonCase):

    def assert_secret_kept(self, res, *secrets):
        for s in secrets:
            self.assertNotIn(s, res.out)
            self.assertNotIn(s, res.err)

    def test_basic(self):
        m = self.emulator([app_def("/ds/prod/web")], auth="basic", users={"ci": PASSWORD})
        pw = self.write("pw", PASSWORD + "\n", 0o600)
        opts = self.options(m, marathon_auth="basic", marathon_username="ci", marathon_password_file=pw)
        res = self.ok(opts, ("find", "web"), ("current", "/ds/prod/web"), verbose="-vv")
        self.assert_secret_kept(res, PASSWORD, base64.b64encode(("ci:" + PASSWORD).encode()).decode())
        expected = "Basic " + base64.b64encode(("ci:" + PASSWORD).encode()).decode()
        self.assertTrue(all(r["headers"].get("Authorization") == expected for r in m.requests))
        # the password from the environment
        opts.pop("marathon_password_file")
        self.ok(opts, "find", "web", env={"REWIND_MARATHON_PASSWORD": PASSWORD})
        # none at all
        res = self.fails(5, opts, "open")
        self.assertEqual(res.last["command"], "open")
        self.assertIn("needs a password: set [marathon] password-file", res.last["error"])

    def test_basic_wrong_password(self):
        m = self.emulator([app_def("/ds/prod/web")], auth="basic", users={"ci": PASSWORD})
        wrong = "wrong-" + PASSWORD
        opts = self.options(m, marathon_auth="basic", marathon_username="ci",
                            marathon_password_file=self.write("pw", wrong))
        res = self.fails(5, opts, "find", "web", verbose="-vv")
        self.assertEqual(res.last["class"], "auth")
        self.assertIn("listing apps: HTTP 401 Invalid username or password. (GET %s/v2/apps?id=%%2Fds%%2Fprod)" % m.url,
                      res.last["error"])
        self.assert_secret_kept(res, wrong, PASSWORD)

    def test_credentials_in_the_url_are_used_but_never_shown(self):
        m = self.emulator([app_def("/ds/prod/web")], auth="basic", users={"ci": PASSWORD})
        url = m.url.replace("http://", "http://ci:%s@" % PASSWORD, 1)
        res = self.ok(self.options(m, marathon_url=url), ("find", "web"), verbose="-vv")
        self.assertEqual(res.last["app_id"], "/ds/prod/web")
        self.assert_secret_kept(res, PASSWORD)
        res = self.fails(9, self.options(m, marathon_url=url), ("find", "web"), ("current", "/ds/prod/nope"),
                         verbose="-vv")
        self.assertIn("Marathon %s: reading app '/ds/prod/nope': HTTP 404" % m.url.replace("http://", "http://REDACTED@"),
                      res.last["error"])
        self.assert_secret_kept(res, PASSWORD, base64.b64encode(("ci:" + PASSWORD).encode()).decode())

    def test_no_credentials_given(self):
        m = self.emulator([app_def("/ds/prod/web")], auth="basic", users={"ci": PASSWORD})
        res = self.fails(5, self.options(m), "find", "web")
        self.assertIn("Marathon wants credentials: set [marathon] auth = basic, dcos or token", res.last["error"])

    def test_dcos_login(self):
        m = self.emulator([app_def("/ds/prod/web")], auth="dcos", users={"ci": PASSWORD}, deploy_seconds=0.1)
        self.assertTrue(m.url.endswith("/service/marathon"))
        opts = self.options(m, marathon_auth="dcos", marathon_username="ci",
                            marathon_password_file=self.write("pw", PASSWORD + "\n"))
        res = self.ok(opts, ("find", "web"), ("update", "/ds/prod/web", "x/web:2"),
                      ("wait", "/ds/prod/web", "@", "10", "50"), verbose="-vv")
        self.assertEqual(res.last["state"], "done")
        logins = [r for r in m.requests if r["path"] == "/acs/api/v1/auth/login"]
        self.assertEqual(len(logins), 1)
        self.assertEqual(logins[0]["json"], {"uid": "ci", "password": PASSWORD})
        self.assertEqual(logins[0]["headers"].get("Content-Type"), "application/json")
        token = m._tokens.copy().pop()
        others = [r for r in m.requests if r is not logins[0]]
        self.assertTrue(all(r["headers"].get("Authorization") == "token=" + token for r in others))
        self.assertTrue(all(r["path"].startswith("/service/marathon/v2/") for r in others))
        self.assert_secret_kept(res, PASSWORD, token)

    def test_dcos_wrong_password(self):
        m = self.emulator([app_def("/ds/prod/web")], auth="dcos", users={"ci": PASSWORD})
        wrong = "nope-" + PASSWORD
        opts = self.options(m, marathon_auth="dcos", marathon_username="ci")
        res = self.fails(5, opts, "find", "web", env={"REWIND_MARATHON_PASSWORD": wrong}, verbose="-vv")
        err = res.last["error"]
        self.assertIn("DC/OS login as 'ci': HTTP 401 ERR_INVALID_CREDENTIALS: The credentials were rejected", err)
        self.assertIn("(POST %s/acs/api/v1/auth/login)" % m.origin, err)
        self.assert_secret_kept(res, wrong, PASSWORD)
        self.assertEqual(m.count("GET"), 0)

    def test_dcos_token_expires_during_a_run(self):
        m = self.emulator([app_def("/ds/prod/web")], auth="dcos", users={"ci": PASSWORD})
        opts = self.options(m, marathon_auth="dcos", marathon_username="ci",
                            marathon_password_file=self.write("pw", PASSWORD))
        # the token dies between the two commands
        proc = self.drive(opts, ("find", "web"), ("sleep", "3000"), ("current", "/ds/prod/web"), popen=True)
        self.assertEqual(json.loads(proc.stdout.readline())["app_id"], "/ds/prod/web")
        m.expire_tokens()
        out, err = proc.communicate(timeout=RUN_TIMEOUT)
        res = self.checked(proc.returncode, out, err)
        self.assertEqual(res.code, 0, repr(res))
        self.assertEqual(json.loads(out.splitlines()[-1])["image"], REGISTRY + "/web:1.8.0-master")
        self.assertEqual(m.count("POST", "/auth/login"), 2)

    def test_token_file(self):
        m = self.emulator([app_def("/ds/prod/web")], auth="dcos", users={})
        token = m.issue_token("rewind-ci")
        opts = self.options(m, marathon_auth="token", marathon_token_file=self.write("token", token + "\n"))
        res = self.ok(opts, ("find", "web"), ("current", "/ds/prod/web"), verbose="-vv")
        self.assertTrue(all(r["headers"].get("Authorization") == "token=" + token for r in m.requests))
        self.assert_secret_kept(res, token)
        m.expire_tokens()
        res = self.fails(5, opts, "find", "web")
        self.assertIn("HTTP 401 ERR_INVALID_AUTH_TOKEN: Authentication token invalid or expired", res.last["error"])
        self.assert_secret_kept(res, token)
        res = self.fails(5, self.options(m, marathon_auth="token", marathon_token_file=self.write("empty", "\n")),
                         "open")
        self.assertIn("the token file", res.last["error"])
        self.assertIn("is empty", res.last["error"])


# --- configuration, connection and garbage ------------------------------------------------

class TestErrors(MarathonCase):

    def test_configuration(self):
        cases = [({"marathon_url": None}, "needs its URL"),
                 ({"marathon_url": "marathon.example.com:8080"}, "invalid [marathon] url"),
                 ({"marathon_auth": "kerberos"}, "unknown [marathon] auth 'kerberos'"),
                 ({"marathon_auth": "basic"}, "auth = basic needs a username"),
                 ({"marathon_auth": "dcos"}, "auth = dcos needs a username"),
                 ({"marathon_auth": "token"}, "auth = token needs [marathon] token-file")]
        for extra, message in cases:
            opts = self.options(None, marathon_url="http://127.0.0.1:1")
            opts.update({k: v for k, v in extra.items() if v is not None})
            if extra.get("marathon_url", "") is None:
                opts.pop("marathon_url")
            res = self.fails(3, opts, "open")
            self.assertEqual(res.last["command"], "new")
            self.assertIn(message, res.last["error"])

    def test_marathon_down(self):
        url = "http://127.0.0.1:%d/marathon" % free_port()
        res = self.fails(9, self.options(None, marathon_url=url), "find", "web")
        err = res.last["error"]
        self.assertEqual(res.last["command"], "open")
        self.assertIn("Marathon %s: listing apps: " % url, err)
        self.assertIn("(GET %s/v2/apps?id=%%2Fds%%2Fprod)" % url, err)
        self.assertRegex(err.lower(), "connect|refused")

    def test_garbage_answers(self):
        m = self.emulator([app_def("/ds/prod/web")], deploy_seconds=0.1)
        with FaultProxy(m.url) as px:
            opts = self.options(None, marathon_url=px.url)
            px.add_rule("GET", r"^/v2/apps\?", garbage=64)
            res = self.fails(9, opts, "find", "web")
            self.assertIn("listing apps: unusable answer: not JSON", res.last["error"])
            self.assertIn("(GET %s/v2/apps?id=%%2Fds%%2Fprod, HTTP 200)" % px.url, res.last["error"])

            px.add_rule("GET", r"^/v2/apps\?", body=b'{"apps": {"id": "/ds/prod/web"}}')
            res = self.fails(9, opts, "find", "web")
            self.assertIn('listing apps: unusable answer: no "apps" list', res.last["error"])

            px.add_rule("GET", r"^/v2/apps\?", body=b'{"apps": [{"name": "/ds/prod/web"}]}')
            res = self.fails(9, opts, "find", "web")
            self.assertIn('app 0 has no "id"', res.last["error"])

            px.add_rule("GET", r"^/v2/apps/ds/prod/web", body=b'{"apps": []}')
            res = self.fails(9, opts, "current", "/ds/prod/web")
            self.assertIn("reading app '/ds/prod/web': unusable answer: no \"app\" object", res.last["error"])

            px.add_rule("GET", r"^/v2/apps/ds/prod/web", status=502, headers={"Content-Type": "text/html"},
                        body=b"<html><body><h1>502 Bad Gateway</h1>\n</body></html>")
            res = self.fails(9, opts, "current", "/ds/prod/web")
            self.assertIn("reading app '/ds/prod/web': HTTP 502 '<html><body><h1>502 Bad Gateway</h1>?</body></html>'",
                          res.last["error"])

            px.add_rule("PUT", r"^/v2/apps/", body=b"{}")
            res = self.fails(9, opts, "update", "/ds/prod/web", "x/web:2")
            self.assertIn('updating app \'/ds/prod/web\': unusable answer: no "deploymentId"', res.last["error"])

            px.add_rule("PUT", r"^/v2/apps/", body=b"")
            res = self.fails(9, opts, "update", "/ds/prod/web", "x/web:3")
            self.assertIn("unusable answer: an empty body, JSON expected", res.last["error"])

            px.add_rule("GET", r"^/v2/deployments", body=b'{"deployments": []}')
            res = self.fails(9, opts, "poll", "/ds/prod/web", "abc")
            self.assertIn("listing deployments: unusable answer: not a JSON list", res.last["error"])

            for fault in ({"truncate": 1}, {"status": 503, "body": b"no leader"}):
                px.add_rule("GET", r"^/v2/deployments", **fault)
                res = self.fails(9, opts, "poll", "/ds/prod/web", "abc")
                self.assertIn("listing deployments: ", res.last["error"])
                self.assertIn("(GET %s/v2/deployments)" % px.url, res.last["error"])

            # and with the faults gone, all is well again
            px.reset()
            res = self.ok(opts, ("update", "/ds/prod/web", "x/web:4"), ("wait", "/ds/prod/web", "@", "10", "50"))
            self.assertEqual(res.last["state"], "done")


if __name__ == "__main__":
    unittest.main()
