/*
 * The Docker Swarm backend: the services of a swarm, redeployed through the
 * Docker Engine API v1.41 (Docker 20.10 and later) of a manager node, on a
 * unix socket, over TCP (TLS with client certificates) or over SSH
 * (swarm_ssh.c, which hands us a unix socket bridged to the remote engine).
 *
 * An update writes the service's whole spec back with only the image
 * changed, at the version it was read at, so that a concurrent change is
 * detected ("update out of sequence") rather than overwritten; the image is
 * always pinned by digest, so that every node runs the same bytes whatever
 * the tag points at by the time it pulls. Waiting follows `docker service
 * update`: the engine's UpdateStatus, then the tasks, which must all run the
 * new image for the service's monitor period.
 */
#include "internal.h"
#include "swarm_ssh.h"

#include "rewind/base64.h"
#include "rewind/config.h"
#include "rewind/errors.h"
#include "rewind/log.h"
#include "rewind/reference.h"
#include "rewind/secret.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define API "/v1.41"
#define BODY_CAP (32 << 20)        /* a swarm with thousands of tasks */
#define UPDATE_ATTEMPTS 5          /* re-reads when someone else changes the service meanwhile */
#define MONITOR_DEFAULT_MS 5000    /* the engine's default UpdateConfig.Monitor */
#define DEFAULT_HOST "unix:///var/run/docker.sock"

typedef enum { HOST_UNIX, HOST_TCP, HOST_SSH } host_kind;

/* What poll needs to remember between calls. */
typedef struct {
	char *image;                /* what update wrote */
	long long converged_since;  /* when every task first ran it (0: not yet, or not any more) */
} deploy;

typedef struct {
	rw_orchestrator parent;
	host_kind kind;
	char *host;                 /* as configured, for messages */
	char *base;                 /* "http://localhost/v1.41" */
	char *socket_path;
	char *ssh_user, *ssh_host;
	int ssh_port;
	char *ssh_key, *known_hosts;
	char *tls_ca, *tls_cert, *tls_key;
	char *user_agent;
	char *prefix;
	rw_strmap *app_ids;
	rw_http_opts http_opts;
	rw_http *http;
	rw_swarm_ssh *ssh;
	rw_strlist names;           /* every service, from open */
	rw_strmap *ids;             /* service name -> id */
	rw_strmap *deploys;         /* app id -> deploy */
} swarm;

/* ---- errors -------------------------------------------------------------- */

/* The engine's {"message": ...}, or the start of whatever else it said. */
static char *engine_message(const rw_http_req *req)
{
	const char *body = rw_http_req_body_str(req);
	json_t *root = body ? json_loads(body, 0, NULL) : NULL;
	const char *msg = json_string_value(json_object_get(root, "message"));
	char *out;

	if (msg)
		out = rw_strdup(msg);
	else if (body && *body)
		out = rw_str_trim(rw_strndup(body, strnlen(body, 300)));
	else
		out = rw_strdup("(no message)");
	json_decref(root);
	return out;
}

static int engine_error(swarm *s, const rw_http_req *req, const char *what)
{
	char *msg = engine_message(req);
	int error = rw_error_set(RW_ERR_ORCHESTRATOR, "docker engine at %s: %s: HTTP %d: %s",
		s->host, what, rw_http_req_status(req), msg);

	free(msg);
	return error;
}

/* No HTTP answer at all: say what the transport knows. */
static int transport_error(swarm *s, const rw_http_req *req, const char *what)
{
	const char *failure = rw_http_req_failure(req);
	char *ssh = s->ssh ? rw_swarm_ssh_take_failure(s->ssh) : NULL;
	const char *hint = "";
	int error;

	if (s->kind == HOST_TCP && s->tls_ca && !s->tls_cert &&
	    (rw_http_req_failed_tls(req) || (failure && strstr(failure, "certificate"))))
		hint = " (the engine may want a client certificate: set the swarm TLS certificate and key)";
	error = rw_error_set(RW_ERR_ORCHESTRATOR, "docker engine at %s: %s: %s%s%s%s%s", s->host, what,
		failure ? failure : "no answer", rw_http_req_failed_tls(req) ? " (TLS)" : "", hint,
		ssh ? "; " : "", ssh ? ssh : "");
	free(ssh);
	return error;
}

