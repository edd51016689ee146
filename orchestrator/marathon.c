/*
 * The Marathon (and DC/OS) backend, over Marathon's REST API v2.
 *
 * Apps are found in GET /v2/apps. Its `id` filter matches substrings (and
 * ignores case), so "/ds/prod" would also bring "/ds/prod-old/web": the
 * prefix is applied by rewind, as a path ("/ds/prod/..." only), where every
 * backend applies it (rw_orchestrator_match).
 *
 * The image is container.docker.image. An update sends
 * PUT /v2/apps/{id}?partialUpdate=true with only the "container" object,
 * exactly as GET returned it but for docker.image. Marathon replaces a field
 * named in a partial update wholesale and leaves every other field alone, so
 * no field the app has can be lost, whatever Marathon version adds: a full
 * replacement (partialUpdate=false) would have to echo every field back and
 * know which are read-only (version, versionInfo, tasks*, deployments,
 * lastTaskFailure, ...) -- and a body naming "version" is a rollback to that
 * version, not an update.
 *
 * A deploy is done when its deployment has left GET /v2/deployments and the
 * app's tasks all run the version the PUT created; failed when the
 * deployment is gone but they do not (lastTaskFailure says why). Marathon
 * itself retries failing tasks forever: such a deployment stays, and the
 * caller's time-out ends it.
 */
#include "internal.h"

#include "rewind/base64.h"
#include "rewind/errors.h"
#include "rewind/log.h"
#include "rewind/secret.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define LIST_CAP (64u << 20)   /* GET /v2/apps of a large cluster */
#define APP_CAP (16u << 20)    /* one app with its tasks embedded */
#define SMALL_CAP (1u << 20)   /* deployment results, tokens */

typedef enum { AUTH_NONE, AUTH_BASIC, AUTH_DCOS, AUTH_TOKEN } auth_mode;

typedef struct {
	rw_orchestrator parent;
	char *url;            /* Marathon's base URL, no trailing '/' */
	char *shown;          /* url for messages: user:password@ and secrets in the query redacted */
	char *origin;         /* scheme://host[:port]: where DC/OS serves its login */
	char *prefix;         /* "/ds/prod/" or NULL */
	auth_mode auth;
	char *username;
	char *password_file;
	char *token_file;
	char *password;       /* kept to log in again when a DC/OS token expires */
	char *authorization;  /* the Authorization header, or NULL */
	rw_http *http;
	rw_strlist apps;      /* the app ids the listing gave (find_app applies the prefix) */
	rw_strmap *app_ids;   /* the explicit mapping, copied */
	rw_strmap *images;    /* app id -> image last read, for describe */
	rw_strmap *versions;  /* deploy id -> the app version it deploys */
} marathon;

/* --- requests and errors ---------------------------------------------------- */

/* An app id in a URL path: Marathon ids are paths, so '/' stays. */
static void put_path_escaped(rw_buf *b, const char *id)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *id; id++) {
		unsigned char c = (unsigned char)*id;

		if (isalnum(c) || strchr("-._~/", c)) {
			rw_buf_putc(b, (char)c);
		} else {
			rw_buf_putc(b, '%');
			rw_buf_putc(b, hex[c >> 4]);
			rw_buf_putc(b, hex[c & 15]);
		}
	}
}

/* url/v2/apps/<id><suffix> */
static char *app_url(const marathon *m, const char *app_id, const char *suffix)
{
	rw_buf b = RW_BUF_INIT;

	rw_buf_printf(&b, "%s/v2/apps%s", m->url, app_id[0] == '/' ? "" : "/");
	put_path_escaped(&b, app_id);
	rw_buf_puts(&b, suffix);
	return rw_buf_detach(&b);
}

/* The start of a body that is not what was expected, printable, for messages. */
static char *snippet(const rw_http_req *req)
{
	const char *body = rw_http_req_body_str(req);
	rw_buf b = RW_BUF_INIT;
	size_t i;

	if (!body)
		return rw_strdup("an empty body");
	rw_buf_putc(&b, '\'');
	for (i = 0; body[i] && i < 80; i++)
		rw_buf_putc(&b, isprint((unsigned char)body[i]) ? body[i] : '?');
	rw_buf_puts(&b, body[i] ? "...'" : "'");
	return rw_buf_detach(&b);
}

