#!/usr/bin/env python3
"""A Marathon (REST API v2) emulator for testing rewind's Marathon backend.

    apps = {"/ds/prod/web": {...full app definition...}}     # or a list of definitions
    with MarathonEmulator(apps, deploy_seconds=0.5) as m:
        m.url                          # Marathon's base URL (with auth="dcos": .../service/marathon)
        m.app("/ds/prod/web")          # the current definition (as GET /v2/apps/{id} shows it)
        m.fail_images = r":9\\.9\\.9"  # deploys of a matching image fail
        dep = m.lock("/ds/prod/web")   # a deployment that holds the app until m.unlock(dep)
        m.requests                     # every request: method, path, query, headers, body, json, status

What it follows, from github.com/mesosphere/marathon (docs/docs/rest-api/public/api/):

* v2/apps.raml: GET /v2/apps (query `id`: apps whose id "is or contains" the
  value; `cmd`; `label` (existence, ==, !=); `embed` apps.tasks,
  apps.counts, apps.deployments, apps.lastTaskFailure, apps.failures),
  GET /v2/apps/{app_id} (answers {"app": AppInfo}), PUT /v2/apps/{app_id}
  (`partialUpdate`, default "true"; `force`), GET /v2/apps/{app_id}/tasks,
  GET /v2/apps/{app_id}/versions; 404 {"message": "App '/x' does not exist"}.
* traits.raml: `secured` (401 {"message": "Invalid username or password."},
  403), `deployable` (200 with the Marathon-Deployment-Id header and a
  DeploymentResult; 409 {"message": "App is locked by one or more
  deployments. Override with the option '?force=true'. View details at
  '/v2/deployments/<DEPLOYMENT_ID>'.", "deployments": [{"id": ...}]}),
  `jsonValidator` (400 {"message": "Invalid JSON", "details": [...]}),
  `objectValidator` (422 {"message": "Object is not valid", "details":
  [{"path": ..., "errors": [...]}]}).
* v2/deployments.raml: GET /v2/deployments (id, version, affectedApps,
  affectedPods, steps, currentActions, currentStep, totalSteps, as
  examples/deployments.json), DELETE /v2/deployments/{id} (force=true: 202,
  no body; else a rollback deployment, 200 DeploymentResult; 404).
* v2/types/app.raml (App fields and their defaults; AppInfo adds
  tasksStaged/Running/Healthy/Unhealthy, deployments, tasks,
  lastTaskFailure, ...), v2/types/task.raml (Task, TaskFailure),
  v2/types/deploymentResult.raml, v2/types/error.raml, v2/types/versionInfo.raml;
  examples app.json, app_list.json, app_tasks.json, deployments.json,
  deployments_result.json.

Where the RAML is silent it follows the server code (src/main/scala/
mesosphere/marathon/api/): AppsResource.scala (GET /v2/apps always embeds
counts and deployments; GET /v2/apps/{id} always embeds counts, tasks,
lastTaskFailure and deployments; the `id` filter is a case-insensitive
substring match; a complete replacement (partialUpdate=false) parses the body
as a new App, overriding its id with the path's and throwing `version` away),
AppHelpers.scala (a partial update replaces each top-level field it names
wholesale: {"container": {...}} replaces the whole container; an update
naming `version` is a rollback to that version), validation/AppValidation.scala
("The 'version' field may only be combined with the 'id' field.";
container.docker.image "must not be empty"), Validation.scala (the 422 shape),
MarathonExceptionMapper.scala and Exception.scala (the 409 shape).

A deployment runs for `deploy_seconds` (in its second half the new tasks are
staged next to the old ones, as a rolling upgrade with maximumOverCapacity
does), then the app's tasks all run the new version and the deployment leaves
GET /v2/deployments. Knobs:

* `never_finish = True`: deployments started (or running) while it is set
  stay forever (e.g. no offers match; readiness never ok), tasks on the old
  version.
* `fail_images = REGEX` (re.search on the new container.docker.image): the
  new tasks fail. What real Marathon does then is keep the deployment and
  relaunch with backoff forever, setting the app's lastTaskFailure: that is
  `fail_mode = "retry"` (default), and rewind can only time out. With
  `fail_mode = "abort"` the deployment is removed after deploy_seconds (as
  when someone cancels it with DELETE /v2/deployments/{id}?force=true): the
  definition keeps the new image, the tasks keep the old version, and
  lastTaskFailure says why.
* `lock(app_id)`: a deployment (a ScaleApplication that never ends) holds the
  app, so PUT answers 409 unless force=true, which cancels it; `unlock()`.

Authentication (`auth=`):

* None: open.
* "basic": HTTP Basic against `users` ({"user": "password"}), as Marathon's
  --http_credentials; 401 with `WWW-Authenticate: Basic realm="Mesosphere"`.
* "dcos": DC/OS: Marathon is served under /service/marathon (what Admin
  Router does) and POST /acs/api/v1/auth/login {"uid", "password"} answers
  {"token": ...} (an RS256-looking JWT; here HS256-signed); requests carry
  `Authorization: token=<token>`. Anything else: 401 with `WWW-Authenticate:
  acsjwt` and the IAM's error shape {"title", "description", "code"} (code
  ERR_INVALID_CREDENTIALS for a refused login, as dcos/dcos's IAM tests
  expect). `issue_token(uid)` makes a token as a service account's would be
  (for rewind's auth = token); `expire_tokens()` invalidates every token.

Standard library only; a ThreadingHTTPServer on 127.0.0.1 with a free port.
`python3 tests/helpers/marathon.py` runs a small self-test.
"""