/* ---- requests ------------------------------------------------------------ */

static int connect_engine(swarm *s);

/*
 * One request to the engine; *out has its answer (any HTTP status). A
 * request that got no answer is an error. header: one extra header line.
 */
static int call(rw_http_req **out, swarm *s, const char *method, const char *path,
	const json_t *body, const char *header, const char *what)
{
	char *url = rw_printf("%s%s", s->base, path);
	rw_http_req *req;
	int error;

	/* open is the first call, but a backend that skipped it still talks */
	if (!s->http && connect_engine(s) < 0) {
		free(url);
		return RW_ERROR;
	}
	req = rw_http_req_new(method, url, BODY_CAP);
	free(url);
	if (s->socket_path)
		rw_http_req_unix_socket(req, s->socket_path);
	if (body) {
		char *text = json_dumps(body, JSON_COMPACT);

		rw_http_req_set_body(req, "application/json", text, strlen(text));
		free(text);
	}
	if (header)
		rw_http_req_header(req, "%s", header);
	/* a write is never sent twice on our own: the version check decides */
	if (strcmp(method, "GET"))
		rw_http_req_no_retry(req);
	if (s->ssh)
		free(rw_swarm_ssh_take_failure(s->ssh));
	if ((error = rw_http_perform(s->http, req)) == 0 && !rw_http_req_status(req))
		error = transport_error(s, req, what);
	if (error < 0) {
		rw_http_req_free(req);
		return error;
	}
	*out = req;
	return 0;
}

/* GET path, expecting 200 and JSON. */
static int get_json(json_t **out, swarm *s, const char *path, const char *what)
{
	rw_http_req *req;
	json_error_t jerr;
	int error = 0;

	if (call(&req, s, "GET", path, NULL, NULL, what) < 0)
		return RW_ERROR;
	if (rw_http_req_status(req) != 200)
		error = engine_error(s, req, what);
	else if (!(*out = json_loads(rw_http_req_body_str(req) ? rw_http_req_body_str(req) : "", 0, &jerr)))
		error = rw_error_set(RW_ERR_ORCHESTRATOR, "docker engine at %s: %s: the answer is not JSON: %s",
			s->host, what, jerr.text);
	rw_http_req_free(req);
	return error;
}

/* The id to put in URLs: the service's id when open saw the name. */
static const char *service_ref(swarm *s, const char *app)
{
	const char *id = s->ids ? rw_strmap_get(s->ids, app) : NULL;

	return id ? id : app;
}

static int get_service(json_t **out, swarm *s, const char *app)
{
	char *esc = rw_url_escape(service_ref(s, app));
	char *path = rw_printf("/services/%s", esc);
	char *what = rw_printf("service '%s'", app);
	int error = get_json(out, s, path, what);

	if (error == 0 && !json_is_object(*out)) {
		json_decref(*out);
		error = rw_error_set(RW_ERR_ORCHESTRATOR, "docker engine at %s: %s: not a service object", s->host, what);
	}
	free(esc);
	free(path);
	free(what);
	return error;
}

/* service.Spec.TaskTemplate.ContainerSpec (NULL for plugin services) */
static json_t *container_spec(json_t *spec)
{
	return json_object_get(json_object_get(spec, "TaskTemplate"), "ContainerSpec");
}

static const char *spec_image(json_t *service)
{
	return json_string_value(json_object_get(container_spec(json_object_get(service, "Spec")), "Image"));
}

/* ---- connecting ---------------------------------------------------------- */