/* Marathon's {"message", "details": [{"path", "errors"}]} or DC/OS's {"code", "description"}. */
static void put_details(rw_buf *b, json_t *details)
{
	size_t i, j;
	json_t *d, *e;

	if (json_is_string(details)) {
		rw_buf_printf(b, " (%s)", json_string_value(details));
		return;
	}
	json_array_foreach(details, i, d) {
		const char *path = json_string_value(json_object_get(d, "path"));

		rw_buf_printf(b, "%s%s:", i ? "; " : ": ", path ? path : "");
		json_array_foreach(json_object_get(d, "errors"), j, e)
			rw_buf_printf(b, "%s %s", j ? "," : "", json_string_value(e) ? json_string_value(e) : "?");
	}
}

static char *server_message(const rw_http_req *req)
{
	const rw_buf *body = rw_http_req_body(req);
	json_t *root = body->size ? json_loadb(body->ptr, body->size, 0, NULL) : NULL;
	const char *message = json_string_value(json_object_get(root, "message"));
	const char *code = json_string_value(json_object_get(root, "code"));
	const char *description = json_string_value(json_object_get(root, "description"));
	rw_buf b = RW_BUF_INIT;

	if (message) {
		rw_buf_puts(&b, message);
		put_details(&b, json_object_get(root, "details"));
	} else if (code || description) {
		rw_buf_printf(&b, "%s%s%s", code ? code : "", code && description ? ": " : "",
			description ? description : "");
	}
	json_decref(root);
	if (!b.size && body->size) {
		char *s = snippet(req);

		rw_buf_puts(&b, s);
		free(s);
	}
	return b.size ? rw_buf_detach(&b) : NULL;
}

/*
 * "Marathon URL: <what>: HTTP 409 <server's message> (PUT url)"; the class
 * is RW_ERR_AUTH for 401/403, else RW_ERR_ORCHESTRATOR.
 */
static int http_error(const marathon *m, const rw_http_req *req, const char *what)
{
	char *url = rw_url_redact(rw_http_req_url(req));
	int status = rw_http_req_status(req);
	char *msg = status ? server_message(req) : NULL;

	if (!status)
		rw_error_set(RW_ERR_ORCHESTRATOR, "Marathon %s: %s: %s (%s %s)", m->shown, what,
			rw_http_req_failure(req) ? rw_http_req_failure(req) : "no answer",
			rw_http_req_method(req), url);
	else
		rw_error_set(status == 401 || status == 403 ? RW_ERR_AUTH : RW_ERR_ORCHESTRATOR,
			"Marathon %s: %s: HTTP %d%s%s (%s %s)%s", m->shown, what, status,
			msg ? " " : "", msg ? msg : "", rw_http_req_method(req), url,
			status == 401 && m->auth == AUTH_NONE ? "; Marathon wants credentials: set [marathon] auth = basic, dcos or token" : "");
	free(msg);
	free(url);
	return RW_ERROR;
}

/* A JSON answer rewind cannot use: names the URL and what is wrong with it. */
static int answer_error(const marathon *m, const rw_http_req *req, const char *what, const char *wrong)
{
	char *url = rw_url_redact(rw_http_req_url(req));

	rw_error_set(RW_ERR_ORCHESTRATOR, "Marathon %s: %s: unusable answer: %s (%s %s, HTTP %d)",
		m->shown, what, wrong, rw_http_req_method(req), url, rw_http_req_status(req));
	free(url);
	return RW_ERROR;
}

static int parse_json(json_t **out, const marathon *m, const rw_http_req *req, const char *what)
{
	const rw_buf *body = rw_http_req_body(req);
	json_error_t jerr;
	char *start, *wrong;
	int error;

	*out = body->size ? json_loadb(body->ptr, body->size, 0, &jerr) : NULL;
	if (*out)
		return 0;
	start = snippet(req);
	wrong = body->size ? rw_printf("not JSON (%s): %s", jerr.text, start) : rw_strdup("an empty body, JSON expected");
	error = answer_error(m, req, what, wrong);
	free(wrong);
	free(start);
	return error;
}

static rw_http_req *new_request(const marathon *m, const char *method, const char *url,
	const char *body, size_t cap)
{
	rw_http_req *req = rw_http_req_new(method, url, cap);

	rw_http_req_header(req, "Accept: application/json");
	if (m->authorization)
		rw_http_req_auth(req, m->authorization);
	if (body)
		rw_http_req_set_body(req, "application/json", body, strlen(body));
	/* a PUT the engine re-sends after a lost answer would meet our own deployment's lock */
	if (strcmp(method, "GET"))
		rw_http_req_no_retry(req);
	return req;
}

static int dcos_login(marathon *m);

