/*
 * drive: runs one orchestrator backend step by step, for integration tests
 * (tests/integration/test_*.py) before and besides `rewind run`.
 *
 *   drive [-v|-vv] BACKEND OPTIONS.json COMMAND [ARGS...] [+ COMMAND [ARGS...]]...
 *
 * BACKEND is a name rw_orchestrator_new knows (marathon, swarm, git).
 * OPTIONS.json is one object whose keys are the fields of
 * rw_orchestrator_opts, spelled as in the struct:
 *
 *   {"marathon_url": "http://127.0.0.1:8080", "marathon_app_prefix": "/ds/prod",
 *    "env": "prod", "user": "jenkins",
 *    "app_ids": {"web": "/ds/prod/frontend/web"},      repository -> app id
 *    "git_paths": ["k8s/x.yaml"],                       or "a, b"
 *    "http": {"ca_file": ..., "insecure": false, "connect_timeout_ms": 2000,
 *             "stall_timeout_ms": 5000, "max_retries": 0, "retry_base_ms": 10,
 *             "retry_max_ms": 100, "concurrency": 4, "client_cert": ...,
 *             "client_key": ...}}
 *
 * Every other string field (marathon_*, swarm_*, git_*) is taken as is; an
 * unknown key is an error (a typo must not silently test something else).
 *
 * The backend is created and opened once, then the commands run in order in
 * that one process (so git can update several apps, then publish):
 *
 *   open                         only open (the implicit open, reported)
 *   find REPO                    {"app_id"}
 *   current APP                  {"image"}
 *   update APP IMAGE [force]     {"deploy_id"} (null when the backend gives none)
 *   poll APP DEPLOY              {"state": "running"|"done"|"failed", "detail"}
 *   wait APP DEPLOY [TIMEOUT_S [INTERVAL_MS]]
 *                                polls until done or failed (default 30 s, every
 *                                100 ms): {"state": ... or "timeout", "detail",
 *                                "polls", "states": the distinct states in order}
 *   describe APP IMAGE           {"text"}
 *   warning APP                  {"text"} (null: none)
 *   publish MESSAGE              {"detail"}; {"skipped": true} when the backend
 *                                has no publish
 *   sleep MS                     waits (e.g. between two polls)
 *
 * DEPLOY is a deploy id, "@" for the one the last update returned, or "-"
 * for none (NULL).
 *
 * Output: one JSON object per line on stdout per command, with "command" and
 * "ok"; on failure "ok": false, "error" (the message), "class" and "exit"
 * (what rewind would exit with), the same message on stderr as
 * "drive: error: ...", and the driver stops there and exits with that code.
 * Exit 0 when every command succeeded; 2 on a usage error of the driver.
 * rw_orchestrator_new failing is reported as command "new", open as "open".
 *
 * Built by `make build/<variant>/tests/drive` (`make integration` does it),
 * with every backend linked in (--whole-archive). tests/integration/
 * drivetest.py runs it; $REWIND_DRIVE overrides its path.
 */
#include "rewind/errors.h"
#include "rewind/log.h"
#include "rewind/orchestrator.h"

#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The string fields of rw_orchestrator_opts, by their C name. */
#define STR_FIELD(f) { #f, offsetof(rw_orchestrator_opts, f) }
static const struct {
	const char *name;
	size_t offset;
} string_fields[] = {
	STR_FIELD(env), STR_FIELD(user),
	STR_FIELD(marathon_url), STR_FIELD(marathon_app_prefix), STR_FIELD(marathon_auth),
	STR_FIELD(marathon_username), STR_FIELD(marathon_password_file), STR_FIELD(marathon_token_file),
	STR_FIELD(swarm_host), STR_FIELD(swarm_service_prefix), STR_FIELD(swarm_tls_ca),
	STR_FIELD(swarm_tls_cert), STR_FIELD(swarm_tls_key), STR_FIELD(swarm_ssh_key),
	STR_FIELD(swarm_known_hosts),
	STR_FIELD(git_url), STR_FIELD(git_branch), STR_FIELD(git_ssh_key), STR_FIELD(git_known_hosts),
	STR_FIELD(git_token_file), STR_FIELD(git_workdir), STR_FIELD(git_author_name),
	STR_FIELD(git_author_email),
};

typedef struct {
	json_t *root;          /* the options file; owns every string opts points to */
	rw_orchestrator_opts opts;
	rw_strmap *app_ids;
	rw_strlist git_paths;
	rw_orchestrator *o;
	char *last_deploy;     /* what the last update returned, for "@" */
} driver;

static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage(const char *fmt, ...)
{
	va_list ap;

	fputs("drive: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nusage: drive [-v|-vv] BACKEND OPTIONS.json COMMAND [ARGS...] [+ COMMAND [ARGS...]]...\n"
		"(see the top of tests/orchestrator/drive.c)\n", stderr);
	return 2;
}