static int parse_ssh_host(swarm *s, const char *rest)
{
	const char *at = strrchr(rest, '@'), *hostpart = at ? at + 1 : rest;
	char *host = rw_strdup(hostpart), *colon, *slash;

	if ((slash = strchr(host, '/'))) {
		if (slash[1]) {
			free(host);
			return rw_error_set(RW_ERR_CONFIG, "invalid swarm host 'ssh://%s': ssh:// takes no path", rest);
		}
		*slash = '\0';
	}
	if (at) {
		s->ssh_user = rw_strndup(rest, (size_t)(at - rest));
		if (strchr(s->ssh_user, ':')) {
			free(host);
			return rw_error_set(RW_ERR_CONFIG, "invalid swarm host: no password in ssh:// (use a key or the SSH agent)");
		}
	}
	colon = *host == '[' ? strstr(host, "]:") : strrchr(host, ':');
	if (colon && *colon == ']')
		colon++;
	if (colon) {
		char *end;
		long port = strtol(colon + 1, &end, 10);

		if (*end || port < 1 || port > 65535) {
			free(host);
			return rw_error_set(RW_ERR_CONFIG, "invalid swarm host 'ssh://%s': bad port", rest);
		}
		s->ssh_port = (int)port;
		*colon = '\0';
	}
	if (*host == '[') {
		memmove(host, host + 1, strlen(host));
		host[strcspn(host, "]")] = '\0';
	}
	s->ssh_host = host;
	return *host ? 0 : rw_error_set(RW_ERR_CONFIG, "invalid swarm host 'ssh://%s': no host", rest);
}

static int parse_host(swarm *s, const char *host)
{
	if (rw_str_startswith(host, "unix://")) {
		s->kind = HOST_UNIX;
		s->socket_path = rw_strdup(host + 7);
		s->base = rw_strdup("http://localhost" API);
		if (*s->socket_path != '/')
			return rw_error_set(RW_ERR_CONFIG, "invalid swarm host '%s': expected unix:///absolute/path", host);
		return 0;
	}
	if (rw_str_startswith(host, "tcp://")) {
		const char *addr = host + 6;
		size_t len = strcspn(addr, "/");
		bool tls = s->tls_ca || s->tls_cert;

		if (!len)
			return rw_error_set(RW_ERR_CONFIG, "invalid swarm host '%s': no host", host);
		s->kind = HOST_TCP;
		/* the engine's ports: 2376 with TLS, 2375 without */
		s->base = rw_printf("%s://%.*s%s" API, tls ? "https" : "http", (int)len, addr,
			strchr(addr, ':') && addr[len - 1] != ']' ? "" : tls ? ":2376" : ":2375");
		return 0;
	}
	if (rw_str_startswith(host, "ssh://")) {
		s->kind = HOST_SSH;
		/* the URL names no real host: libcurl gets a bridged socket */
		s->base = rw_strdup("http://localhost" API);
		return parse_ssh_host(s, host + 6);
	}
	return rw_error_set(RW_ERR_CONFIG, "invalid swarm host '%s': expected unix:///path, tcp://host:port or ssh://[user@]host[:port]",
		host);
}

static int connect_engine(swarm *s)
{
	if (s->http)
		return 0;
	if (s->kind == HOST_TCP && !rw_str_startswith(s->base, "https://"))
		rw_warn("swarm: the docker engine at %s is reached over plain HTTP: anyone on the network can drive it; "
			"set the swarm TLS CA, certificate and key", s->host);
	if (s->kind == HOST_SSH) {
		rw_swarm_ssh_opts so = { s->ssh_user, s->ssh_host, s->ssh_port, s->ssh_key, s->known_hosts,
			s->http_opts.connect_timeout_ms };

		if (rw_swarm_ssh_open(&s->ssh, &so) < 0)
			return rw_error_prefix("docker engine at %s", s->host);
		s->socket_path = rw_strdup(rw_swarm_ssh_socket(s->ssh));
	}
	return rw_http_new(&s->http, &s->http_opts);
}

/* ---- open, find_app, current_image --------------------------------------- */