/*
 * One request, run to its end; *out is the answer (any status), which the
 * caller frees. A DC/OS token that expired is renewed once.
 */
static int perform(rw_http_req **out, marathon *m, const char *method, const char *url,
	const char *body, size_t cap)
{
	rw_http_req *req = new_request(m, method, url, body, cap);

	if (rw_http_perform(m->http, req) < 0) {
		rw_http_req_free(req);
		return RW_ERROR;
	}
	if (rw_http_req_status(req) == 401 && m->auth == AUTH_DCOS && m->password) {
		char *shown = rw_url_redact(url);

		rw_info("marathon: %s %s: HTTP 401, logging in to DC/OS again", method, shown);
		free(shown);
		rw_http_req_free(req);
		if (dcos_login(m) < 0)
			return RW_ERROR;
		req = new_request(m, method, url, body, cap);
		if (rw_http_perform(m->http, req) < 0) {
			rw_http_req_free(req);
			return RW_ERROR;
		}
	}
	*out = req;
	return 0;
}

/* GET url expecting 200 and a JSON object. */
static int get_json(json_t **out, marathon *m, const char *url, size_t cap, const char *what)
{
	rw_http_req *req;
	int error;

	*out = NULL;
	if (perform(&req, m, "GET", url, NULL, cap) < 0)
		return RW_ERROR;
	if (rw_http_req_status(req) != 200)
		error = http_error(m, req, what);
	else if ((error = parse_json(out, m, req, what)) == 0 && !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		error = answer_error(m, req, what, "not a JSON object");
	}
	rw_http_req_free(req);
	return error;
}

/* GET /v2/apps/{id}: *app is the "app" object; *root owns it. */
static int get_app(json_t **root, json_t **app, marathon *m, const char *app_id, const char *what)
{
	char *url = app_url(m, app_id, "?embed=app.tasks&embed=app.lastTaskFailure");
	int error = get_json(root, m, url, APP_CAP, what);

	*app = json_object_get(*root, "app");
	if (!error && !json_is_object(*app)) {
		char *shown = rw_url_redact(url);

		json_decref(*root);
		*root = NULL;
		error = rw_error_set(RW_ERR_ORCHESTRATOR, "Marathon %s: %s: unusable answer: no \"app\" object (GET %s)",
			m->shown, what, shown);
		free(shown);
	}
	free(url);
	return error;
}

/* --- authentication ----------------------------------------------------------- */

static int read_secret(char **out, const marathon *m, const char *path, const char *what)
{
	if (rw_secret_read(out, path, what) < 0)
		return rw_error_prefix("Marathon %s", m->shown);
	return 0;
}

static int load_password(marathon *m)
{
	const char *env = getenv("REWIND_MARATHON_PASSWORD");

	if (m->password_file)
		return read_secret(&m->password, m, m->password_file, "password");
	if (env && *env) {
		m->password = rw_strdup(env);
		return 0;
	}
	return rw_error_set(RW_ERR_AUTH, "Marathon %s: auth %s as '%s' needs a password: set [marathon] password-file (--marathon-password-file) or REWIND_MARATHON_PASSWORD",
		m->shown, m->auth == AUTH_DCOS ? "dcos" : "basic", m->username);
}

static void set_basic(marathon *m)
{
	char *pair = rw_printf("%s:%s", m->username, m->password);
	char *b64 = rw_base64(pair, strlen(pair));

	m->authorization = rw_printf("Basic %s", b64);
	rw_secret_free(pair);
	rw_secret_free(b64);
}

/* A JSON string literal of s at p; p has room for 6 bytes per byte of s, plus 2. */
static char *put_quoted(char *p, const char *s)
{
	*p++ = '"';
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			*p++ = '\\';
			*p++ = (char)c;
		} else if (c < 0x20) {
			p += sprintf(p, "\\u%04x", c);
		} else {
			*p++ = (char)c;
		}
	}
	*p++ = '"';
	return p;
}

/* {"uid": ..., "password": ...} in one allocation, so that it can be wiped. */
static char *login_body(const char *uid, const char *password)
{
	char *body = rw_malloc(32 + 6 * (strlen(uid) + strlen(password))), *p = body;

	p = stpcpy(p, "{\"uid\":");
	p = put_quoted(p, uid);
	p = stpcpy(p, ",\"password\":");
	p = put_quoted(p, password);
	strcpy(p, "}");
	return body;
}

