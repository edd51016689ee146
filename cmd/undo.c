/* rewind undo: put the services of a rollback back to what they ran before. */
#include "deploy.h"

#include "rewind/errors.h"
#include "rewind/log.h"
#include "rewind/rollback.h"

#include <stdlib.h>
#include <string.h>

static const cmd_info undo_info = {
	"undo",
	"rewind undo [--journal FILE] [--env NAME] [--yes] [options]",
	"Puts every service a rollback changed back to the image it ran before,\n"
	"through the same orchestrator, from the rollback's journal: the last\n"
	"rollback of the environment, or the one --journal names. Works after a\n"
	"rollback that failed or was killed half-way. Exit codes as for run.",
	RW_CMD_UNDO,
};

/* The newest run journal of the environment that was not undone yet. */
static int find_last(char **path, const rw_options *o)
{
	char *dir = deploy_journal_dir(o);
	rw_strlist paths = RW_STRLIST_INIT;
	int error = RW_ENOTFOUND;

	rw_journal_list(&paths, dir);
	for (size_t i = 0; i < paths.count && error == RW_ENOTFOUND; i++) {
		rw_journal *j;

		if (rw_journal_load(&j, paths.items[i]) < 0) {
			rw_warn("skipping %s", rw_error_last()->message);
			rw_error_clear();
			continue;
		}
		if (!strcmp(rw_journal_kind(j), "run") && !rw_journal_undone_by(j) &&
		    (!o->env || (rw_journal_env(j) && !strcmp(rw_journal_env(j), o->env)))) {
			*path = rw_strdup(paths.items[i]);
			error = 0;
		}
		rw_journal_free(j);
	}
	rw_strlist_dispose(&paths);
	if (error == RW_ENOTFOUND)
		rw_error_set(RW_ERR_USAGE, "no rollback to undo%s%s in %s", o->env ? " for environment " : "",
			o->env ? o->env : "", dir);
	free(dir);
	return error;
}

/* The undo journal: each changed service from what it runs now to its before image. */
static int plan_undo(rw_journal *undo, rw_journal *orig, rw_orchestrator *orch)
{
	for (size_t i = 0; i < rw_journal_count(orig); i++) {
		rw_journal_entry *e = rw_journal_entry_at(orig, i);
		char *now = NULL, *tag;

		if (!e->changed || !e->before || !e->app)
			continue;
		if (orch->current_image(&now, orch, e->app) < 0)
			return rw_error_prefix("%s (%s)", e->repo, e->app);
		tag = deploy_short_ref(e->before);
		rw_journal_add(undo, e->repo, e->app, now, e->before, tag);
		free(tag);
		free(now);
	}
	return 0;
}

static int pending(rw_journal *j)
{
	int n = 0;

	for (size_t i = 0; i < rw_journal_count(j); i++)
		n += rw_journal_entry_at(j, i)->state == RW_SVC_PENDING;
	return n;
}

typedef struct {
	cmd_session s;
	char *path;
	rw_journal *orig;
	rw_journal *undo;
	rw_orchestrator *orch;
	char *user;
	rw_lock *lock;
} undo_ctx;

static int load_journal(undo_ctx *c)
{
	rw_options *o = &c->s.opts;

	if (o->journal)
		c->path = rw_strdup(o->journal);
	else if (find_last(&c->path, o) < 0)
		return RW_ERROR;
	if (rw_journal_load(&c->orig, c->path) < 0)
		return RW_ERROR;
	if (rw_journal_undone_by(c->orig))
		return rw_error_set(RW_ERR_USAGE, "%s was already undone by %s", c->path, rw_journal_undone_by(c->orig));
	return 0;
}

/*
 * The options of the journal's environment: its [swarm "stage"] and the
 * like must be read, or an undo could reach another environment's cluster.
 */
static int options_of_journal_env(undo_ctx *c, int argc, char **argv)
{
	const char *env = rw_journal_env(c->orig);
	char **args;
	int rc;

	if (!env)
		return 0;
	if (c->s.opts.env)
		return strcmp(c->s.opts.env, env) ? rw_error_set(RW_ERR_USAGE,
			"%s is a rollback of environment '%s', not '%s'", c->path, env, c->s.opts.env) : 0;
	args = rw_calloc((size_t)argc + 1, sizeof(char *));
	memcpy(args, argv, (size_t)argc * sizeof(char *));
	args[argc] = rw_printf("--env=%s", env);
	session_close(&c->s);
	rc = session_options(&c->s, &undo_info, argc + 1, args);
	free(args[argc]);
	free(args);
	return rc;
}