import base64
import copy
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
import urllib.parse
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from lifecycle import Stoppable, serve_in_thread, shutdown_server

# The fields of AppInfo that are not part of an App (app.raml: AppInfo), plus
# the version fields Marathon sets itself. A complete replacement ignores them.
STATUS_FIELDS = ("tasksStaged", "tasksRunning", "tasksHealthy", "tasksUnhealthy", "deployments",
                 "readinessCheckResults", "tasks", "lastTaskFailure", "tasksStats", "taskStats")
VERSION_FIELDS = ("version", "versionInfo")

# What Marathon's normalization fills in when a new or completely replaced
# definition leaves a field out (app.raml defaults, AppNormalization).
DEFAULTS = {
    "instances": 1, "cpus": 1, "mem": 128, "disk": 0, "gpus": 0, "executor": "",
    "backoffSeconds": 1, "backoffFactor": 1.15, "maxLaunchDelaySeconds": 300,
    "requirePorts": False, "constraints": [], "env": {}, "labels": {}, "fetch": [],
    "healthChecks": [], "readinessChecks": [], "dependencies": [], "secrets": {},
    "upgradeStrategy": {"minimumHealthCapacity": 1, "maximumOverCapacity": 1},
    "killSelection": "YOUNGEST_FIRST",
    "unreachableStrategy": {"inactiveAfterSeconds": 0, "expungeAfterSeconds": 0},
    "networks": [{"mode": "host"}], "portDefinitions": [{"port": 0, "protocol": "tcp"}],
    "role": "*",
}

LOCKED_MESSAGE = ("App is locked by one or more deployments. Override with the option '?force=true'. "
                  "View details at '/v2/deployments/<DEPLOYMENT_ID>'.")
PULL_FAILURE = ("Failed to launch container: Failed to run 'docker -H unix:///var/run/docker.sock pull %s': "
                "exit status = exited with status 1 stderr = Error response from daemon: manifest for %s not found")

def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def canonical_id(app_id):
    """Marathon's absolute path id: "ds/prod/web/" -> "/ds/prod/web"."""
    return "/" + app_id.strip("/")


class _App:
    """An app: its definition (App fields only) and its status."""

    def __init__(self, config, version):
        self.config = config
        self.version = version
        self.version_info = {"lastScalingAt": version, "lastConfigChangeAt": version}
        self.tasks = []
        self.last_task_failure = None
        self.history = {version: copy.deepcopy(config)}