static int login_answer(marathon *m, rw_http_req *req, const char *what)
{
	const char *token;
	json_t *root;

	if (rw_http_req_status(req) != 200)
		return http_error(m, req, what);
	if (parse_json(&root, m, req, what) < 0)
		return RW_ERROR;
	token = json_string_value(json_object_get(root, "token"));
	if (!token || !*token) {
		rw_secret_json_free(root);
		return answer_error(m, req, what, "no \"token\"");
	}
	rw_secret_free(m->authorization);
	m->authorization = rw_printf("token=%s", token);
	/* the token was in the answer: not left in freed memory */
	rw_secret_json_free(root);
	return 0;
}

/* POST /acs/api/v1/auth/login at the cluster's origin: the IAM of DC/OS. */
static int dcos_login(marathon *m)
{
	char *url = rw_printf("%s/acs/api/v1/auth/login", m->origin);
	char *body = login_body(m->username, m->password);
	char *what = rw_printf("DC/OS login as '%s'", m->username);
	rw_http_req *req = rw_http_req_new("POST", url, SMALL_CAP);
	int error;

	rw_http_req_header(req, "Accept: application/json");
	rw_http_req_set_body(req, "application/json", body, strlen(body));
	rw_http_req_no_retry(req);
	rw_secret_free(body);
	if ((error = rw_http_perform(m->http, req)) == 0)
		error = login_answer(m, req, what);
	rw_http_req_free(req);
	free(what);
	free(url);
	return error;
}

static int authenticate(marathon *m)
{
	char *token;
	size_t len;

	switch (m->auth) {
	case AUTH_NONE:
		return 0;
	case AUTH_TOKEN:
		if (read_secret(&token, m, m->token_file, "token") < 0)
			return RW_ERROR;
		/* trimming moves the token: wipe all it held */
		len = strlen(token);
		m->authorization = rw_printf("token=%s", rw_str_trim(token));
		rw_secret_wipe(token, len);
		free(token);
		return 0;
	case AUTH_BASIC:
		if (load_password(m) < 0)
			return RW_ERROR;
		set_basic(m);
		/* Basic sends it on every request: no reason to keep a second copy */
		rw_secret_free(m->password);
		m->password = NULL;
		return 0;
	case AUTH_DCOS:
		if (load_password(m) < 0)
			return RW_ERROR;
		return dcos_login(m);
	}
	return 0;
}

/* --- open and find_app ----------------------------------------------------------- */

/*
 * Every app of the answer: the prefix is rw_orchestrator_match's to apply
 * (a whole path, which the id= filter of the request is not).
 */
static int collect_apps(marathon *m, json_t *root, const char *shown_url)
{
	json_t *apps = json_object_get(root, "apps"), *app;
	size_t i;

	if (!json_is_array(apps))
		return rw_error_set(RW_ERR_ORCHESTRATOR, "Marathon %s: listing apps: unusable answer: no \"apps\" list (GET %s)",
			m->shown, shown_url);
	json_array_foreach(apps, i, app) {
		const char *id = json_string_value(json_object_get(app, "id"));

		if (!id)
			return rw_error_set(RW_ERR_ORCHESTRATOR, "Marathon %s: listing apps: unusable answer: app %zu has no \"id\" (GET %s)",
				m->shown, i, shown_url);
		rw_strlist_push(&m->apps, id);
	}
	return 0;
}

static int list_apps(marathon *m)
{
	char *url, *shown, *filter = NULL;
	json_t *root;
	int error;

	/* id= narrows the answer (a substring filter); find_app applies the prefix as a path */
	if (m->prefix) {
		char *p = rw_strndup(m->prefix, strlen(m->prefix) - 1);

		filter = rw_url_escape(p);
		free(p);
	}
	url = filter ? rw_printf("%s/v2/apps?id=%s", m->url, filter) : rw_printf("%s/v2/apps", m->url);
	shown = rw_url_redact(url);
	if ((error = get_json(&root, m, url, LIST_CAP, "listing apps")) == 0)
		error = collect_apps(m, root, shown);
	json_decref(root);
	if (!error)
		rw_info("marathon: %zu app(s) listed at %s%s%s", m->apps.count, m->shown,
			m->prefix ? " for the prefix " : "", m->prefix ? m->prefix : "");
	free(shown);
	free(url);
	free(filter);
	return error;
}

static int marathon_open(rw_orchestrator *o)
{
	marathon *m = (marathon *)o;

	if (authenticate(m) < 0)
		return RW_ERROR;
	return list_apps(m);
}

/* Marathon ids are absolute paths without a trailing '/'. */
static char *canonical_id(const char *id)
{
	size_t n;
	char *out;

	while (*id == '/')
		id++;
	out = rw_printf("/%s", id);
	n = strlen(out);
	while (n > 1 && out[n - 1] == '/')
		out[--n] = '\0';
	return out;
}

