/*
 * The deploy loop. Backends answer quickly (update starts a deploy, poll
 * looks at it), so one thread can keep several deploys in flight and still
 * notice a failure as soon as it happens.
 */
#include "rewind/rollback.h"
#include "rewind/errors.h"
#include "rewind/log.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A poll that fails this many times in a row fails the deploy. */
#define POLL_ERRORS_MAX 5

typedef struct {
	rw_journal_entry *e;
	const char *image; /* what it is being moved to */
	long long started;
	int poll_errors;
} slot;

typedef struct {
	rw_journal *j;
	rw_orchestrator *o;
	const rw_rollback_opts *opts;
	slot *slots;
	size_t inflight;
	rw_error *first_failure;
} loop;

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void save(loop *l)
{
	if (rw_journal_save(l->j) < 0) {
		/* losing the journal is worse than stopping: say so loudly */
		rw_warn("%s", rw_error_last()->message);
		rw_error_clear();
	}
}

/*
 * Marks e failed with the last error as its detail (after what it said
 * already: a failed revert must not hide why the deploy failed) and
 * remembers the first failure.
 */
static void fail_entry(loop *l, rw_journal_entry *e, const char *what)
{
	const rw_error *err = rw_error_last();
	char *old = e->detail;

	e->state = RW_SVC_FAILED;
	e->detail = old ? rw_printf("%s; %s: %s", old, what, err ? err->message : "failed")
		: rw_printf("%s: %s", what, err ? err->message : "failed");
	free(old);
	rw_warn("%s (%s): %s", e->repo, e->app ? e->app : "?", e->detail);
	if (!l->first_failure) {
		rw_error_set(RW_ERR_ORCHESTRATOR, "%s (%s): %s", e->repo, e->app ? e->app : "?", e->detail);
		l->first_failure = rw_error_steal();
	}
	rw_error_clear();
	save(l);
}

static int start(loop *l, rw_journal_entry *e, const char *image, bool force)
{
	char *deploy_id = NULL;

	rw_info("%s: %s -> %s", e->repo, e->before ? e->before : "?", image);
	if (l->o->update(&deploy_id, l->o, e->app, image, force) < 0) {
		fail_entry(l, e, force && !l->opts->force ? "revert refused" : "update refused");
		return RW_ERROR;
	}
	free(e->deploy_id);
	e->deploy_id = deploy_id;
	e->state = RW_SVC_DEPLOYING;
	e->changed = true;
	save(l);
	l->slots[l->inflight].e = e;
	l->slots[l->inflight].image = image;
	l->slots[l->inflight].started = rw_now_ms();
	l->slots[l->inflight].poll_errors = 0;
	l->inflight++;
	return 0;
}

/* 1 when the slot finished (done or failed), 0 while it runs. */
static int check(loop *l, slot *s, rw_svc_state done_state)
{
	rw_deploy_state st = RW_DEPLOY_RUNNING;
	char *detail = NULL;
	int finished = 1;

	if (l->o->poll(&st, &detail, l->o, s->e->app, s->e->deploy_id) < 0) {
		if (++s->poll_errors < POLL_ERRORS_MAX) {
			rw_warn("%s: cannot ask how the deploy goes (%s); asking again", s->e->repo, rw_error_last()->message);
			rw_error_clear();
			return 0;
		}
		fail_entry(l, s->e, "the orchestrator stopped answering");
		return 1;
	}
	s->poll_errors = 0;
	if (st == RW_DEPLOY_DONE) {
		s->e->state = done_state;
		rw_info("%s: deployed", s->e->repo);
		save(l);
	} else if (st == RW_DEPLOY_FAILED) {
		rw_error_set(RW_ERR_ORCHESTRATOR, "%s", detail ? detail : "the deploy failed");
		fail_entry(l, s->e, "deploy failed");
	} else if (rw_now_ms() - s->started > l->opts->timeout_ms) {
		rw_error_set(RW_ERR_ORCHESTRATOR, "not finished after %ld s%s%s (it may still finish: look at the orchestrator)",
			l->opts->timeout_ms / 1000, detail ? "; " : "", detail ? detail : "");
		fail_entry(l, s->e, "timed out");
	} else {
		finished = 0;
	}
	free(detail);
	return finished;
}

/* Polls every slot once; drops the finished ones. */
static void check_all(loop *l, rw_svc_state done_state)
{
	for (size_t i = 0; i < l->inflight;) {
		if (check(l, &l->slots[i], done_state))
			l->slots[i] = l->slots[--l->inflight];
		else
			i++;
	}
}