static int swarm_open(rw_orchestrator *o)
{
	swarm *s = (swarm *)o;
	json_t *list = NULL, *svc;
	size_t i;

	if (connect_engine(s) < 0 || get_json(&list, s, "/services", "listing services") < 0)
		return RW_ERROR;
	if (!json_is_array(list)) {
		json_decref(list);
		return rw_error_set(RW_ERR_ORCHESTRATOR, "docker engine at %s: listing services: not a list", s->host);
	}
	rw_strlist_dispose(&s->names);
	rw_strmap_free(s->ids, free);
	s->ids = rw_strmap_new();
	json_array_foreach(list, i, svc) {
		const char *name = json_string_value(json_object_get(json_object_get(svc, "Spec"), "Name"));
		const char *id = json_string_value(json_object_get(svc, "ID"));

		if (!name || !id)
			continue;
		rw_strlist_push(&s->names, name);
		free(rw_strmap_put(s->ids, name, rw_strdup(id)));
	}
	json_decref(list);
	rw_info("swarm: %zu services on the docker engine at %s", s->names.count, s->host);
	return 0;
}

static int swarm_find_app(char **app_id, rw_orchestrator *o, const char *repo)
{
	swarm *s = (swarm *)o;
	rw_orchestrator_opts opts;

	memset(&opts, 0, sizeof(opts));
	opts.app_ids = s->app_ids;
	if (rw_orchestrator_match(app_id, &opts, &s->names, s->prefix, repo) < 0)
		return rw_error_prefix("swarm (docker engine at %s)", s->host);
	return 0;
}

static int swarm_current_image(char **image, rw_orchestrator *o, const char *app)
{
	swarm *s = (swarm *)o;
	json_t *svc;
	const char *img;
	int error = 0;

	if (get_service(&svc, s, app) < 0)
		return RW_ERROR;
	if ((img = spec_image(svc)))
		*image = rw_strdup(img);
	else
		error = rw_error_set(RW_ERR_ORCHESTRATOR, "docker engine at %s: service '%s' runs no container image (a plugin service?)",
			s->host, app);
	json_decref(svc);
	return error;
}

/* ---- registry credentials for the nodes ---------------------------------- */

/* The engine's AuthConfig for docker login's credentials: compact JSON, in one allocation to wipe. */
static char *auth_json(const rw_docker_auth *a)
{
	json_t *doc = a->identity_token ?
		json_pack("{s:s, s:s}", "identitytoken", a->identity_token, "serveraddress", a->server) :
		json_pack("{s:s, s:s, s:s}", "username", a->username, "password", a->password,
			"serveraddress", a->server);
	size_t n = doc ? json_dumpb(doc, NULL, 0, JSON_COMPACT) : 0;
	char *text = n ? rw_malloc(n + 1) : NULL;

	if (text) {
		json_dumpb(doc, text, n, JSON_COMPACT);
		text[n] = '\0';
	}
	rw_secret_json_free(doc);
	return text;
}

/*
 * "X-Registry-Auth: ..." when `docker login` left credentials for the
 * image's registry, so that the nodes can pull it; NULL otherwise, and the
 * engine keeps the credentials the service was created with.
 */
static char *registry_auth_header(const char *image)
{
	char *json, *b64, *header = NULL;
	rw_docker_auth a;
	rw_reference ref;

	if (rw_reference_parse(&ref, image) < 0) {
		rw_error_clear();
		return NULL;
	}
	if (rw_docker_config_auth(&a, ref.domain ? ref.domain : "docker.io") == 0 && (json = auth_json(&a))) {
		b64 = rw_base64(json, strlen(json));
		/* base64url, as the engine decodes it */
		for (char *p = b64; *p; p++)
			*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
		header = rw_printf("X-Registry-Auth: %s", b64);
		rw_secret_free(json);
		rw_secret_free(b64);
	}
	rw_docker_auth_dispose(&a);
	rw_reference_dispose(&ref);
	return header;
}