static int marathon_find_app(char **app_id, rw_orchestrator *o, const char *repo)
{
	marathon *m = (marathon *)o;
	rw_orchestrator_opts opts;
	char *found = NULL;

	memset(&opts, 0, sizeof(opts));
	opts.app_ids = m->app_ids;
	if (rw_orchestrator_match(&found, &opts, &m->apps, m->prefix, repo) < 0)
		return RW_ERROR;
	*app_id = canonical_id(found);
	free(found);
	return 0;
}

/* --- current_image and update ------------------------------------------------------ */

static json_t *docker_of(json_t *app)
{
	return json_object_get(json_object_get(app, "container"), "docker");
}

static int image_of(const char **image, const marathon *m, json_t *app, const char *app_id)
{
	json_t *container = json_object_get(app, "container");
	const char *type = json_string_value(json_object_get(container, "type"));

	*image = json_string_value(json_object_get(docker_of(app), "image"));
	if (*image && **image)
		return 0;
	if (!container || json_is_null(container))
		return rw_error_set(RW_ERR_ORCHESTRATOR, "Marathon %s: app '%s' has no container (it runs a command, not an image): nothing to roll back",
			m->shown, app_id);
	return rw_error_set(RW_ERR_ORCHESTRATOR, "Marathon %s: app '%s' has no container.docker.image (container type %s)",
		m->shown, app_id, type ? type : "unknown");
}

static void remember_image(marathon *m, const char *app_id, const char *image)
{
	free(rw_strmap_put(m->images, app_id, rw_strdup(image)));
}

static int marathon_current_image(char **image, rw_orchestrator *o, const char *app_id)
{
	marathon *m = (marathon *)o;
	json_t *root, *app;
	const char *current;
	char *what = rw_printf("reading app '%s'", app_id);
	int error = get_app(&root, &app, m, app_id, what);

	if (!error && (error = image_of(&current, m, app, app_id)) == 0) {
		*image = rw_strdup(current);
		remember_image(m, app_id, current);
	}
	json_decref(root);
	free(what);
	return error;
}

/* The ids of the deployments a 409 names. */
static char *blocking_deployments(const rw_http_req *req)
{
	const rw_buf *body = rw_http_req_body(req);
	json_t *root = body->size ? json_loadb(body->ptr, body->size, 0, NULL) : NULL, *d;
	rw_buf b = RW_BUF_INIT;
	size_t i;

	json_array_foreach(json_object_get(root, "deployments"), i, d) {
		const char *id = json_string_value(json_object_get(d, "id"));

		if (id)
			rw_buf_printf(&b, "%s%s", b.size ? ", " : "", id);
	}
	json_decref(root);
	return b.size ? rw_buf_detach(&b) : rw_strdup("(not named)");
}

static int update_refused(const marathon *m, const rw_http_req *req, const char *app_id)
{
	int status = rw_http_req_status(req);
	char *what, *ids;
	int error;

	if (status == 409) {
		ids = blocking_deployments(req);
		what = rw_printf("updating app '%s': locked by deployment %s; wait for it to end or give --force to cancel it",
			app_id, ids);
		free(ids);
	} else if (status == 422 || status == 400) {
		what = rw_printf("updating app '%s': Marathon rejected the new definition", app_id);
	} else if (status == 404) {
		what = rw_printf("updating app '%s': no such app", app_id);
	} else {
		what = rw_printf("updating app '%s'", app_id);
	}
	error = http_error(m, req, what);
	free(what);
	return error;
}

/* The DeploymentResult of a PUT: deploymentId (or the Marathon-Deployment-Id header) and version. */
static int deployment_result(char **deploy_id, char **version, const marathon *m,
	const rw_http_req *req, const char *app_id)
{
	json_t *root;
	const char *id, *v;
	char *what = rw_printf("updating app '%s'", app_id);
	int error = parse_json(&root, m, req, what);

	if (!error) {
		id = json_string_value(json_object_get(root, "deploymentId"));
		if (!id)
			id = rw_http_req_response_header(req, "Marathon-Deployment-Id");
		v = json_string_value(json_object_get(root, "version"));
		if (id && *id) {
			*deploy_id = rw_strdup(id);
			*version = v ? rw_strdup(v) : NULL;
		} else {
			error = answer_error(m, req, what, "no \"deploymentId\"");
		}
	}
	json_decref(root);
	free(what);
	return error;
}

