/* The deploy plan and what run, undo and plan share around it. */
#include "deploy.h"

#include "rewind/errors.h"
#include "rewind/log.h"
#include "rewind/reference.h"

#include <jansson.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static void orchestrator_opts(rw_orchestrator_opts *oo, const rw_options *o, const char *user,
	const char *cache_dir)
{
	memset(oo, 0, sizeof(*oo));
	oo->env = o->env;
	oo->app_ids = o->app_ids;
	oo->user = user;
	oo->http = (rw_http_opts)RW_HTTP_OPTS_INIT;
	oo->http.concurrency = 4;
	oo->http.ca_file = o->ca_file;
	/* --insecure is for the registry and Marathon (README); an engine's or a
	 * git server's certificate is always checked */
	oo->http.insecure = o->insecure && !strcmp(o->orchestrator, "marathon");
	oo->cache_dir = cache_dir;
	oo->http.connect_timeout_ms = o->connect_timeout * 1000;
	oo->http.stall_timeout_ms = o->stall_timeout * 1000;
	oo->http.max_retries = (int)o->retries;
	oo->http.user_agent = "rewind/" REWIND_VERSION;
	oo->marathon_url = o->marathon_url;
	oo->marathon_app_prefix = o->marathon_app_prefix;
	oo->marathon_auth = o->marathon_auth;
	oo->marathon_username = o->marathon_username;
	oo->marathon_password_file = o->marathon_password_file;
	oo->marathon_token_file = o->marathon_token_file;
	oo->swarm_host = o->swarm_host;
	oo->swarm_service_prefix = o->swarm_service_prefix;
	oo->swarm_tls_ca = o->swarm_tls_ca;
	oo->swarm_tls_cert = o->swarm_tls_cert;
	oo->swarm_tls_key = o->swarm_tls_key;
	oo->swarm_ssh_key = o->swarm_ssh_key;
	oo->swarm_known_hosts = o->swarm_known_hosts;
	oo->git_url = o->git_url;
	oo->git_branch = o->git_branch;
	oo->git_paths = &o->git_paths;
	oo->git_ssh_key = o->git_ssh_key;
	oo->git_known_hosts = o->git_known_hosts;
	oo->git_token_file = o->git_token_file;
	oo->git_workdir = o->git_workdir;
	oo->git_author_name = o->git_author_name;
	oo->git_author_email = o->git_author_email;
}

int deploy_orchestrator(rw_orchestrator **out, const rw_options *o)
{
	rw_orchestrator_opts oo;
	char *user, *cache_dir;
	int error;

	if (!o->orchestrator)
		return RW_ENOTFOUND;
	user = deploy_user(o);
	cache_dir = rw_options_cache_dir(o);
	orchestrator_opts(&oo, o, user, cache_dir);
	if (oo.http.insecure)
		rw_warn("TLS verification of %s is off (--insecure)", o->marathon_url ? o->marathon_url : "Marathon");
	error = rw_orchestrator_new(out, o->orchestrator, &oo);
	if (!error && (*out)->open && (error = (*out)->open(*out)) < 0) {
		rw_orchestrator_free(*out);
		*out = NULL;
	}
	free(user);
	free(cache_dir);
	if (error && strncasecmp(rw_error_last()->message, o->orchestrator, strlen(o->orchestrator)))
		return rw_error_prefix("%s", o->orchestrator);
	return error;
}

/* Fills one item; an error names the repository. */
static int build_item(deploy_item *it, rw_orchestrator *orch, const rw_options *o)
{
	bool pin = o->pin_digest || !strcmp(orch->name, "swarm");

	if (orch->find_app(&it->app, orch, it->repo) < 0)
		return RW_ERROR;
	if (orch->current_image(&it->current, orch, it->app) < 0)
		return rw_error_prefix("app %s", it->app);
	if (!it->image)
		return 0;
	if (rw_orchestrator_image_for(&it->after, it->current, it->repo, it->image->tag, it->image->digest, pin) < 0)
		return rw_error_prefix("app %s", it->app);
	it->change = strcmp(it->after, it->current) != 0;
	if (orch->warning)
		it->warning = orch->warning(orch, it->app);
	return 0;
}

int deploy_plan_build(deploy_plan *dp, rw_orchestrator *orch, const rw_plan *plan, const rw_options *o)
{
	rw_buf errors = RW_BUF_INIT;
	size_t nerrors = 0;

	dp->count = rw_plan_count(plan);
	dp->items = rw_calloc(dp->count, sizeof(deploy_item));
	for (size_t i = 0; i < dp->count; i++) {
		const rw_plan_entry *pe = rw_plan_entry_at(plan, i);
		deploy_item *it = &dp->items[i];

		it->repo = pe->repo;
		it->image = pe->image;
		it->same_day = pe->same_day;
		if (build_item(it, orch, o) < 0) {
			/* every repository that cannot be mapped, in one message */
			rw_buf_printf(&errors, "%s%s", nerrors++ ? "; " : "", rw_error_last()->message);
			rw_error_clear();
		}
	}
	if (nerrors) {
		rw_error_set(RW_ERR_ORCHESTRATOR, "%s", errors.ptr);
		rw_buf_dispose(&errors);
		return RW_ERROR;
	}
	return 0;
}

void deploy_plan_dispose(deploy_plan *dp)
{
	for (size_t i = 0; i < dp->count; i++) {
		free(dp->items[i].app);
		free(dp->items[i].current);
		free(dp->items[i].after);
		free(dp->items[i].warning);
	}
	free(dp->items);
	dp->items = NULL;
	dp->count = 0;
}