static const char *class_name(rw_error_class k)
{
	static const char *names[] = { "none", "internal", "os", "usage", "config", "net",
		"registry", "protocol", "auth", "date", "orchestrator", "locked" };

	return (size_t)k < RW_ARRAY_SIZE(names) ? names[k] : "unknown";
}

/* Prints one result line; steals obj. */
static void emit(json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII);

	printf("%s\n", s);
	fflush(stdout);
	free(s);
	json_decref(obj);
}

static json_t *result(const char *command)
{
	return json_pack("{s:s, s:b}", "command", command, "ok", 1);
}

/* Reports the last error for command; returns the exit code rewind would use. */
static int fail(const char *command)
{
	const rw_error *e = rw_error_last();
	const char *msg = e && e->message ? e->message : "failed without an error message";
	rw_error_class k = e ? e->klass : RW_ERR_INTERNAL;
	int code = rw_error_exit_code(k);

	emit(json_pack("{s:s, s:b, s:s, s:s, s:i}", "command", command, "ok", 0,
		"error", msg, "class", class_name(k), "exit", code));
	fprintf(stderr, "drive: error: %s\n", msg);
	return code ? code : 1;
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static int load_http(rw_http_opts *h, json_t *obj)
{
	const char *key;
	json_t *v;

	if (!json_is_object(obj))
		return rw_error_set(RW_ERR_USAGE, "options: \"http\" must be an object");
	json_object_foreach(obj, key, v) {
		if (!strcmp(key, "ca_file")) h->ca_file = json_string_value(v);
		else if (!strcmp(key, "client_cert")) h->client_cert = json_string_value(v);
		else if (!strcmp(key, "client_key")) h->client_key = json_string_value(v);
		else if (!strcmp(key, "user_agent")) h->user_agent = json_string_value(v);
		else if (!strcmp(key, "insecure")) h->insecure = json_is_true(v);
		else if (!strcmp(key, "concurrency")) h->concurrency = (int)json_integer_value(v);
		else if (!strcmp(key, "connect_timeout_ms")) h->connect_timeout_ms = (long)json_integer_value(v);
		else if (!strcmp(key, "stall_timeout_ms")) h->stall_timeout_ms = (long)json_integer_value(v);
		else if (!strcmp(key, "max_retries")) h->max_retries = (int)json_integer_value(v);
		else if (!strcmp(key, "retry_base_ms")) h->retry_base_ms = (long)json_integer_value(v);
		else if (!strcmp(key, "retry_max_ms")) h->retry_max_ms = (long)json_integer_value(v);
		else return rw_error_set(RW_ERR_USAGE, "options: unknown key http.%s", key);
	}
	return 0;
}

static int load_app_ids(driver *d, json_t *obj)
{
	const char *key;
	json_t *v;

	if (!json_is_object(obj))
		return rw_error_set(RW_ERR_USAGE, "options: \"app_ids\" must be an object");
	d->app_ids = rw_strmap_new();
	json_object_foreach(obj, key, v) {
		if (!json_is_string(v))
			return rw_error_set(RW_ERR_USAGE, "options: app_ids.%s must be a string", key);
		rw_strmap_put(d->app_ids, key, rw_strdup(json_string_value(v)));
	}
	d->opts.app_ids = d->app_ids;
	return 0;
}

static int load_git_paths(driver *d, json_t *v)
{
	size_t i;
	json_t *item;

	if (json_is_string(v))
		rw_strlist_split(&d->git_paths, json_string_value(v));
	else if (json_is_array(v))
		json_array_foreach(v, i, item)
			if (json_is_string(item))
				rw_strlist_push(&d->git_paths, json_string_value(item));
	d->opts.git_paths = &d->git_paths;
	return 0;
}

static int set_string(driver *d, const char *key, json_t *v)
{
	for (size_t i = 0; i < RW_ARRAY_SIZE(string_fields); i++) {
		if (strcmp(string_fields[i].name, key))
			continue;
		if (!json_is_string(v) && !json_is_null(v))
			return rw_error_set(RW_ERR_USAGE, "options: %s must be a string", key);
		*(const char **)((char *)&d->opts + string_fields[i].offset) = json_string_value(v);
		return 0;
	}
	return rw_error_set(RW_ERR_USAGE, "options: unknown key \"%s\"", key);
}

static int load_options(driver *d, const char *path)
{
	rw_http_opts http = RW_HTTP_OPTS_INIT;
	json_error_t jerr;
	const char *key;
	json_t *v;
	int error = 0;

	d->opts.http = http;
	d->root = json_load_file(path, 0, &jerr);
	if (!d->root || !json_is_object(d->root))
		return rw_error_set(RW_ERR_USAGE, "options %s: %s", path, d->root ? "not an object" : jerr.text);
	json_object_foreach(d->root, key, v) {
		if (!strcmp(key, "http"))
			error = load_http(&d->opts.http, v);
		else if (!strcmp(key, "app_ids"))
			error = load_app_ids(d, v);
		else if (!strcmp(key, "git_paths"))
			error = load_git_paths(d, v);
		else
			error = set_string(d, key, v);
		if (error < 0)
			return error;
	}
	return 0;
}

static const char *deploy_arg(const driver *d, const char *arg)
{
	if (!strcmp(arg, "-"))
		return NULL;
	return strcmp(arg, "@") ? arg : d->last_deploy;
}

static const char *state_name(rw_deploy_state s)
{
	switch (s) {
	case RW_DEPLOY_RUNNING: return "running";
	case RW_DEPLOY_DONE: return "done";
	case RW_DEPLOY_FAILED: return "failed";
	}
	return "unknown";
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int cmd_find(driver *d, char **argv)
{
	char *app = NULL;
	json_t *r;

	if (d->o->find_app(&app, d->o, argv[1]) < 0)
		return fail("find");
	r = result("find");
	json_object_set_new(r, "repo", json_string(argv[1]));
	json_object_set_new(r, "app_id", str_or_null(app));
	emit(r);
	free(app);
	return 0;
}

static int cmd_current(driver *d, char **argv)
{
	char *image = NULL;
	json_t *r;

	if (d->o->current_image(&image, d->o, argv[1]) < 0)
		return fail("current");
	r = result("current");
	json_object_set_new(r, "app_id", json_string(argv[1]));
	json_object_set_new(r, "image", str_or_null(image));
	emit(r);
	free(image);
	return 0;
}

static int cmd_update(driver *d, char **argv, int argc)
{
	bool force = argc > 3 && !strcmp(argv[3], "force");
	char *deploy = NULL;
	json_t *r;

	if (argc > 3 && !force)
		return usage("update: the 3rd argument can only be \"force\", not '%s'", argv[3]);
	if (d->o->update(&deploy, d->o, argv[1], argv[2], force) < 0) {
		free(deploy);
		return fail("update");
	}
	r = result("update");
	json_object_set_new(r, "app_id", json_string(argv[1]));
	json_object_set_new(r, "deploy_id", str_or_null(deploy));
	emit(r);
	free(d->last_deploy);
	d->last_deploy = deploy;
	return 0;
}

static int poll_once(rw_deploy_state *state, char **detail, driver *d, const char *app, const char *deploy)
{
	*detail = NULL;
	if (d->o->poll(state, detail, d->o, app, deploy) < 0) {
		free(*detail);
		*detail = NULL;
		return RW_ERROR;
	}
	return 0;
}

static int cmd_poll(driver *d, char **argv)
{
	rw_deploy_state state;
	char *detail;
	json_t *r;

	if (poll_once(&state, &detail, d, argv[1], deploy_arg(d, argv[2])) < 0)
		return fail("poll");
	r = result("poll");
	json_object_set_new(r, "state", json_string(state_name(state)));
	json_object_set_new(r, "detail", str_or_null(detail));
	emit(r);
	free(detail);
	return 0;
}

static int cmd_wait(driver *d, char **argv, int argc)
{
	double timeout_s = argc > 3 ? atof(argv[3]) : 30.0;
	long interval = argc > 4 ? atol(argv[4]) : 100;
	long long deadline = rw_now_ms() + (long long)(timeout_s * 1000);
	const char *deploy = deploy_arg(d, argv[2]), *final = "timeout";
	json_t *states = json_array(), *r;
	char *detail = NULL;
	int polls = 0;

	for (;;) {
		rw_deploy_state state;
		const char *name;
		size_t n = json_array_size(states);

		free(detail);
		if (poll_once(&state, &detail, d, argv[1], deploy) < 0) {
			json_decref(states);
			return fail("wait");
		}
		polls++;
		name = state_name(state);
		if (!n || strcmp(json_string_value(json_array_get(states, n - 1)), name))
			json_array_append_new(states, json_string(name));
		if (state != RW_DEPLOY_RUNNING) {
			final = name;
			break;
		}
		if (rw_now_ms() >= deadline)
			break;
		sleep_ms(interval > 0 ? interval : 1);
	}
	r = result("wait");
	json_object_set_new(r, "state", json_string(final));
	json_object_set_new(r, "detail", str_or_null(detail));
	json_object_set_new(r, "polls", json_integer(polls));
	json_object_set_new(r, "states", states);
	emit(r);
	free(detail);
	return 0;
}

static int cmd_text(driver *d, char **argv, bool describe)
{
	char *text;
	json_t *r;

	if (describe)
		text = d->o->describe(d->o, argv[1], argv[2]);
	else
		text = d->o->warning ? d->o->warning(d->o, argv[1]) : NULL;
	r = result(describe ? "describe" : "warning");
	json_object_set_new(r, "text", str_or_null(text));
	emit(r);
	free(text);
	return 0;
}

static int cmd_publish(driver *d, char **argv)
{
	char *detail = NULL;
	json_t *r = result("publish");

	if (!d->o->publish) {
		json_object_set_new(r, "skipped", json_true());
		emit(r);
		return 0;
	}
	if (d->o->publish(&detail, d->o, argv[1]) < 0) {
		json_decref(r);
		free(detail);
		return fail("publish");
	}
	json_object_set_new(r, "detail", str_or_null(detail));
	emit(r);
	free(detail);
	return 0;
}

static const struct {
	const char *name;
	int min_args, max_args;
} commands[] = {
	{ "open", 0, 0 }, { "find", 1, 1 }, { "current", 1, 1 }, { "update", 2, 3 },
	{ "poll", 2, 2 }, { "wait", 2, 4 }, { "describe", 2, 2 }, { "warning", 1, 1 },
	{ "publish", 1, 1 }, { "sleep", 1, 1 },
};

static int check_command(char **argv, int argc)
{
	for (size_t i = 0; i < RW_ARRAY_SIZE(commands); i++) {
		if (strcmp(commands[i].name, argv[0]))
			continue;
		if (argc - 1 < commands[i].min_args || argc - 1 > commands[i].max_args)
			return usage("%s takes %d to %d arguments, not %d", argv[0],
				commands[i].min_args, commands[i].max_args, argc - 1);
		return 0;
	}
	return usage("unknown command '%s'", argv[0]);
}

/* One command: argv[0] is its name, argc counts it and its arguments. */
static int run_command(driver *d, char **argv, int argc)
{
	const char *c = argv[0];

	if (!strcmp(c, "open")) {
		emit(result("open"));
		return 0;
	}
	if (!strcmp(c, "find")) return cmd_find(d, argv);
	if (!strcmp(c, "current")) return cmd_current(d, argv);
	if (!strcmp(c, "update")) return cmd_update(d, argv, argc);
	if (!strcmp(c, "poll")) return cmd_poll(d, argv);
	if (!strcmp(c, "wait")) return cmd_wait(d, argv, argc);
	if (!strcmp(c, "describe")) return cmd_text(d, argv, true);
	if (!strcmp(c, "warning")) return cmd_text(d, argv, false);
	if (!strcmp(c, "publish")) return cmd_publish(d, argv);
	sleep_ms(atol(argv[1]));
	emit(result("sleep"));
	return 0;
}

/* Length of the command starting at argv[0] (up to the next "+"). */
static int command_len(char **argv, int argc)
{
	int n = 0;

	while (n < argc && strcmp(argv[n], "+"))
		n++;
	return n;
}

static int check_commands(char **argv, int argc)
{
	int i = 0, code;

	if (!argc)
		return usage("no command");
	while (i < argc) {
		int n = command_len(argv + i, argc - i);

		if (!n)
			return usage("empty command (two '+' in a row, or a trailing '+')");
		if ((code = check_command(argv + i, n)) != 0)
			return code;
		i += n + 1;
	}
	return 0;
}

static void driver_dispose(driver *d)
{
	rw_orchestrator_free(d->o);
	rw_strmap_free(d->app_ids, free);
	rw_strlist_dispose(&d->git_paths);
	json_decref(d->root);
	free(d->last_deploy);
}

static int drive(driver *d, const char *backend, char **argv, int argc)
{
	int i = 0, code;

	if (rw_orchestrator_new(&d->o, backend, &d->opts) < 0) {
		d->o = NULL;
		return fail("new");
	}
	if (d->o->open(d->o) < 0)
		return fail("open");
	while (i < argc) {
		int n = command_len(argv + i, argc - i);

		if ((code = run_command(d, argv + i, n)) != 0)
			return code;
		i += n + 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	driver d;
	int level = RW_LOG_NORMAL, code, first = 1;

	memset(&d, 0, sizeof(d));
	while (first < argc && argv[first][0] == '-' && argv[first][1] == 'v') {
		level = !strcmp(argv[first], "-vv") ? RW_LOG_DEBUG : RW_LOG_VERBOSE;
		first++;
	}
	if (argc - first < 3)
		return usage("missing arguments");
	if ((code = check_commands(argv + first + 2, argc - first - 2)) != 0)
		return code;
	rw_log_set_level(level);
	if (load_options(&d, argv[first + 1]) < 0) {
		fprintf(stderr, "drive: %s\n", rw_error_last()->message);
		driver_dispose(&d);
		rw_error_clear();
		return 2;
	}
	code = drive(&d, argv[first], argv + first + 2, argc - first - 2);
	driver_dispose(&d);
	rw_error_clear();
	return code;
}