/* {"container": <the app's container with docker.image set>} */
static char *update_body(json_t *app, const char *image)
{
	json_t *body;
	char *s;

	json_object_set_new(docker_of(app), "image", json_string(image));
	body = json_pack("{s:O}", "container", json_object_get(app, "container"));
	s = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	return s;
}

static int put_app(char **deploy_id, char **version, marathon *m, const char *app_id,
	const char *body, bool force)
{
	char *url = app_url(m, app_id, force ? "?partialUpdate=true&force=true" : "?partialUpdate=true");
	rw_http_req *req;
	int status, error;

	if (perform(&req, m, "PUT", url, body, SMALL_CAP) < 0) {
		free(url);
		return RW_ERROR;
	}
	status = rw_http_req_status(req);
	if (status == 200 || status == 201)
		error = deployment_result(deploy_id, version, m, req, app_id);
	else
		error = update_refused(m, req, app_id);
	rw_http_req_free(req);
	free(url);
	return error;
}

static int marathon_update(char **deploy_id, rw_orchestrator *o, const char *app_id,
	const char *image, bool force)
{
	marathon *m = (marathon *)o;
	json_t *root, *app;
	const char *current;
	char *old = NULL, *body = NULL, *version = NULL;
	char *what = rw_printf("reading app '%s'", app_id);
	int error = get_app(&root, &app, m, app_id, what);

	if (!error && (error = image_of(&current, m, app, app_id)) == 0) {
		old = rw_strdup(current);
		body = update_body(app, image);
		error = put_app(deploy_id, &version, m, app_id, body, force);
	}
	if (!error) {
		rw_info("marathon: %s: container.docker.image %s -> %s (deployment %s, version %s%s)", app_id,
			old, image, *deploy_id, version ? version : "unknown", force ? ", forced" : "");
		free(rw_strmap_put(m->versions, *deploy_id, version));
		remember_image(m, app_id, image);
		version = NULL;
	}
	free(version);
	free(body);
	free(old);
	free(what);
	json_decref(root);
	return error;
}

/* --- poll ------------------------------------------------------------------------- */

/* The running deployment deploy_id among GET /v2/deployments, or NULL. */
static int find_deployment(json_t **root, json_t **found, marathon *m, const char *deploy_id)
{
	char *url = rw_printf("%s/v2/deployments", m->url);
	rw_http_req *req;
	json_t *d;
	size_t i;
	int error;

	*root = *found = NULL;
	if (perform(&req, m, "GET", url, NULL, LIST_CAP) < 0) {
		free(url);
		return RW_ERROR;
	}
	if (rw_http_req_status(req) != 200)
		error = http_error(m, req, "listing deployments");
	else if ((error = parse_json(root, m, req, "listing deployments")) == 0 && !json_is_array(*root))
		error = answer_error(m, req, "listing deployments", "not a JSON list");
	rw_http_req_free(req);
	free(url);
	json_array_foreach(error ? NULL : *root, i, d) {
		const char *id = json_string_value(json_object_get(d, "id"));

		if (deploy_id && id && !strcmp(deploy_id, id))
			*found = d;
	}
	return error;
}

typedef struct {
	size_t instances;
	size_t on_target;   /* TASK_RUNNING on the new version */
	size_t others;      /* tasks on another version, or not running yet */
	const char *other_version;
} task_count;

static void count_tasks(task_count *c, json_t *app, const char *target)
{
	json_t *task;
	size_t i;

	memset(c, 0, sizeof(*c));
	c->instances = (size_t)json_integer_value(json_object_get(app, "instances"));
	json_array_foreach(json_object_get(app, "tasks"), i, task) {
		const char *version = json_string_value(json_object_get(task, "version"));
		const char *state = json_string_value(json_object_get(task, "state"));

		if (version && target && !strcmp(version, target) && state && !strcmp(state, "TASK_RUNNING")) {
			c->on_target++;
		} else if (!state || strcmp(state, "TASK_KILLING")) {
			c->others++;
			if (!c->other_version)
				c->other_version = version;
		}
	}
}

/* "; last task failure: MESSAGE (TASK_FAILED on HOST at TIME)" when it is about target. */
static void put_failure(rw_buf *b, json_t *app, const char *target)
{
	json_t *f = json_object_get(app, "lastTaskFailure");
	const char *message = json_string_value(json_object_get(f, "message"));
	const char *version = json_string_value(json_object_get(f, "version"));

	if (!message || (target && version && strcmp(version, target)))
		return;
	rw_buf_printf(b, "; last task failure: %s (%s on %s at %s)", message,
		json_string_value(json_object_get(f, "state")) ? json_string_value(json_object_get(f, "state")) : "?",
		json_string_value(json_object_get(f, "host")) ? json_string_value(json_object_get(f, "host")) : "?",
		json_string_value(json_object_get(f, "timestamp")) ? json_string_value(json_object_get(f, "timestamp")) : "?");
}