/* ---- update -------------------------------------------------------------- */

static bool update_running(json_t *svc, const char **state)
{
	*state = json_string_value(json_object_get(json_object_get(svc, "UpdateStatus"), "State"));
	return *state && (!strcmp(*state, "updating") || !strcmp(*state, "rollback_started"));
}

/* POST the spec back with the image changed; *stale when the version moved. */
static int post_update(swarm *s, json_t *svc, const char *app, const char *image, const char *header, bool *stale)
{
	json_t *spec = json_object_get(svc, "Spec");
	json_int_t version = json_integer_value(json_object_get(json_object_get(svc, "Version"), "Index"));
	const char *id = json_string_value(json_object_get(svc, "ID"));
	char *esc, *path, *what, *msg;
	rw_http_req *req;
	int error = 0;

	if (!json_is_object(container_spec(spec)) || !id)
		return rw_error_set(RW_ERR_ORCHESTRATOR, "docker engine at %s: service '%s' has no container spec to update",
			s->host, app);
	json_object_set_new(container_spec(spec), "Image", json_string(image));
	esc = rw_url_escape(id);
	path = rw_printf("/services/%s/update?version=%" JSON_INTEGER_FORMAT, esc, version);
	what = rw_printf("service '%s': cannot update it", app);
	free(esc);
	if (call(&req, s, "POST", path, spec, header, what) < 0) {
		free(path);
		free(what);
		return RW_ERROR;
	}
	if (rw_http_req_status(req) != 200) {
		msg = engine_message(req);
		*stale = strstr(msg, "update out of sequence") != NULL;
		free(msg);
		error = engine_error(s, req, what);
	} else {
		json_t *answer = json_loads(rw_http_req_body_str(req) ? rw_http_req_body_str(req) : "", 0, NULL);
		json_t *w;
		size_t i;

		json_array_foreach(json_object_get(answer, "Warnings"), i, w)
			rw_warn("swarm: service '%s': %s", app, json_string_value(w) ? json_string_value(w) : "");
		json_decref(answer);
	}
	rw_http_req_free(req);
	free(path);
	free(what);
	return error;
}

static int update_once(swarm *s, const char *app, const char *image, bool force, const char *header, bool *stale)
{
	json_t *svc;
	const char *state;
	int error;

	*stale = false;
	if (get_service(&svc, s, app) < 0)
		return RW_ERROR;
	if (!force && update_running(svc, &state)) {
		error = rw_error_set(RW_ERR_ORCHESTRATOR, "docker engine at %s: service '%s' is in the middle of another update (%s): "
			"wait for it, or force rewind to supersede it", s->host, app, state);
	} else {
		error = post_update(s, svc, app, image, header, stale);
	}
	json_decref(svc);
	return error;
}

static void deploy_free(void *p)
{
	deploy *d = p;

	if (d) {
		free(d->image);
		free(d);
	}
}

static void remember_deploy(swarm *s, const char *app, const char *image)
{
	deploy *d = rw_calloc(1, sizeof(*d));

	d->image = rw_strdup(image);
	deploy_free(rw_strmap_put(s->deploys, app, d));
}

static int swarm_update(char **deploy_id, rw_orchestrator *o, const char *app, const char *image, bool force)
{
	swarm *s = (swarm *)o;
	char *header;
	bool stale = false;
	int error, attempt = 1;

	if (!strchr(image, '@'))
		return rw_error_set(RW_ERR_ORCHESTRATOR, "swarm: refusing to deploy '%s' to service '%s' without a digest: "
			"every node would resolve the tag on its own", image, app);
	header = registry_auth_header(image);
	while ((error = update_once(s, app, image, force, header, &stale)) < 0 && stale && attempt < UPDATE_ATTEMPTS) {
		rw_info("swarm: service '%s' changed while rewind updated it (update out of sequence): reading it again", app);
		attempt++;
	}
	rw_secret_free(header);
	if (error < 0 && stale)
		return rw_error_prefix("service '%s' kept changing under rewind (%d attempts)", app, attempt);
	if (error < 0)
		return error;
	remember_deploy(s, app, image);
	*deploy_id = rw_strdup(image);
	return 0;
}

