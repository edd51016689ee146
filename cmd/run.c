/* rewind run: roll every service back to its image as of a date. */
#include "deploy.h"

#include "rewind/errors.h"
#include "rewind/log.h"
#include "rewind/rollback.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const cmd_info run_info = {
	"run",
	"rewind run --date YYYY-MM-DD [--yes] [--dry-run] [options]",
	"Rolls every service back to its image as of the date: computes the plan,\n"
	"shows it and asks for confirmation (--yes for scripts), takes the\n"
	"environment's lock, writes a journal, then rewrites each service's app\n"
	"configuration on the orchestrator and waits for its deploy to finish,\n"
	"in the configured order. On a failure it stops (--on-failure=revert puts\n"
	"the changed services back). rewind undo reverses a rollback.\n"
	"Exit codes: 0 done, 7 nothing to do, 8 partial failure, 9 total failure,\n"
	"10 another rollback runs, 2 usage error.",
	RW_CMD_RUN,
};

/* Journal order: --order first, then the other repositories in --repos order. */
static int run_order(size_t *order, const deploy_plan *dp, const rw_options *o)
{
	size_t n = 0;

	for (size_t i = 0; i < o->order.count; i++) {
		size_t k;

		for (k = 0; k < dp->count && strcmp(dp->items[k].repo, o->order.items[i]); k++)
			;
		if (k == dp->count)
			return rw_error_set(RW_ERR_USAGE, "--order names '%s', which is not in --repos", o->order.items[i]);
		order[n++] = k;
	}
	for (size_t k = 0; k < dp->count; k++) {
		bool listed = false;

		for (size_t i = 0; i < n; i++)
			listed |= order[i] == k;
		if (!listed)
			order[n++] = k;
	}
	return 0;
}

static int fill_journal(rw_journal *j, const deploy_plan *dp, const rw_options *o)
{
	size_t *order = rw_calloc(dp->count, sizeof(size_t));

	if (run_order(order, dp, o) < 0) {
		free(order);
		return RW_ERROR;
	}
	for (size_t i = 0; i < dp->count; i++) {
		const deploy_item *it = &dp->items[order[i]];
		rw_journal_entry *e = rw_journal_add(j, it->repo, it->app, it->current, it->after,
			it->image ? it->image->tag : NULL);

		if (!it->image) {
			e->state = RW_SVC_SKIPPED;
			e->detail = rw_strdup("no image on or before the date (--allow-partial)");
		}
	}
	free(order);
	return 0;
}

static char *commit_message(const deploy_plan *dp, const rw_options *o, const char *user)
{
	rw_buf b = RW_BUF_INIT;

	rw_buf_printf(&b, "rewind: roll %s back to %s\n\n", o->env ? o->env : "the release", o->date);
	for (size_t i = 0; i < dp->count; i++) {
		const deploy_item *it = &dp->items[i];
		char *now = deploy_short_ref(it->current);

		if (it->change)
			rw_buf_printf(&b, "%s: %s -> %s\n", it->repo, now, it->image->tag);
		free(now);
	}
	rw_buf_printf(&b, "\nRolled back by %s with rewind %s.\n", user, REWIND_VERSION);
	return rw_buf_detach(&b);
}

static void print_dry_run(const deploy_plan *dp, rw_orchestrator *orch, bool json)
{
	json_t *changes = json_array();

	for (size_t i = 0; i < dp->count; i++) {
		const deploy_item *it = &dp->items[i];
		char *what;

		if (!it->change)
			continue;
		what = orch->describe ? orch->describe(orch, it->app, it->after) : NULL;
		if (json)
			json_array_append_new(changes, json_pack("{s:s, s:s, s:s, s:s, s:s?}", "repo", it->repo,
				"app", it->app, "current", it->current, "image", it->after, "action", what));
		else
			printf("would %s\n", what ? what : it->app);
		free(what);
	}
	if (json)
		print_json(json_pack("{s:b, s:o}", "dry_run", 1, "changes", changes));
	else
		printf("dry run: nothing was changed\n");
	if (!json)
		json_decref(changes);
}

typedef struct {
	cmd_session s;
	rw_plan *plan;
	rw_orchestrator *orch;
	deploy_plan dp;
	char *user;
	rw_lock *lock;
} run_ctx;