static void running_detail(rw_buf *b, json_t *deployment, const task_count *c, json_t *app, const char *target)
{
	rw_buf_printf(b, "deployment %s: step %lld/%lld; %zu/%zu task(s) run the new version",
		json_string_value(json_object_get(deployment, "id")),
		json_integer_value(json_object_get(deployment, "currentStep")),
		json_integer_value(json_object_get(deployment, "totalSteps")), c->on_target, c->instances);
	put_failure(b, app, target);
}

static rw_deploy_state settled_state(rw_buf *b, const char *deploy_id, const task_count *c,
	json_t *app, const char *target)
{
	if (c->on_target >= c->instances && !c->others) {
		rw_buf_printf(b, "%zu/%zu task(s) run version %s", c->on_target, c->instances, target);
		return RW_DEPLOY_DONE;
	}
	rw_buf_printf(b, "deployment %s ended, but %zu/%zu task(s) run version %s", deploy_id ? deploy_id : "(none)",
		c->on_target, c->instances, target);
	if (c->others)
		rw_buf_printf(b, " (%zu on %s)", c->others, c->other_version ? c->other_version : "another version");
	if (json_object_get(app, "lastTaskFailure"))
		put_failure(b, app, NULL);
	else
		rw_buf_puts(b, "; Marathon reports no task failure (was the deployment cancelled?)");
	return RW_DEPLOY_FAILED;
}

static int marathon_poll(rw_deploy_state *state, char **detail, rw_orchestrator *o,
	const char *app_id, const char *deploy_id)
{
	marathon *m = (marathon *)o;
	json_t *deployments, *deployment, *root = NULL, *app;
	const char *target = deploy_id ? rw_strmap_get(m->versions, deploy_id) : NULL;
	char *what = rw_printf("reading app '%s'", app_id);
	rw_buf b = RW_BUF_INIT;
	task_count c;
	int error = find_deployment(&deployments, &deployment, m, deploy_id);

	if (!error)
		error = get_app(&root, &app, m, app_id, what);
	if (!error) {
		/* without the PUT's answer (another process), the app's version is the one to run */
		if (!target)
			target = json_string_value(json_object_get(app, "version"));
		count_tasks(&c, app, target);
		if (deployment) {
			running_detail(&b, deployment, &c, app, target);
			*state = RW_DEPLOY_RUNNING;
		} else {
			*state = settled_state(&b, deploy_id, &c, app, target);
		}
		*detail = rw_buf_detach(&b);
		rw_debug("marathon: %s: %s", app_id, *detail);
	}
	json_decref(deployments);
	json_decref(root);
	free(what);
	return error;
}

/* --- describe, free, new ----------------------------------------------------------- */

/* The image describe starts from: the one last read, else read now (errors left as they were). */
static const char *known_image(marathon *m, const char *app_id)
{
	rw_error *saved;
	char *image = NULL;

	if (rw_strmap_get(m->images, app_id))
		return rw_strmap_get(m->images, app_id);
	saved = rw_error_steal();
	if (marathon_current_image(&image, &m->parent, app_id) < 0)
		rw_error_clear();
	free(image);
	rw_error_restore(saved);
	return rw_strmap_get(m->images, app_id);
}

static char *marathon_describe(rw_orchestrator *o, const char *app_id, const char *image)
{
	marathon *m = (marathon *)o;
	const char *old = known_image(m, app_id);
	rw_buf b = RW_BUF_INIT;

	rw_buf_puts(&b, "PUT /v2/apps");
	if (app_id[0] != '/')
		rw_buf_putc(&b, '/');
	put_path_escaped(&b, app_id);
	rw_buf_printf(&b, ": container.docker.image %s%s-> %s", old ? old : "", old ? " " : "", image);
	return rw_buf_detach(&b);
}

static void marathon_free(rw_orchestrator *o)
{
	marathon *m = (marathon *)o;

	if (!m)
		return;
	rw_http_free(m->http);
	rw_secret_free(m->password);
	rw_secret_free(m->authorization);
	rw_strlist_dispose(&m->apps);
	rw_strmap_free(m->app_ids, free);
	rw_strmap_free(m->images, free);
	rw_strmap_free(m->versions, free);
	free(m->url);
	free(m->shown);
	free(m->origin);
	free(m->prefix);
	free(m->username);
	free(m->password_file);
	free(m->token_file);
	free(m);
}