char *deploy_short_ref(const char *ref)
{
	rw_reference r;
	char *s;

	if (!ref)
		return rw_strdup("-");
	if (rw_reference_parse(&r, ref) < 0) {
		rw_error_clear();
		return rw_strdup(ref);
	}
	if (r.tag)
		s = rw_strdup(r.tag);
	else if (r.digest)
		s = rw_printf("@%.19s", r.digest);
	else
		s = rw_strdup("latest");
	rw_reference_dispose(&r);
	return s;
}

static int width(const deploy_plan *dp, const rw_plan *plan, int col)
{
	size_t w = 1;

	for (size_t i = 0; i < rw_plan_count(plan); i++) {
		const rw_plan_entry *e = rw_plan_entry_at(plan, i);
		size_t n = col == 0 ? strlen(e->repo) : col == 1 ? (e->image ? strlen(e->image->tag) : 1)
			: (dp && dp->items[i].app ? strlen(dp->items[i].app) : 1);

		if (n > w)
			w = n;
	}
	return (int)w;
}

static void print_change(const deploy_item *it)
{
	char *now = deploy_short_ref(it->current), *after = deploy_short_ref(it->after);

	if (it->change)
		printf("  %s -> %s", now, after);
	else
		printf("  %s (unchanged)", now);
	free(now);
	free(after);
}

void deploy_plan_print(const deploy_plan *dp, const rw_plan *plan, const rw_tz *tz)
{
	int rw = width(dp, plan, 0), tw = width(dp, plan, 1), aw = width(dp, plan, 2);
	bool explained = false;

	for (size_t i = 0; i < rw_plan_count(plan); i++) {
		const rw_plan_entry *e = rw_plan_entry_at(plan, i);
		char day[RW_DAY_MAX] = "-";

		if (e->image)
			rw_tz_day(day, tz, e->image->created);
		printf("%-*s  %-*s  %-10s", rw, e->repo, tw, e->image ? e->image->tag : "-", day);
		if (dp)
			printf("  %-*s", aw, dp->items[i].app ? dp->items[i].app : "-");
		if (dp && e->image)
			print_change(&dp->items[i]);
		if (!e->image) {
			printf("  (no image on or before %s)", rw_plan_day(plan));
		} else if (!e->same_day) {
			printf(explained ? "  (older)" : "  (older: no release on %s)", rw_plan_day(plan));
			explained = true;
		}
		putchar('\n');
	}
	for (size_t i = 0; dp && i < dp->count; i++)
		if (dp->items[i].warning)
			rw_warn("%s: %s", dp->items[i].repo, dp->items[i].warning);
}

char *deploy_user(const rw_options *o)
{
	const char *u = o->user;
	struct passwd *pw;

	if (!u || !*u)
		u = getenv("BUILD_USER_ID");
	if (!u || !*u)
		u = getenv("USER");
	if (u && *u)
		return rw_strdup(u);
	pw = getpwuid(getuid());
	return rw_strdup(pw ? pw->pw_name : "unknown");
}

static char *state_dir(const rw_options *o)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (o->state_dir)
		return rw_strdup(o->state_dir);
	if (xdg && *xdg)
		return rw_printf("%s/rewind", xdg);
	return rw_printf("%s/.local/state/rewind", home && *home ? home : ".");
}

char *deploy_journal_dir(const rw_options *o)
{
	char *s = state_dir(o), *d = rw_printf("%s/journals", s);

	free(s);
	return d;
}

char *deploy_lock_dir(const rw_options *o)
{
	char *s = state_dir(o), *d = rw_printf("%s/locks", s);

	free(s);
	return d;
}

int deploy_confirm(const char *question)
{
	char answer[16] = "";

	if (!isatty(STDIN_FILENO))
		return rw_error_set(RW_ERR_USAGE, "not asking on a terminal: give --yes to %s without confirmation", question);
	rw_progress_end();
	fprintf(stderr, "%s? [y/N] ", question);
	fflush(stderr);
	if (!fgets(answer, sizeof(answer), stdin) || (answer[0] != 'y' && answer[0] != 'Y'))
		return rw_error_set(RW_ERR_USAGE, "not confirmed: nothing was changed");
	return 0;
}

void deploy_print_journal(rw_journal *j)
{
	size_t rw = 1, aw = 1;

	for (size_t i = 0; i < rw_journal_count(j); i++) {
		rw_journal_entry *e = rw_journal_entry_at(j, i);

		if (strlen(e->repo) > rw)
			rw = strlen(e->repo);
		if (e->app && strlen(e->app) > aw)
			aw = strlen(e->app);
	}
	for (size_t i = 0; i < rw_journal_count(j); i++) {
		rw_journal_entry *e = rw_journal_entry_at(j, i);
		char *before = deploy_short_ref(e->before), *after = deploy_short_ref(e->after);

		printf("%-*s  %-*s  %s -> %s  %s%s%s\n", (int)rw, e->repo, (int)aw, e->app ? e->app : "-",
			before, after, rw_svc_state_name(e->state), e->detail ? ": " : "", e->detail ? e->detail : "");
		free(before);
		free(after);
	}
}

void deploy_rollback_opts(rw_rollback_opts *ro, const rw_options *o, bool revert, const char *message)
{
	const char *poll = getenv("REWIND_POLL_MS");

	ro->timeout_ms = o->timeout * 1000;
	ro->poll_ms = poll && atol(poll) > 0 ? atol(poll) : 1000;
	ro->parallel = (int)o->parallel;
	ro->force = o->force;
	ro->revert_on_failure = revert;
	ro->message = message;
}

int deploy_lock(rw_lock **out, const rw_options *o, const char *user)
{
	char *dir = deploy_lock_dir(o);
	int error = rw_lock_take(out, dir, o->env, user, NULL);

	free(dir);
	return error;
}

void print_json_file(const char *path)
{
	json_t *doc = json_load_file(path, 0, NULL);

	if (doc)
		print_json(doc);
}
