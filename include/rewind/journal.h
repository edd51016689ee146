/*
 * The journal of a rollback: written before anything is touched and again
 * at every step, atomically, so that whatever happens to rewind (a crash,
 * kill -9, a lost CI agent) the record says which service ran what before,
 * what it was being moved to, and how far it got. `rewind undo` works from
 * it, `rewind history` lists them.
 */
#ifndef REWIND_JOURNAL_H
#define REWIND_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "rewind/util.h"

typedef enum {
	RW_SVC_PENDING,   /* will be deployed */
	RW_SVC_UNCHANGED, /* already runs its image: nothing to do */
	RW_SVC_DEPLOYING, /* its configuration was written; the deploy runs */
	RW_SVC_DONE,      /* deployed and finished */
	RW_SVC_FAILED,    /* its deploy failed or timed out */
	RW_SVC_REVERTED,  /* put back to its before image after a failure */
	RW_SVC_SKIPPED,   /* not attempted: an earlier service failed */
} rw_svc_state;

typedef struct {
	char *repo;
	char *app;
	char *before;    /* the image it ran */
	char *after;     /* the image of the rollback */
	char *tag;       /* the tag of `after`, for people */
	char *deploy_id;
	char *detail;    /* why it failed, what was published */
	rw_svc_state state;
	bool changed;    /* its configuration was written: undo puts it back */
} rw_journal_entry;

typedef struct rw_journal rw_journal;

/*
 * A new journal in dir, named after the time and process: kind "run" or
 * "undo"; target is the rollback date (run) or the journal undone (undo).
 */
int rw_journal_new(rw_journal **out, const char *dir, const char *kind, const char *env,
	const char *target, const char *orchestrator, const char *user);
rw_journal_entry *rw_journal_add(rw_journal *j, const char *repo, const char *app,
	const char *before, const char *after, const char *tag);
/* Sets the overall state ("running", "done", "failed", "partial", "reverted"). */
void rw_journal_set_state(rw_journal *j, const char *state);
void rw_journal_set_undone_by(rw_journal *j, const char *path);
/* Writes the journal (temporary file, fsync, rename). */
int rw_journal_save(rw_journal *j);
int rw_journal_load(rw_journal **out, const char *path);
void rw_journal_free(rw_journal *j);

const char *rw_journal_path(const rw_journal *j);
const char *rw_journal_kind(const rw_journal *j);
const char *rw_journal_env(const rw_journal *j);
const char *rw_journal_target(const rw_journal *j);
const char *rw_journal_orchestrator(const rw_journal *j);
const char *rw_journal_user(const rw_journal *j);
const char *rw_journal_state(const rw_journal *j);
const char *rw_journal_started(const rw_journal *j);
const char *rw_journal_undone_by(const rw_journal *j);
size_t rw_journal_count(const rw_journal *j);
rw_journal_entry *rw_journal_entry_at(rw_journal *j, size_t i);

const char *rw_svc_state_name(rw_svc_state s);

/* The journals of dir, newest first (paths). */
int rw_journal_list(rw_strlist *paths, const char *dir);

/*
 * The lock of an environment: one rollback at a time. The kernel drops it
 * when its holder dies (flock), so a kill -9 never leaves it stuck; the
 * file says who holds it, for the error a second rollback gets.
 */
typedef struct rw_lock rw_lock;

/* RW_ERR_LOCKED error naming the holder when another process holds it. */
int rw_lock_take(rw_lock **out, const char *dir, const char *env, const char *user, const char *journal);
void rw_lock_release(rw_lock *lock);

#endif