/* ---- poll ---------------------------------------------------------------- */

typedef struct {
	size_t want;      /* tasks that must run the image: replicas, or one per node for global services */
	size_t good;      /* of those, running the image */
	size_t others;    /* tasks meant to run that still run something else */
	json_t *error;    /* the newest task of the image that failed (borrowed) */
} task_count;

static bool same_image(json_t *task, const char *image)
{
	const char *img = json_string_value(json_object_get(
		json_object_get(json_object_get(task, "Spec"), "ContainerSpec"), "Image"));

	return img && !strcmp(img, image);
}

static const char *task_state(json_t *task)
{
	const char *st = json_string_value(json_object_get(json_object_get(task, "Status"), "State"));

	return st ? st : "";
}

static const char *task_time(json_t *task)
{
	const char *t = json_string_value(json_object_get(json_object_get(task, "Status"), "Timestamp"));

	return t ? t : "";
}

static void note_error(task_count *c, json_t *task)
{
	const char *err = json_string_value(json_object_get(json_object_get(task, "Status"), "Err"));

	if (!err || !*err)
		return;
	if (!c->error || strcmp(task_time(task), task_time(c->error)) > 0)
		c->error = task;
}

/* Slots (replicated) or nodes (global) where the image runs, like docker service update counts them. */
static void count_tasks(task_count *c, json_t *tasks, const char *image, json_int_t replicas)
{
	rw_strmap *seen = rw_strmap_new(), *placed = rw_strmap_new();
	json_t *t;
	size_t i;

	json_array_foreach(tasks, i, t) {
		const char *desired = json_string_value(json_object_get(t, "DesiredState"));
		json_int_t slot = json_integer_value(json_object_get(t, "Slot"));
		const char *node = json_string_value(json_object_get(t, "NodeID"));
		char *where = replicas >= 0 ? rw_printf("%" JSON_INTEGER_FORMAT, slot) : rw_strdup(node ? node : "");
		bool mine = same_image(t, image);

		if (mine)
			note_error(c, t);
		if (desired && !strcmp(desired, "running")) {
			rw_strmap_put(placed, where, (void *)1);
			if (!mine && strcmp(task_state(t), "shutdown"))
				c->others++;
			else if (mine && !strcmp(task_state(t), "running"))
				rw_strmap_put(seen, where, (void *)1);
		}
		free(where);
	}
	c->good = rw_strmap_count(seen);
	c->want = replicas >= 0 ? (size_t)replicas : rw_strmap_count(placed);
	rw_strmap_free(seen, NULL);
	rw_strmap_free(placed, NULL);
}

static int get_tasks(json_t **out, swarm *s, const char *app, const char *id)
{
	json_t *filters = json_pack("{s:[s]}", "service", id);
	char *text = json_dumps(filters, JSON_COMPACT), *esc = rw_url_escape(text);
	char *path = rw_printf("/tasks?filters=%s", esc);
	char *what = rw_printf("service '%s': listing its tasks", app);
	int error = get_json(out, s, path, what);

	if (error == 0 && !json_is_array(*out)) {
		json_decref(*out);
		error = rw_error_set(RW_ERR_ORCHESTRATOR, "docker engine at %s: %s: not a list", s->host, what);
	}
	json_decref(filters);
	free(text);
	free(esc);
	free(path);
	free(what);
	return error;
}

static char *task_error_text(const task_count *c)
{
	const char *id = json_string_value(json_object_get(c->error, "ID"));
	const char *err = json_string_value(json_object_get(json_object_get(c->error, "Status"), "Err"));

	return rw_printf("task %.12s %s: %s", id ? id : "?", task_state(c->error), err ? err : "");
}

