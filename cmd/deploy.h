/* What plan, run and undo share: the orchestrator of a session and the
 * deploy plan (for each repository its app, the image it runs now and the
 * one it gets). */
#ifndef REWIND_CMD_DEPLOY_H
#define REWIND_CMD_DEPLOY_H

#include "cmd.h"
#include "rewind/journal.h"
#include "rewind/orchestrator.h"
#include "rewind/rollback.h"

typedef struct {
	const char *repo;
	const rw_image *image; /* as of the date; NULL: none */
	bool same_day;
	char *app;
	char *current;  /* the image it runs now */
	char *after;    /* the image it gets */
	bool change;
	char *warning;  /* from the backend (image automation) */
} deploy_item;

typedef struct {
	deploy_item *items; /* in repository order */
	size_t count;
} deploy_plan;

/* The orchestrator the options name, opened; RW_ENOTFOUND when none is configured. */
int deploy_orchestrator(rw_orchestrator **out, const rw_options *o);

/* Maps every repository of plan to its app and computes its new image. */
int deploy_plan_build(deploy_plan *dp, rw_orchestrator *orch, const rw_plan *plan, const rw_options *o);
void deploy_plan_dispose(deploy_plan *dp);

/* The tag (or short digest) of an image reference, for people. */
char *deploy_short_ref(const char *ref);

/* The table of plan (with apps when dp is not NULL). */
void deploy_plan_print(const deploy_plan *dp, const rw_plan *plan, const rw_tz *tz);

/* Who runs the rollback: --user, $BUILD_USER_ID, $USER, the login name. */
char *deploy_user(const rw_options *o);

/* Where journals and locks live. */
char *deploy_journal_dir(const rw_options *o);
char *deploy_lock_dir(const rw_options *o);

/* Asks "question [y/N]" on a terminal; RW_ERR_USAGE error without one (use --yes). */
int deploy_confirm(const char *question);

/* The deploy loop's settings from the options ($REWIND_POLL_MS: how often). */
void deploy_rollback_opts(rw_rollback_opts *ro, const rw_options *o, bool revert, const char *message);

/* Takes the environment's lock (before reading what runs, so no other
 * rollback moves it between the plan and the deploy). */
int deploy_lock(rw_lock **out, const rw_options *o, const char *user);

/* Prints a journal file as it is (--json). */
void print_json_file(const char *path);

/* Prints the services of a journal and their states. */
void deploy_print_journal(rw_journal *j);

#endif