static size_t changes(const deploy_plan *dp)
{
	size_t n = 0;

	for (size_t i = 0; i < dp->count; i++)
		n += dp->items[i].change;
	return n;
}

static int prepare(run_ctx *c)
{
	rw_options *o = &c->s.opts;
	int rc;

	if (rw_plan_new(&c->plan, c->s.tl, o->date) < 0)
		return RW_ERROR;
	if (!rw_plan_complete(c->plan) && !o->allow_partial)
		return rw_error_set(RW_ERR_DATE, "cannot roll back to %s: some repositories have no image on or before that day (rewind plan names them; --allow-partial deploys the others)", o->date);
	rc = deploy_orchestrator(&c->orch, o);
	if (rc == RW_ENOTFOUND)
		return rw_error_set(RW_ERR_USAGE, "no orchestrator configured: set [env \"%s\"] orchestrator = marathon|swarm|git, or --orchestrator",
			o->env ? o->env : "NAME");
	if (rc < 0)
		return RW_ERROR;
	c->user = deploy_user(o);
	if (!o->dry_run && deploy_lock(&c->lock, o, c->user) < 0)
		return RW_ERROR;
	return deploy_plan_build(&c->dp, c->orch, c->plan, o);
}

static int carry_out(run_ctx *c)
{
	rw_options *o = &c->s.opts;
	rw_journal *j = NULL;
	rw_rollback_result res;
	rw_rollback_opts ro;
	char *jdir = deploy_journal_dir(o), *msg = commit_message(&c->dp, o, c->user);
	int rc = RW_EXIT_TOTAL;

	deploy_rollback_opts(&ro, o, !strcmp(o->on_failure, "revert"), msg);
	if (rw_journal_new(&j, jdir, "run", o->env, o->date, c->orch->name, c->user) < 0 ||
	    fill_journal(j, &c->dp, o) < 0 || rw_journal_save(j) < 0) {
		rc = cmd_error();
		goto done;
	}
	rw_info("journal: %s", rw_journal_path(j));
	if (rw_rollback_deploy(&res, j, c->orch, &ro) < 0) {
		cmd_error();
		rc = res.still_changed ? RW_EXIT_PARTIAL : RW_EXIT_TOTAL;
	} else {
		rc = RW_EXIT_OK;
	}
	if (o->json) {
		print_json_file(rw_journal_path(j));
	} else {
		deploy_print_journal(j);
		printf("%s: %zu done, %zu failed, %zu reverted, %zu skipped, %zu unchanged (journal %s)\n",
			rc == RW_EXIT_OK ? "rolled back" : "rollback FAILED", res.done, res.failed, res.reverted,
			res.skipped, res.unchanged, rw_journal_path(j));
		if (c->orch->publish && res.done)
			printf("the change is pushed: whatever watches the repository (Argo CD, Flux) deploys it from here\n");
	}
done:
	rw_journal_free(j);
	free(msg);
	free(jdir);
	return rc;
}

static int run(run_ctx *c)
{
	rw_options *o = &c->s.opts;
	size_t n;
	char *question;
	int error;

	if (prepare(c) < 0)
		return cmd_error();
	if (!o->json)
		deploy_plan_print(&c->dp, c->plan, c->s.tz);
	n = changes(&c->dp);
	if (!n) {
		fprintf(stderr, "rewind: nothing to do: every service already runs its image as of %s\n", o->date);
		return RW_EXIT_NOTHING;
	}
	if (o->dry_run) {
		print_dry_run(&c->dp, c->orch, o->json);
		return RW_EXIT_OK;
	}
	question = rw_printf("roll %zu service%s of %s back to %s", n, n == 1 ? "" : "s",
		o->env ? o->env : "the release", o->date);
	error = o->yes ? 0 : deploy_confirm(question);
	free(question);
	if (error < 0)
		return cmd_error();
	return carry_out(c);
}

int cmd_run(int argc, char **argv)
{
	run_ctx c;
	int rc;

	memset(&c, 0, sizeof(c));
	rc = session_open(&c.s, &run_info, argc, argv);
	if (rc < 0)
		rc = cmd_error();
	else if (rc == 0)
		rc = run(&c);
	else
		rc = 0;
	rw_lock_release(c.lock);
	deploy_plan_dispose(&c.dp);
	rw_orchestrator_free(c.orch);
	rw_plan_free(c.plan);
	free(c.user);
	session_close(&c.s);
	return rc;
}
