/*
 * Carrying out a rollback: every pending service of a journal deployed
 * through an orchestrator, in the journal's order, up to `parallel` at a
 * time, each one waited for; the journal saved at every step. On a failure
 * nothing new starts; with revert_on_failure the services already changed
 * are put back to their before images.
 */
#ifndef REWIND_ROLLBACK_H
#define REWIND_ROLLBACK_H

#include <stdbool.h>
#include <stddef.h>

#include "rewind/journal.h"
#include "rewind/orchestrator.h"

typedef struct {
	long timeout_ms;  /* longest wait for one deploy */
	long poll_ms;     /* between two looks at a running deploy */
	int parallel;     /* deploys at once */
	bool force;
	bool revert_on_failure;
	const char *message; /* commit message of publishing backends */
} rw_rollback_opts;

typedef struct {
	size_t done;
	size_t failed;
	size_t reverted;
	size_t skipped;
	size_t unchanged;
	size_t still_changed; /* changed and not put back: a partial rollback */
} rw_rollback_result;

/*
 * RW_OK when every pending service is done; RW_ERROR (RW_ERR_ORCHESTRATOR,
 * naming the first service that failed and why) otherwise. The journal's
 * overall state is set: done, partial (some services were changed and stay
 * so), failed (none changed), or reverted (all put back).
 */
int rw_rollback_deploy(rw_rollback_result *res, rw_journal *j, rw_orchestrator *o,
	const rw_rollback_opts *opts);

#endif