/* UpdateStatus says the engine gave up on the update. */
static bool update_failed(char **detail, const char *state, const char *message, const task_count *c)
{
	static const char *const failed[] = { "paused", "rollback_started", "rollback_completed", "rollback_paused" };
	char *task = c->error ? task_error_text(c) : NULL;

	for (size_t i = 0; state && i < RW_ARRAY_SIZE(failed); i++) {
		if (strcmp(state, failed[i]))
			continue;
		*detail = rw_printf("update %s: %s%s%s", state, message && *message ? message : "(no message)",
			task ? "; last failure: " : "", task ? task : "");
		free(task);
		return true;
	}
	free(task);
	return false;
}

static long long monitor_ms(json_t *svc)
{
	json_int_t ns = json_integer_value(json_object_get(json_object_get(json_object_get(svc, "Spec"), "UpdateConfig"), "Monitor"));

	return ns > 0 ? (long long)(ns / 1000000) : MONITOR_DEFAULT_MS;
}

/* Replicas of a replicated service, -1 for a global one. */
static json_int_t replicas_of(json_t *svc)
{
	json_t *mode = json_object_get(json_object_get(svc, "Spec"), "Mode");
	json_t *rep = json_object_get(json_object_get(mode, "Replicated"), "Replicas");

	return json_object_get(mode, "Replicated") ? (rep ? json_integer_value(rep) : 1) : -1;
}

/* Every task runs the image: done once it has lasted the monitor period. */
static rw_deploy_state judge_tasks(char **detail, deploy *d, json_t *svc, const task_count *c)
{
	long long now = rw_now_ms(), monitor = monitor_ms(svc);
	char *task = c->error ? task_error_text(c) : NULL;

	if (c->good < c->want || c->others || (!c->want && replicas_of(svc) != 0)) {
		d->converged_since = 0;
		*detail = rw_printf("%zu of %zu tasks run the new image%s%s", c->good, c->want,
			task ? "; last failure: " : "", task ? task : "");
		free(task);
		return RW_DEPLOY_RUNNING;
	}
	free(task);
	if (!d->converged_since)
		d->converged_since = now;
	if (now - d->converged_since >= monitor)
		return RW_DEPLOY_DONE;
	*detail = rw_printf("all %zu tasks run the new image; watching them for %lld s more", c->want,
		(monitor - (now - d->converged_since) + 999) / 1000);
	return RW_DEPLOY_RUNNING;
}

static int judge(rw_deploy_state *state, char **detail, swarm *s, const char *app, deploy *d, json_t *svc)
{
	json_t *status = json_object_get(svc, "UpdateStatus"), *tasks;
	const char *ustate = json_string_value(json_object_get(status, "State"));
	const char *image = spec_image(svc), *id = json_string_value(json_object_get(svc, "ID"));
	task_count c;

	memset(&c, 0, sizeof(c));
	if (get_tasks(&tasks, s, app, id ? id : app) < 0)
		return RW_ERROR;
	count_tasks(&c, tasks, d->image, replicas_of(svc));
	if (update_failed(detail, ustate, json_string_value(json_object_get(status, "Message")), &c)) {
		*state = RW_DEPLOY_FAILED;
	} else if (!image || strcmp(image, d->image)) {
		*state = RW_DEPLOY_FAILED;
		*detail = rw_printf("the service is now configured with '%s', not '%s': someone else changed it",
			image ? image : "(no image)", d->image);
	} else {
		/* "updating", "completed" or none (no update was needed): the tasks tell */
		*state = judge_tasks(detail, d, svc, &c);
		if (*state == RW_DEPLOY_DONE && ustate && !strcmp(ustate, "updating")) {
			*state = RW_DEPLOY_RUNNING;
			*detail = rw_strdup("every task runs the new image; the engine is finishing the update");
		}
	}
	json_decref(tasks);
	return 0;
}

