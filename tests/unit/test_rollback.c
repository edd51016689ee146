/*
 * rollback/: the deploy loop, the journal and the lock. The loop is driven
 * through an in-memory backend whose deploys finish after a number of polls
 * or fail on command: the real backends are tested against real servers in
 * tests/integration; here what is tested is the loop's own logic.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "unit.h"
#include "rewind/journal.h"
#include "rewind/orchestrator.h"
#include "rewind/rollback.h"
#include "rewind/util.h"

typedef struct {
	rw_orchestrator base;
	int polls_to_finish;     /* polls before a deploy is done */
	const char *fail_image;  /* deploys of this image fail */
	const char *refuse_app;  /* updates of this app are refused */
	bool never_finish;
	rw_strlist updates;      /* "app=image" in the order they came */
	int inflight, max_inflight;
	int polls[8];
} fake;

static int fake_update(char **deploy_id, rw_orchestrator *o, const char *app, const char *image, bool force)
{
	fake *f = (fake *)o;

	(void)force;
	if (f->refuse_app && !strcmp(app, f->refuse_app))
		return rw_error_set(RW_ERR_ORCHESTRATOR, "app %s is locked", app);
	rw_strlist_push_owned(&f->updates, rw_printf("%s=%s", app, image));
	*deploy_id = rw_printf("%zu", f->updates.count - 1);
	if (++f->inflight > f->max_inflight)
		f->max_inflight = f->inflight;
	return 0;
}

static int fake_poll(rw_deploy_state *state, char **detail, rw_orchestrator *o, const char *app, const char *deploy_id)
{
	fake *f = (fake *)o;
	int id = atoi(deploy_id);
	const char *image = strchr(f->updates.items[id], '=') + 1;

	(void)app;
	if (f->never_finish) {
		*state = RW_DEPLOY_RUNNING;
		return 0;
	}
	if (++f->polls[id] < f->polls_to_finish) {
		*state = RW_DEPLOY_RUNNING;
		return 0;
	}
	f->inflight--;
	if (f->fail_image && !strcmp(image, f->fail_image)) {
		*state = RW_DEPLOY_FAILED;
		*detail = rw_strdup("task exited with status 1");
		return 0;
	}
	*state = RW_DEPLOY_DONE;
	return 0;
}

static void fake_free(rw_orchestrator *o)
{
	(void)o;
}

static char dir[64];