static int prepare(undo_ctx *c)
{
	rw_options *o = &c->s.opts;
	char *jdir = deploy_journal_dir(o);
	int error;

	if (!o->orchestrator && rw_journal_orchestrator(c->orig))
		o->orchestrator = rw_strdup(rw_journal_orchestrator(c->orig));
	c->user = deploy_user(o);
	error = deploy_orchestrator(&c->orch, o);
	if (error == RW_ENOTFOUND)
		error = rw_error_set(RW_ERR_USAGE, "the journal names no orchestrator: give --orchestrator");
	if (!error && !o->dry_run)
		error = deploy_lock(&c->lock, o, c->user);
	if (!error)
		error = rw_journal_new(&c->undo, jdir, "undo", o->env, c->path, c->orch->name, c->user);
	if (!error)
		error = plan_undo(c->undo, c->orig, c->orch);
	free(jdir);
	return error;
}

static int carry_out(undo_ctx *c)
{
	rw_options *o = &c->s.opts;
	rw_rollback_opts ro;
	rw_rollback_result res;
	char *msg = rw_printf("rewind: undo the rollback of %s to %s\n\nUndone by %s with rewind %s (journal %s).\n",
		o->env ? o->env : "the release", rw_journal_target(c->orig) ? rw_journal_target(c->orig) : "?",
		c->user, REWIND_VERSION, c->path);
	int rc;

	deploy_rollback_opts(&ro, o, false, msg);
	if (rw_journal_save(c->undo) < 0) {
		free(msg);
		return cmd_error();
	}
	rc = rw_rollback_deploy(&res, c->undo, c->orch, &ro) < 0 ?
		(cmd_error(), res.still_changed ? RW_EXIT_PARTIAL : RW_EXIT_TOTAL) : 0;
	if (rc == 0) {
		rw_journal_set_undone_by(c->orig, rw_journal_path(c->undo));
		if (rw_journal_save(c->orig) < 0)
			rc = cmd_error();
	}
	if (o->json) {
		print_json_file(rw_journal_path(c->undo));
	} else {
		deploy_print_journal(c->undo);
		printf("%s: %zu done, %zu failed, %zu unchanged (journal %s)\n", rc ? "undo FAILED" : "undone",
			res.done, res.failed, res.unchanged, rw_journal_path(c->undo));
	}
	free(msg);
	return rc;
}

static int undo(undo_ctx *c, int argc, char **argv)
{
	char *question;
	int error;

	if (load_journal(c) < 0 || options_of_journal_env(c, argc, argv) < 0 || prepare(c) < 0)
		return cmd_error();
	if (!c->s.opts.json)
		deploy_print_journal(c->undo);
	if (!pending(c->undo)) {
		fprintf(stderr, "rewind: nothing to do: every service already runs its image from before %s\n", c->path);
		return RW_EXIT_NOTHING;
	}
	if (c->s.opts.dry_run) {
		printf("dry run: nothing was changed\n");
		return 0;
	}
	question = rw_printf("undo the rollback %s (%d services)", c->path, pending(c->undo));
	error = c->s.opts.yes ? 0 : deploy_confirm(question);
	free(question);
	if (error < 0)
		return cmd_error();
	return carry_out(c);
}

int cmd_undo(int argc, char **argv)
{
	undo_ctx c;
	int rc;

	memset(&c, 0, sizeof(c));
	rc = session_options(&c.s, &undo_info, argc, argv);
	if (rc < 0)
		rc = cmd_error();
	else if (rc == 0)
		rc = undo(&c, argc, argv);
	else
		rc = 0;
	rw_lock_release(c.lock);
	rw_journal_free(c.orig);
	rw_journal_free(c.undo);
	rw_orchestrator_free(c.orch);
	free(c.path);
	free(c.user);
	session_close(&c.s);
	return rc;
}