static int parse_auth(auth_mode *out, const char *name)
{
	static const struct { const char *name; auth_mode mode; } modes[] = {
		{ "none", AUTH_NONE }, { "basic", AUTH_BASIC }, { "dcos", AUTH_DCOS }, { "token", AUTH_TOKEN },
	};

	for (size_t i = 0; i < RW_ARRAY_SIZE(modes); i++) {
		if (!name || !*name || !strcmp(name, modes[i].name)) {
			*out = name && *name ? modes[i].mode : AUTH_NONE;
			return 0;
		}
	}
	return rw_error_set(RW_ERR_CONFIG, "unknown [marathon] auth '%s' (known: none, basic, dcos, token)", name);
}

/* "/ds/prod/" from "ds/prod", "/ds/prod/" ...; NULL for none or "/". */
static char *normalize_prefix(const char *prefix)
{
	char *id;

	if (!prefix || !*prefix)
		return NULL;
	id = canonical_id(prefix);
	if (!strcmp(id, "/")) {
		free(id);
		return NULL;
	}
	prefix = id;
	id = rw_printf("%s/", prefix);
	free((char *)prefix);
	return id;
}

static char *origin_of(const char *url)
{
	const char *host = strstr(url, "://") + 3;
	size_t n = strcspn(host, "/?#");

	return rw_strndup(url, (size_t)(host - url) + n);
}

static int check_options(const rw_orchestrator_opts *opts, auth_mode *auth)
{
	const char *url = opts->marathon_url;

	if (!url || !*url)
		return rw_error_set(RW_ERR_CONFIG, "the marathon orchestrator needs its URL: [marathon] url (--marathon-url)");
	if ((!rw_str_startswith(url, "http://") && !rw_str_startswith(url, "https://")) || !url[strcspn(url, ":") + 3]) {
		char *shown = rw_url_redact(url);

		rw_error_set(RW_ERR_CONFIG, "invalid [marathon] url '%s': expected http(s)://host[:port][/path]", shown);
		free(shown);
		return RW_ERROR;
	}
	if (parse_auth(auth, opts->marathon_auth) < 0)
		return RW_ERROR;
	if ((*auth == AUTH_BASIC || *auth == AUTH_DCOS) && (!opts->marathon_username || !*opts->marathon_username))
		return rw_error_set(RW_ERR_CONFIG, "[marathon] auth = %s needs a username: [marathon] username (--marathon-username)",
			opts->marathon_auth);
	if (*auth == AUTH_TOKEN && (!opts->marathon_token_file || !*opts->marathon_token_file))
		return rw_error_set(RW_ERR_CONFIG, "[marathon] auth = token needs [marathon] token-file (--marathon-token-file)");
	return 0;
}

int rw_marathon_new(rw_orchestrator **out, const rw_orchestrator_opts *opts)
{
	marathon *m;
	auth_mode auth = AUTH_NONE;
	size_t n;

	if (check_options(opts, &auth) < 0)
		return RW_ERROR;
	m = rw_calloc(1, sizeof(*m));
	m->parent.name = "marathon";
	m->parent.open = marathon_open;
	m->parent.find_app = marathon_find_app;
	m->parent.current_image = marathon_current_image;
	m->parent.update = marathon_update;
	m->parent.poll = marathon_poll;
	m->parent.describe = marathon_describe;
	m->parent.free = marathon_free;
	m->url = rw_strdup(opts->marathon_url);
	n = strlen(m->url);
	while (n && m->url[n - 1] == '/')
		m->url[--n] = '\0';
	m->shown = rw_url_redact(m->url);
	m->origin = origin_of(m->url);
	m->prefix = normalize_prefix(opts->marathon_app_prefix);
	m->auth = auth;
	m->username = rw_strdup_or_null(opts->marathon_username);
	m->password_file = rw_strdup_or_null(opts->marathon_password_file);
	m->token_file = rw_strdup_or_null(opts->marathon_token_file);
	m->app_ids = rw_orchestrator_copy_ids(opts->app_ids);
	m->images = rw_strmap_new();
	m->versions = rw_strmap_new();
	if (rw_http_new(&m->http, &opts->http) < 0) {
		marathon_free(&m->parent);
		return RW_ERROR;
	}
	*out = &m->parent;
	return 0;
}