static int setup(void **state)
{
	fake *f = rw_calloc(1, sizeof(*f));

	strcpy(dir, "/tmp/rewind-rollback-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	f->base.name = "fake";
	f->base.update = fake_update;
	f->base.poll = fake_poll;
	f->base.free = fake_free;
	f->polls_to_finish = 2;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fake *f = *state;
	char *cmd = rw_printf("rm -rf '%s'", dir);
	int rc = system(cmd);

	rw_strlist_dispose(&f->updates);
	free(f);
	free(cmd);
	return rc;
}

static rw_journal *journal_of(int n)
{
	rw_journal *j;
	static const char *repos[] = { "web", "api", "worker", "front" };

	assert_int_equal(rw_journal_new(&j, dir, "run", "prod", "2026-11-19", "fake", "alice"), 0);
	for (int i = 0; i < n; i++) {
		char *app = rw_printf("/prod/%s", repos[i]);
		char *before = rw_printf("r/%s:2.0", repos[i]), *after = rw_printf("r/%s:1.0", repos[i]);

		rw_journal_add(j, repos[i], app, before, after, "1.0");
		free(app);
		free(before);
		free(after);
	}
	return j;
}

static rw_rollback_opts opts(int parallel, bool revert)
{
	rw_rollback_opts o = { 5000, 1, parallel, false, revert, "msg" };

	return o;
}

static void deploys_in_order_one_at_a_time(void **state)
{
	fake *f = *state;
	rw_journal *j = journal_of(3);
	rw_rollback_result res;
	rw_rollback_opts o = opts(1, false);

	assert_int_equal(rw_rollback_deploy(&res, j, &f->base, &o), 0);
	assert_int_equal(res.done, 3);
	assert_int_equal(f->updates.count, 3);
	assert_string_equal(f->updates.items[0], "/prod/web=r/web:1.0");
	assert_string_equal(f->updates.items[2], "/prod/worker=r/worker:1.0");
	assert_int_equal(f->max_inflight, 1);
	assert_string_equal(rw_journal_state(j), "done");
	rw_journal_free(j);
}

static void parallel_keeps_n_in_flight(void **state)
{
	fake *f = *state;
	rw_journal *j = journal_of(4);
	rw_rollback_result res;
	rw_rollback_opts o = opts(2, false);

	f->polls_to_finish = 3;
	assert_int_equal(rw_rollback_deploy(&res, j, &f->base, &o), 0);
	assert_int_equal(res.done, 4);
	assert_int_equal(f->max_inflight, 2);
	rw_journal_free(j);
}

static void failure_stops_and_skips_the_rest(void **state)
{
	fake *f = *state;
	rw_journal *j = journal_of(4);
	rw_rollback_result res;
	rw_rollback_opts o = opts(1, false);

	f->fail_image = "r/api:1.0";
	assert_int_equal(rw_rollback_deploy(&res, j, &f->base, &o), RW_ERROR);
	assert_error_contains("api (/prod/api): deploy failed: task exited with status 1");
	rw_error_clear();
	assert_int_equal(res.done, 1);
	assert_int_equal(res.failed, 1);
	assert_int_equal(res.skipped, 2);
	assert_int_equal(f->updates.count, 2);
	assert_string_equal(rw_journal_state(j), "partial");
	assert_true(rw_journal_entry_at(j, 1)->changed);
	assert_false(rw_journal_entry_at(j, 2)->changed);
	rw_journal_free(j);
}

static void revert_puts_changed_services_back(void **state)
{
	fake *f = *state;
	rw_journal *j = journal_of(3);
	rw_rollback_result res;
	rw_rollback_opts o = opts(1, true);

	f->fail_image = "r/worker:1.0";
	assert_int_equal(rw_rollback_deploy(&res, j, &f->base, &o), RW_ERROR);
	rw_error_clear();
	/* web, api and worker were written; all go back, newest change first */
	assert_int_equal(f->updates.count, 6);
	assert_string_equal(f->updates.items[3], "/prod/worker=r/worker:2.0");
	assert_string_equal(f->updates.items[4], "/prod/api=r/api:2.0");
	assert_string_equal(f->updates.items[5], "/prod/web=r/web:2.0");
	assert_int_equal(res.reverted, 3);
	assert_string_equal(rw_journal_state(j), "reverted");
	rw_journal_free(j);
}

static void refused_update_changes_nothing(void **state)
{
	fake *f = *state;
	rw_journal *j = journal_of(2);
	rw_rollback_result res;
	rw_rollback_opts o = opts(1, true);

	f->refuse_app = "/prod/web";
	assert_int_equal(rw_rollback_deploy(&res, j, &f->base, &o), RW_ERROR);
	assert_error_contains("app /prod/web is locked");
	rw_error_clear();
	assert_int_equal(f->updates.count, 0);
	assert_string_equal(rw_journal_state(j), "failed");
	rw_journal_free(j);
}

static void timeout_fails_the_deploy(void **state)
{
	fake *f = *state;
	rw_journal *j = journal_of(1);
	rw_rollback_result res;
	rw_rollback_opts o = opts(1, false);

	f->never_finish = true;
	o.timeout_ms = 50;
	assert_int_equal(rw_rollback_deploy(&res, j, &f->base, &o), RW_ERROR);
	assert_error_contains("timed out: not finished after 0 s");
	rw_error_clear();
	assert_int_equal(rw_journal_entry_at(j, 0)->state, RW_SVC_FAILED);
	rw_journal_free(j);
}

static void journal_round_trips_through_its_file(void **state)
{
	rw_journal *j = journal_of(2), *k;
	rw_journal_entry *e;
	rw_strlist paths = RW_STRLIST_INIT;

	(void)state;
	e = rw_journal_entry_at(j, 0);
	e->state = RW_SVC_DONE;
	e->changed = true;
	e->detail = rw_strdup("pushed abc");
	rw_journal_set_state(j, "partial");
	assert_int_equal(rw_journal_save(j), 0);
	assert_int_equal(rw_journal_load(&k, rw_journal_path(j)), 0);
	assert_string_equal(rw_journal_state(k), "partial");
	assert_string_equal(rw_journal_user(k), "alice");
	assert_string_equal(rw_journal_target(k), "2026-11-19");
	assert_int_equal(rw_journal_count(k), 2);
	e = rw_journal_entry_at(k, 0);
	assert_int_equal(e->state, RW_SVC_DONE);
	assert_true(e->changed);
	assert_string_equal(e->before, "r/web:2.0");
	assert_string_equal(e->detail, "pushed abc");
	assert_int_equal(rw_journal_entry_at(k, 1)->state, RW_SVC_PENDING);
	rw_journal_list(&paths, dir);
	assert_int_equal(paths.count, 1);
	rw_strlist_dispose(&paths);
	rw_journal_free(j);
	rw_journal_free(k);
}

static void lock_is_exclusive_and_names_its_holder(void **state)
{
	rw_lock *lock, *other = NULL;
	int fds[2];
	pid_t pid;
	char c;

	(void)state;
	assert_int_equal(rw_lock_take(&lock, dir, "prod", "alice", "/j/1.json"), 0);
	/* another process cannot take it: a flock held by this one */
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	if (pid == 0) {
		int rc = rw_lock_take(&other, dir, "prod", "bob", NULL);

		c = rc == RW_ERROR && strstr(rw_error_last()->message, "held by alice") ? 'y' : 'n';
		if (write(fds[1], &c, 1) != 1)
			_exit(2);
		_exit(0);
	}
	assert_int_equal(read(fds[0], &c, 1), 1);
	waitpid(pid, NULL, 0);
	assert_int_equal(c, 'y');
	/* another environment has its own lock */
	assert_int_equal(rw_lock_take(&other, dir, "dev", "bob", NULL), 0);
	rw_lock_release(other);
	rw_lock_release(lock);
	close(fds[0]);
	close(fds[1]);
}

static void lock_of_a_dead_holder_is_taken_over(void **state)
{
	rw_lock *lock;
	pid_t pid;

	(void)state;
	pid = fork();
	if (pid == 0) {
		rw_lock *l;

		if (rw_lock_take(&l, dir, "prod", "crashed", NULL) < 0)
			_exit(1);
		_exit(0); /* dies holding it, like a kill -9 */
	}
	waitpid(pid, NULL, 0);
	assert_int_equal(rw_lock_take(&lock, dir, "prod", "alice", NULL), 0);
	rw_lock_release(lock);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(deploys_in_order_one_at_a_time, setup, teardown),
		cmocka_unit_test_setup_teardown(parallel_keeps_n_in_flight, setup, teardown),
		cmocka_unit_test_setup_teardown(failure_stops_and_skips_the_rest, setup, teardown),
		cmocka_unit_test_setup_teardown(revert_puts_changed_services_back, setup, teardown),
		cmocka_unit_test_setup_teardown(refused_update_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(timeout_fails_the_deploy, setup, teardown),
		cmocka_unit_test_setup_teardown(journal_round_trips_through_its_file, setup, teardown),
		cmocka_unit_test_setup_teardown(lock_is_exclusive_and_names_its_holder, setup, teardown),
		cmocka_unit_test_setup_teardown(lock_of_a_dead_holder_is_taken_over, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