class _Deployment:
    def __init__(self, dep_id, version, app_id, action, target, image, failing, previous):
        self.id = dep_id
        self.version = version
        self.app_id = app_id
        self.action = action          # "RestartApplication", "ScaleApplication" (lock)
        self.target = target          # the app version the new tasks run (None: a lock)
        self.image = image
        self.failing = failing
        self.previous = previous      # the version before, for DELETE's rollback
        self.started = time.monotonic()
        self.stuck = False            # never_finish was set while it ran

    def to_json(self):
        action = {"action": self.action, "app": self.app_id}
        return {"id": self.id, "version": self.version, "affectedApps": [self.app_id],
                "affectedPods": [], "steps": [{"actions": [dict(action)]}],
                "currentActions": [dict(action, readinessCheckResults=[])],
                "currentStep": 1, "totalSteps": 1}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "rewind-marathon-emulator/1"

    def log_message(self, fmt, *args):   # quiet; everything is in .requests
        pass

    def _dispatch(self):
        try:
            self.server.owner._serve(self)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch


class MarathonEmulator(Stoppable):
    """See the module docstring."""

    def __init__(self, apps=None, auth=None, users=None, deploy_seconds=0.0, fail_images=None,
                 fail_mode="retry", never_finish=False, base_path=None, hosts=3):
        if auth not in (None, "basic", "dcos"):
            raise ValueError("auth: None, 'basic' or 'dcos'")
        self.auth = auth
        self.users = dict(users or {})
        self.deploy_seconds = deploy_seconds
        self.fail_images = fail_images
        self.fail_mode = fail_mode
        self.never_finish = never_finish
        self.fail_message = PULL_FAILURE
        self.base_path = (base_path if base_path is not None
                          else "/service/marathon" if auth == "dcos" else "").rstrip("/")
        self.hosts = hosts
        self.requests = []
        self._apps = {}
        self._deployments = {}
        self._tokens = set()
        self._secret = secrets.token_bytes(32)
        self._last_version = 0.0
        self._task_seq = 0
        self._lock = threading.RLock()
        for app_id, definition in (apps.items() if isinstance(apps, dict) else
                                   ((a["id"], a) for a in apps or ())):
            self.add_app(definition, app_id=app_id)
        self._httpd = self._thread = None
        with self._starting():
            self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
            self._httpd.owner = self
            self._thread = serve_in_thread(self._httpd, "marathon-emulator")

    # --- public ------------------------------------------------------------------

    @property
    def origin(self):
        return "http://127.0.0.1:%d" % self._httpd.server_address[1]

    @property
    def url(self):
        return self.origin + self.base_path

    def _stop(self):
        httpd, self._httpd = self._httpd, None
        thread, self._thread = self._thread, None
        shutdown_server(httpd, thread)

    def add_app(self, definition, app_id=None):
        """Creates an app (normalized as Marathon would) with its tasks running."""
        with self._lock:
            config = {k: copy.deepcopy(v) for k, v in definition.items()
                      if k not in STATUS_FIELDS + VERSION_FIELDS}
            config["id"] = canonical_id(app_id or definition["id"])
            config = self._normalize(config)
            app = _App(config, definition.get("version") or self._new_version())
            if definition.get("versionInfo"):
                app.version_info = copy.deepcopy(definition["versionInfo"])
            app.history = {app.version: copy.deepcopy(config)}
            self._apps[config["id"]] = app
            app.tasks = [self._new_task(app, app.version, "TASK_RUNNING")
                         for _ in range(config.get("instances", 1))]
            return config["id"]

    def app(self, app_id):
        """The app as GET /v2/apps/{app_id} shows it (definition, version, status)."""
        with self._lock:
            self._advance()
            app = self._apps.get(canonical_id(app_id))
            return self._app_info(app, {"tasks", "counts", "deployments", "lastTaskFailure"}) if app else None

    def definition(self, app_id):
        """Only the App fields (no version, versionInfo or status)."""
        with self._lock:
            return copy.deepcopy(self._apps[canonical_id(app_id)].config)

    def tasks(self, app_id):
        with self._lock:
            self._advance()
            return copy.deepcopy(self._apps[canonical_id(app_id)].tasks)

    def deployments(self):
        with self._lock:
            self._advance()
            return [d.to_json() for d in self._deployments.values()]

    def lock(self, app_id, deployment_id=None):
        """A deployment that holds app_id until unlock(); returns its id."""
        with self._lock:
            app_id = canonical_id(app_id)
            dep = _Deployment(deployment_id or str(uuid.uuid4()), self._new_version(), app_id,
                              "ScaleApplication", None, None, False, None)
            self._deployments[dep.id] = dep
            return dep.id

    def unlock(self, deployment_id=None):
        """Ends one lock (or every lock)."""
        with self._lock:
            for dep_id in list(self._deployments):
                if self._deployments[dep_id].target is None and deployment_id in (None, dep_id):
                    del self._deployments[dep_id]

    def issue_token(self, uid="rewind-service"):
        """A valid token, as a DC/OS service account would hold."""
        with self._lock:
            return self._make_token(uid)

    def expire_tokens(self):
        with self._lock:
            self._tokens.clear()

    def count(self, method="*", path="."):
        """Recorded requests matching method ("*" = any) and a path regex."""
        pattern = re.compile(path)
        with self._lock:
            return sum(1 for r in self.requests
                       if method in ("*", r["method"]) and pattern.search(r["path"]))

    # --- state -------------------------------------------------------------------

    def _new_version(self):
        """An ISO timestamp with milliseconds, strictly increasing (versions are keys)."""
        now = max(time.time(), self._last_version + 0.001)
        self._last_version = now
        return datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + \
            "%03dZ" % (int(now * 1000) % 1000)

    def _normalize(self, config):
        out = copy.deepcopy(config)
        for key, value in DEFAULTS.items():
            out.setdefault(key, copy.deepcopy(value))
        if any(n.get("mode") != "host" for n in out.get("networks") or []) and "portDefinitions" not in config:
            out["portDefinitions"] = []
        return out

    def _new_task(self, app, version, state):
        self._task_seq += 1
        n = self._task_seq
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        task = {
            "appId": app.config["id"],
            "host": "agent-%d.example.com" % (n % self.hosts + 1),
            "id": "%s.instance-%s._app.1" % (app.config["id"].strip("/").replace("/", "_"), uuid.uuid4()),
            "ipAddresses": [{"ipAddress": "10.0.%d.%d" % (n % self.hosts + 1, 10 + n % 200), "protocol": "IPv4"}],
            "ports": [31000 + n % 1000 for _ in app.config.get("portDefinitions") or []],
            "servicePorts": [p.get("port", 0) for p in app.config.get("portDefinitions") or []],
            "slaveId": "0c7e1f3a-5b7d-4a4e-9f1e-3d2b6c8a9e%02d-S%d" % (n % self.hosts, n % self.hosts),
            "stagedAt": now,
            "startedAt": now if state == "TASK_RUNNING" else None,
            "state": state,
            "version": version,
            "localVolumes": [],
            "region": "primary",
            "zone": "zone-%d" % (n % self.hosts + 1),
            "role": app.config.get("role", "*"),
        }
        if state != "TASK_RUNNING":
            del task["startedAt"]
        if app.config.get("healthChecks") and state == "TASK_RUNNING":
            task["healthCheckResults"] = [{"alive": True, "consecutiveFailures": 0, "firstSuccess": now,
                                           "lastFailure": None, "lastSuccess": now,
                                           "lastFailureCause": None, "instanceId": task["id"]}]
        return task

    def _task_failure(self, app, dep):
        return {"appId": app.config["id"], "host": "agent-1.example.com",
                "message": self.fail_message % (dep.image, dep.image) if "%s" in self.fail_message
                else self.fail_message,
                "state": "TASK_FAILED",
                "taskId": "%s.instance-%s._app.1" % (app.config["id"].strip("/").replace("/", "_"), uuid.uuid4()),
                "timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                "version": dep.target, "slaveId": "0c7e1f3a-5b7d-4a4e-9f1e-3d2b6c8a9e00-S0"}

    def _advance(self):
        """Moves every deployment on by the time that passed (called under the lock)."""
        now = time.monotonic()
        for dep in list(self._deployments.values()):
            if dep.target is None:
                continue                                  # a lock
            app = self._apps.get(dep.app_id)
            elapsed = now - dep.started
            if app is None:
                del self._deployments[dep.id]
                continue
            if dep.failing:
                app.last_task_failure = self._task_failure(app, dep)
                if self.fail_mode == "abort" and elapsed >= self.deploy_seconds:
                    del self._deployments[dep.id]
                continue
            if self.never_finish:
                dep.stuck = True
                continue
            if elapsed >= self.deploy_seconds:
                instances = app.config.get("instances", 1)
                app.tasks = [self._new_task(app, dep.target, "TASK_RUNNING") for _ in range(instances)]
                del self._deployments[dep.id]
            elif elapsed >= self.deploy_seconds / 2 and not any(t["version"] == dep.target for t in app.tasks):
                # maximumOverCapacity: the new tasks start next to the old ones
                app.tasks += [self._new_task(app, dep.target, "TASK_STAGING")
                              for _ in range(min(app.config.get("instances", 1), 1))]

    def _app_info(self, app, embed):
        info = copy.deepcopy(app.config)
        info["version"] = app.version
        info["versionInfo"] = copy.deepcopy(app.version_info)
        if "counts" in embed:
            running = sum(1 for t in app.tasks if t["state"] == "TASK_RUNNING")
            info["tasksStaged"] = sum(1 for t in app.tasks if t["state"] == "TASK_STAGING")
            info["tasksRunning"] = running
            info["tasksHealthy"] = running if app.config.get("healthChecks") else 0
            info["tasksUnhealthy"] = 0
        if "deployments" in embed:
            info["deployments"] = [{"id": d.id} for d in self._deployments.values()
                                   if d.app_id == app.config["id"]]
        if "tasks" in embed:
            info["tasks"] = copy.deepcopy(app.tasks)
        if "lastTaskFailure" in embed and app.last_task_failure:
            info["lastTaskFailure"] = copy.deepcopy(app.last_task_failure)
        return info

    def _make_token(self, uid):
        header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = _b64url(json.dumps({"uid": uid, "exp": int(time.time()) + 5 * 86400}).encode())
        sig = _b64url(hmac.new(self._secret, ("%s.%s" % (header, payload)).encode(), hashlib.sha256).digest())
        token = "%s.%s.%s" % (header, payload, sig)
        self._tokens.add(token)
        return token

    # --- HTTP --------------------------------------------------------------------

    def _serve(self, h):
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        split = urllib.parse.urlsplit(h.path)
        query = urllib.parse.parse_qs(split.query, keep_blank_values=True)
        record = {"method": h.command, "path": urllib.parse.unquote(split.path), "query": query,
                  "target": h.path, "headers": dict(h.headers.items()), "body": raw.decode("utf-8", "replace"),
                  "json": None, "status": None, "time": time.time()}
        try:
            record["json"] = json.loads(raw) if raw else None
        except ValueError:
            pass
        with self._lock:
            self.requests.append(record)
            self._advance()
            status, headers, body = self._route(h, record, raw)
        record["status"] = status
        data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        h.send_response(status)
        for k, v in headers:
            h.send_header(k, v)
        if body is not None and not any(k.lower() == "content-type" for k, _ in headers):
            h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(data)

    def _route(self, h, record, raw):
        path, method = record["path"], h.command
        if self.auth == "dcos" and path == "/acs/api/v1/auth/login":
            return self._login(h, raw) if method == "POST" else \
                (400, [], {"title": "Bad Request", "description": "Missing query parameters",
                           "code": "ERR_MISSING_QUERY_PARAMETERS"})
        if not path.startswith(self.base_path + "/"):
            return 404, [], {"message": "URI not found"}
        path = path[len(self.base_path):]
        denied = self._authenticate(h)
        if denied:
            return denied
        q = {k: v[-1] for k, v in record["query"].items()}
        if path == "/ping":
            return 200, [("Content-Type", "text/plain")], b"pong\n"
        if path == "/v2/apps" and method == "GET":
            return self._list_apps(record["query"])
        if path == "/v2/deployments" and method == "GET":
            return 200, [], [d.to_json() for d in self._deployments.values()]
        m = re.match(r"^/v2/deployments/(.+)$", path)
        if m and method == "DELETE":
            return self._delete_deployment(m.group(1), q.get("force") == "true")
        m = re.match(r"^/v2/apps/(.+?)/tasks/?$", path)
        if m and method == "GET":
            return self._get_tasks(canonical_id(m.group(1)))
        m = re.match(r"^/v2/apps/(.+?)/versions/?$", path)
        if m and method == "GET":
            app = self._apps.get(canonical_id(m.group(1)))
            if not app:
                return self._unknown_app(canonical_id(m.group(1)))
            return 200, [], {"versions": sorted(app.history, reverse=True)}
        m = re.match(r"^/v2/apps/(.+)$", path)
        if m and method == "GET":
            return self._get_app(canonical_id(m.group(1)))
        if m and method == "PUT":
            return self._put_app(canonical_id(m.group(1)), q, raw)
        return 404, [], {"message": "URI not found"}

    # --- authentication ----------------------------------------------------------

    def _authenticate(self, h):
        value = h.headers.get("Authorization") or ""
        if self.auth == "basic":
            if value.startswith("Basic "):
                try:
                    user, _, password = base64.b64decode(value[6:]).decode().partition(":")
                except (ValueError, UnicodeDecodeError):
                    user, password = None, None
                if user in self.users and hmac.compare_digest(self.users[user], password or ""):
                    return None
            return 401, [("WWW-Authenticate", 'Basic realm="Mesosphere"')], \
                {"message": "Invalid username or password."}
        if self.auth == "dcos":
            if value.startswith("token=") and value[6:] in self._tokens:
                return None
            return 401, [("WWW-Authenticate", "acsjwt")], \
                {"title": "Unauthorized", "code": "ERR_INVALID_AUTH_TOKEN" if value else "ERR_MISSING_AUTH_TOKEN",
                 "description": "Authentication token invalid or expired; log in again (POST /acs/api/v1/auth/login)"
                 if value else "Request requires authentication: send Authorization: token=<authentication token>"}
        return None

    def _login(self, h, raw):
        ctype = h.headers.get("Content-Type") or ""
        if not ctype:
            return 400, [], {"title": "Bad Request", "description": "Missing Content-Type header",
                             "code": "ERR_INVALID_DATA"}
        try:
            doc = json.loads(raw) if "json" in ctype else None
        except ValueError:
            doc = None
        if not isinstance(doc, dict):
            return 400, [], {"title": "Bad Request", "description": "Request has bad Content-Type or lacks JSON data",
                             "code": "ERR_INVALID_DATA"}
        uid, password = doc.get("uid"), doc.get("password")
        if isinstance(uid, str) and isinstance(password, str) and uid in self.users and \
                hmac.compare_digest(self.users[uid], password):
            token = self._make_token(uid)
            return 200, [("Set-Cookie", "dcos-acs-auth-cookie=%s; HttpOnly; Path=/" % token)], {"token": token}
        return 401, [("WWW-Authenticate", "acsjwt")], \
            {"title": "Invalid credentials", "description": "The credentials were rejected, please try again.",
             "code": "ERR_INVALID_CREDENTIALS"}

    # --- apps --------------------------------------------------------------------

    @staticmethod
    def _embeds(values, prefix):
        """InfoEmbedResolver: "apps.tasks" / "app.tasks" / "tasks" -> {"tasks", "deployments"} ..."""
        out = set()
        for v in values:
            for p in ("group.apps.", "apps.", "app."):
                if v.startswith(p):
                    v = v[len(p):]
                    break
            out |= {"tasks": {"tasks", "deployments"}, "failures": {"tasks", "lastTaskFailure", "deployments"},
                    "deployments": {"deployments"}, "lastTaskFailure": {"lastTaskFailure"},
                    "counts": {"counts"}}.get(v, set())
        return out

    @staticmethod
    def _label_match(labels, selector):
        for part in filter(None, (s.strip() for s in selector.split(","))):
            m = re.match(r"^([-A-Za-z0-9_.]+)\s*(==|!=)\s*(.*)$", part)
            if m:
                key, op, value = m.groups()
                if op == "==" and labels.get(key) != value:
                    return False
                if op == "!=" and (key not in labels or labels[key] == value):
                    return False
            elif part not in labels:
                return False
        return True

    def _list_apps(self, query):
        embed = self._embeds(query.get("embed", []), "apps.") | {"counts", "deployments"}
        apps = []
        for app in sorted(self._apps.values(), key=lambda a: a.config["id"]):
            if "id" in query and query["id"][-1].lower() not in app.config["id"].lower():
                continue
            if "cmd" in query and query["cmd"][-1].lower() not in (app.config.get("cmd") or "").lower():
                continue
            if "label" in query and not self._label_match(app.config.get("labels") or {}, query["label"][-1]):
                continue
            apps.append(self._app_info(app, embed))
        return 200, [], {"apps": apps}

    def _unknown_app(self, app_id):
        return 404, [], {"message": "App '%s' does not exist" % app_id}

    def _get_app(self, app_id):
        app = self._apps.get(app_id)
        if not app:
            return self._unknown_app(app_id)
        return 200, [], {"app": self._app_info(app, {"counts", "tasks", "lastTaskFailure", "deployments"})}

    def _get_tasks(self, app_id):
        app = self._apps.get(app_id)
        if not app:
            return self._unknown_app(app_id)
        return 200, [], {"tasks": copy.deepcopy(app.tasks)}

    @staticmethod
    def _validate(config):
        """The few AppValidation rules rewind can trip over: {path: [errors]}."""
        errors = {}
        container = config.get("container") or {}
        if container.get("type", "DOCKER") == "DOCKER" and "docker" in container:
            image = (container.get("docker") or {}).get("image")
            if not isinstance(image, str) or not image:
                errors["/container/docker/image"] = ["must not be empty"]
        for field, minimum in (("instances", 0), ("cpus", 0.001), ("mem", 0), ("disk", 0)):
            value = config.get(field)
            if value is not None and (not isinstance(value, (int, float)) or value < minimum):
                errors["/" + field] = ["got %s, expected %s or more" % (value, minimum)]
        strategy = config.get("upgradeStrategy") or {}
        for key in ("minimumHealthCapacity", "maximumOverCapacity"):
            if isinstance(strategy.get(key), (int, float)) and strategy[key] > 1:
                errors["/upgradeStrategy/" + key] = ["is greater than 1"]
        if config.get("cmd") is not None and config.get("args"):
            errors["/"] = ["AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'."]
        return errors

    @staticmethod
    def _invalid(errors):
        return 422, [], {"message": "Object is not valid",
                         "details": [{"path": p, "errors": e} for p, e in sorted(errors.items())]}

    def _put_app(self, app_id, q, raw):
        force = q.get("force") == "true"
        partial = q.get("partialUpdate", "true") != "false"   # the RAML's default is "true"
        try:
            body = json.loads(raw)
        except ValueError as e:
            return 400, [], {"message": "Invalid JSON", "details": str(e)}
        if not isinstance(body, dict):
            return 400, [], {"message": "Invalid JSON",
                             "details": [{"path": "/", "errors": ["error.expected.jsobject"]}]}
        app = self._apps.get(app_id)
        rollback = None
        if app and partial:
            if "version" in body:
                if set(body) - {"id", "version"}:
                    return self._invalid({"/": ["The 'version' field may only be combined with the 'id' field."]})
                if body["version"] not in app.history:
                    return 404, [], {"message": "App '%s' does not exist in version %s" % (app_id, body["version"])}
                rollback = copy.deepcopy(app.history[body["version"]])
            config = rollback or copy.deepcopy(app.config)
            if rollback is None:
                for key, value in body.items():
                    if key not in STATUS_FIELDS + VERSION_FIELDS and key != "id":
                        config[key] = copy.deepcopy(value)     # a field is replaced wholesale
        else:
            config = {k: copy.deepcopy(v) for k, v in body.items() if k not in STATUS_FIELDS + VERSION_FIELDS}
            config["id"] = app_id
            config = self._normalize(config)
        errors = self._validate(config)
        if errors:
            return self._invalid(errors)
        blocking = [d for d in self._deployments.values() if d.app_id == app_id]
        if blocking and not force:
            return 409, [], {"message": LOCKED_MESSAGE, "deployments": [{"id": d.id} for d in blocking]}
        for d in blocking:                       # force: the running deployments are cancelled
            del self._deployments[d.id]
        return self._deploy(app_id, app, config)

    def _deploy(self, app_id, app, config):
        version = self._new_version()
        created = app is None
        if created:
            app = _App(config, version)
            self._apps[app_id] = app
            previous = None
        else:
            previous = app.version
            scaling_only = {k: v for k, v in config.items() if k != "instances"} == \
                {k: v for k, v in app.config.items() if k != "instances"}
            app.config = config
            app.version = version
            app.version_info = {"lastScalingAt": version,
                                "lastConfigChangeAt": app.version_info["lastConfigChangeAt"] if scaling_only
                                else version}
        app.history[version] = copy.deepcopy(config)
        image = ((config.get("container") or {}).get("docker") or {}).get("image")
        failing = bool(self.fail_images and image and re.search(self.fail_images, image))
        dep = _Deployment(str(uuid.uuid4()), version, app_id,
                          "StartApplication" if created else "RestartApplication",
                          version, image, failing, previous)
        self._deployments[dep.id] = dep
        self._advance()
        return 201 if created else 200, [("Marathon-Deployment-Id", dep.id)], \
            {"version": version, "deploymentId": dep.id}

    def _delete_deployment(self, dep_id, force):
        dep = self._deployments.pop(dep_id, None)
        if dep is None:
            return 404, [], {"message": "DeploymentPlan %s does not exist" % dep_id}
        app = self._apps.get(dep.app_id)
        if force or dep.target is None or not app or not dep.previous:
            return 202, [], None
        return self._deploy(dep.app_id, app, copy.deepcopy(app.history[dep.previous]))


if __name__ == "__main__":
    import urllib.request

    def call(m, method, path, body=None, headers=None):
        req = urllib.request.Request(m.url + path, method=method, headers=headers or {},
                                     data=json.dumps(body).encode() if body is not None else None)
        if body is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    web = {"id": "/ds/prod/web", "cmd": "./run", "instances": 2,
           "container": {"type": "DOCKER", "docker": {"image": "registry.example.com/web:1.0"}}}
    with MarathonEmulator({"/ds/prod/web": web}, deploy_seconds=0.3) as m:
        print(call(m, "GET", "/v2/apps?id=prod/w")[1]["apps"][0]["id"])
        app = call(m, "GET", "/v2/apps/ds/prod/web")[1]["app"]
        app["container"]["docker"]["image"] = "registry.example.com/web:2.0"
        print(call(m, "PUT", "/v2/apps/ds/prod/web?partialUpdate=true", {"container": app["container"]}))
        print(call(m, "PUT", "/v2/apps/ds/prod/web", {"cmd": "x"}))
        print(len(call(m, "GET", "/v2/deployments")[1]), "deployment(s)")
        time.sleep(0.4)
        print({t["version"] for t in call(m, "GET", "/v2/apps/ds/prod/web/tasks")[1]["tasks"]},
              m.app("/ds/prod/web")["version"])
        print(call(m, "PUT", "/v2/apps/ds/prod/web", {"container": {"type": "DOCKER", "docker": {"image": ""}}}))