static void run_pending(loop *l)
{
	size_t next = 0, n = rw_journal_count(l->j);

	for (;;) {
		while (!l->first_failure && l->inflight < (size_t)l->opts->parallel && next < n) {
			rw_journal_entry *e = rw_journal_entry_at(l->j, next++);

			if (e->state == RW_SVC_PENDING)
				start(l, e, e->after, l->opts->force);
		}
		if (!l->inflight)
			break;
		sleep_ms(l->opts->poll_ms);
		check_all(l, RW_SVC_DONE);
	}
	for (size_t i = 0; i < n; i++) {
		rw_journal_entry *e = rw_journal_entry_at(l->j, i);

		if (e->state == RW_SVC_PENDING)
			e->state = RW_SVC_SKIPPED;
	}
	save(l);
}

/* Backends that deploy at once: write every service, then publish. */
static void run_published(loop *l)
{
	size_t n = rw_journal_count(l->j);
	char *detail = NULL;

	for (size_t i = 0; i < n && !l->first_failure; i++) {
		rw_journal_entry *e = rw_journal_entry_at(l->j, i);

		if (e->state == RW_SVC_PENDING && start(l, e, e->after, l->opts->force) == 0)
			l->inflight = 0; /* nothing to poll before publishing */
	}
	if (l->first_failure) {
		for (size_t i = 0; i < n; i++) {
			rw_journal_entry *e = rw_journal_entry_at(l->j, i);

			if (e->state == RW_SVC_PENDING || e->state == RW_SVC_DEPLOYING)
				e->state = RW_SVC_SKIPPED;
		}
		save(l);
		return;
	}
	if (l->o->publish(&detail, l->o, l->opts->message) < 0) {
		rw_error *why = rw_error_steal();

		for (size_t i = 0; i < n; i++) {
			rw_journal_entry *e = rw_journal_entry_at(l->j, i);

			if (e->state != RW_SVC_DEPLOYING)
				continue;
			e->changed = false; /* written locally, never published */
			rw_error_set(why->klass, "%s", why->message);
			fail_entry(l, e, "publishing failed, nothing was changed");
		}
		rw_error_free(why);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		rw_journal_entry *e = rw_journal_entry_at(l->j, i);

		if (e->state == RW_SVC_DEPLOYING) {
			e->state = RW_SVC_DONE;
			free(e->detail);
			e->detail = detail ? rw_strdup(detail) : NULL;
		}
	}
	if (detail)
		rw_info("%s", detail);
	free(detail);
	save(l);
}

/*
 * Puts every changed service back to its before image, newest change
 * first. Forced: what may hold the app now is rewind's own deploy (one that
 * timed out), and waiting for it is what failed.
 */
static void revert(loop *l)
{
	size_t n = rw_journal_count(l->j);

	for (size_t i = n; i-- > 0;) {
		rw_journal_entry *e = rw_journal_entry_at(l->j, i);

		if (!e->changed || !e->before || e->state == RW_SVC_REVERTED)
			continue;
		rw_warn("reverting %s to %s", e->repo, e->before);
		if (start(l, e, e->before, true) < 0)
			continue;
		while (l->inflight) {
			sleep_ms(l->opts->poll_ms);
			check_all(l, RW_SVC_REVERTED);
		}
	}
}

static void count(rw_rollback_result *res, rw_journal *j)
{
	memset(res, 0, sizeof(*res));
	for (size_t i = 0; i < rw_journal_count(j); i++) {
		const rw_journal_entry *e = rw_journal_entry_at(j, i);

		if (e->changed && e->state != RW_SVC_REVERTED)
			res->still_changed++;
		switch (e->state) {
		case RW_SVC_DONE: res->done++; break;
		case RW_SVC_FAILED:
		case RW_SVC_DEPLOYING: res->failed++; break;
		case RW_SVC_REVERTED: res->reverted++; break;
		case RW_SVC_SKIPPED: res->skipped++; break;
		case RW_SVC_UNCHANGED: res->unchanged++; break;
		default: break;
		}
	}
}

int rw_rollback_deploy(rw_rollback_result *res, rw_journal *j, rw_orchestrator *o,
	const rw_rollback_opts *opts)
{
	loop l = { j, o, opts, NULL, 0, NULL };

	l.slots = rw_calloc((size_t)(opts->parallel > 0 ? opts->parallel : 1), sizeof(slot));
	if (o->publish)
		run_published(&l);
	else
		run_pending(&l);
	if (l.first_failure && opts->revert_on_failure && !o->publish)
		revert(&l);
	free(l.slots);
	count(res, j);
	if (!l.first_failure) {
		rw_journal_set_state(j, "done");
		save(&l);
		return 0;
	}
	rw_journal_set_state(j, res->still_changed ? "partial" : res->reverted ? "reverted" : "failed");
	save(&l);
	rw_error_restore(l.first_failure);
	return RW_ERROR;
}