static int swarm_poll(rw_deploy_state *state, char **detail, rw_orchestrator *o, const char *app, const char *deploy_id)
{
	swarm *s = (swarm *)o;
	deploy *d = rw_strmap_get(s->deploys, app);
	json_t *svc;
	int error;

	if (get_service(&svc, s, app) < 0)
		return RW_ERROR;
	/* a deploy another process started: wait for what it wrote */
	if (!d || (deploy_id && strcmp(d->image, deploy_id))) {
		remember_deploy(s, app, deploy_id ? deploy_id : spec_image(svc) ? spec_image(svc) : "");
		d = rw_strmap_get(s->deploys, app);
	}
	error = judge(state, detail, s, app, d, svc);
	json_decref(svc);
	return error;
}

/* ---- describe, free, new ------------------------------------------------- */

static char *swarm_describe(rw_orchestrator *o, const char *app, const char *image)
{
	swarm *s = (swarm *)o;

	return rw_printf("update swarm service '%s' (docker engine at %s) to %s, a rolling update as the service's "
		"UpdateConfig says, then watch its tasks", app, s->host, image);
}

static void swarm_free(rw_orchestrator *o)
{
	swarm *s = (swarm *)o;

	if (!s)
		return;
	/* libcurl first: it closes the sockets the SSH bridge serves */
	rw_http_free(s->http);
	rw_swarm_ssh_free(s->ssh);
	rw_strlist_dispose(&s->names);
	rw_strmap_free(s->ids, free);
	rw_strmap_free(s->deploys, deploy_free);
	rw_strmap_free(s->app_ids, free);
	free(s->host);
	free(s->base);
	free(s->socket_path);
	free(s->ssh_user);
	free(s->ssh_host);
	free(s->ssh_key);
	free(s->known_hosts);
	free(s->tls_ca);
	free(s->tls_cert);
	free(s->tls_key);
	free(s->user_agent);
	free(s->prefix);
	free(s);
}

static void copy_settings(swarm *s, const rw_orchestrator_opts *opts)
{
	s->host = rw_strdup(opts->swarm_host && *opts->swarm_host ? opts->swarm_host : DEFAULT_HOST);
	s->prefix = rw_strdup_or_null(opts->swarm_service_prefix);
	s->tls_ca = rw_strdup_or_null(opts->swarm_tls_ca);
	s->tls_cert = rw_strdup_or_null(opts->swarm_tls_cert);
	s->tls_key = rw_strdup_or_null(opts->swarm_tls_key);
	s->ssh_key = rw_strdup_or_null(opts->swarm_ssh_key);
	s->known_hosts = rw_strdup_or_null(opts->swarm_known_hosts);
	s->app_ids = rw_orchestrator_copy_ids(opts->app_ids);
	s->deploys = rw_strmap_new();
	s->http_opts = opts->http;
	/* the strings rw_http_new copies must live until open */
	s->user_agent = rw_strdup_or_null(opts->http.user_agent);
	s->http_opts.user_agent = s->user_agent;
	s->http_opts.ca_file = s->tls_ca;
	s->http_opts.client_cert = s->tls_cert;
	s->http_opts.client_key = s->tls_key;
}

int rw_swarm_new(rw_orchestrator **out, const rw_orchestrator_opts *opts)
{
	swarm *s = rw_calloc(1, sizeof(*s));

	s->parent.name = "swarm";
	s->parent.open = swarm_open;
	s->parent.find_app = swarm_find_app;
	s->parent.current_image = swarm_current_image;
	s->parent.update = swarm_update;
	s->parent.poll = swarm_poll;
	s->parent.describe = swarm_describe;
	s->parent.free = swarm_free;
	copy_settings(s, opts);
	if (!s->tls_cert != !s->tls_key) {
		swarm_free(&s->parent);
		return rw_error_set(RW_ERR_CONFIG, "swarm: a TLS client certificate needs its key, and the key its certificate");
	}
	if (parse_host(s, s->host) < 0) {
		swarm_free(&s->parent);
		return RW_ERROR;
	}
	*out = &s->parent;
	return 0;
}
