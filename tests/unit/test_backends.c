/*
 * The backends' settings and errors that need no server: where git keeps
 * its clone, the class of an unreachable remote, and URLs with credentials
 * in messages (orchestrator/git.c, marathon.c).
 */
#include <stdlib.h>
#include <sys/stat.h>
#include "unit.h"
#include "tmpdir.h"
#include "rewind/orchestrator.h"

static rw_orchestrator_opts git_opts(const char *url, const rw_strlist *paths)
{
	rw_orchestrator_opts o;

	memset(&o, 0, sizeof(o));
	o.http = (rw_http_opts)RW_HTTP_OPTS_INIT;
	o.git_url = url;
	o.git_paths = paths;
	return o;
}

/* Opens a backend expected to fail to reach its remote; the error stays set. */
static void open_fails(const char *name, const rw_orchestrator_opts *opts)
{
	rw_orchestrator *o = NULL;

	assert_int_equal(rw_orchestrator_new(&o, name, opts), 0);
	assert_int_equal(o->open(o), RW_ERROR);
	rw_orchestrator_free(o);
}

/* The clone was made (open got that far) at <base>/deploy-<first 12 hex of sha256(url "\n" branch)>. */
static void assert_clone_in(const char *base, const char *url)
{
	char digest[RW_DIGEST_MAX], *key = rw_printf("%s\nmain", url), *path;
	struct stat st;

	rw_sha256_digest(digest, key, strlen(key));
	path = rw_printf("%s/deploy-%.12s", base, digest + 7);
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		fail_msg("no clone in %s", path);
	free(path);
	free(key);
}

static void git_clone_goes_to_the_cache_dir(void **state)
{
	rw_strlist paths = RW_STRLIST_INIT;
	char *url = rw_printf("%s/nowhere/deploy.git", unit_dir), *cache = rw_printf("%s/cache", unit_dir);
	char *xdg = rw_printf("%s/xdg", unit_dir), *base;
	rw_orchestrator_opts o;

	(void)state;
	rw_strlist_push(&paths, "k8s/*.yaml");
	setenv("XDG_CACHE_HOME", xdg, 1);
	o = git_opts(url, &paths);
	o.cache_dir = cache;
	open_fails("git", &o);
	rw_error_clear();
	base = rw_printf("%s/git", cache);
	assert_clone_in(base, url);
	free(base);
	/* --no-cache: no cache directory, but a clone is needed all the same */
	o.cache_dir = NULL;
	open_fails("git", &o);
	rw_error_clear();
	base = rw_printf("%s/rewind/git", xdg);
	assert_clone_in(base, url);
	unsetenv("XDG_CACHE_HOME");
	free(base);
	free(xdg);
	free(cache);
	free(url);
	rw_strlist_dispose(&paths);
}

static void unreachable_git_remote_is_an_orchestrator_error(void **state)
{
	rw_strlist paths = RW_STRLIST_INIT;
	char *url = rw_printf("file://%s/nope.git", unit_dir), *work = rw_printf("%s/work", unit_dir);
	rw_orchestrator_opts o;

	(void)state;
	rw_strlist_push(&paths, "k8s/*.yaml");
	o = git_opts(url, &paths);
	o.git_workdir = work;
	open_fails("git", &o);
	/* exit 9 like Marathon and Swarm, not 4 (the registry's) */
	assert_int_equal(rw_error_last()->klass, RW_ERR_ORCHESTRATOR);
	assert_error_contains("cannot fetch from file://");
	assert_true(rw_str_startswith(rw_error_last()->message, "git: "));
	assert_false(rw_str_startswith(rw_error_last()->message, "git: git:"));
	rw_error_clear();
	free(work);
	free(url);
	rw_strlist_dispose(&paths);
}

static void git_token_in_the_url_is_never_shown(void **state)
{
	rw_strlist paths = RW_STRLIST_INIT;
	char *work = rw_printf("%s/work-token", unit_dir);
	rw_orchestrator_opts o;

	(void)state;
	rw_strlist_push(&paths, "k8s/*.yaml");
	/* nothing listens on port 1: refused at once */
	o = git_opts("http://ghp_T0KEN@127.0.0.1:1/team/deploy.git", &paths);
	o.git_workdir = work;
	open_fails("git", &o);
	assert_int_equal(rw_error_last()->klass, RW_ERR_ORCHESTRATOR);
	assert_error_contains("127.0.0.1:1/team/deploy.git");
	if (strstr(rw_error_last()->message, "ghp_T0KEN"))
		fail_msg("the token is in '%s'", rw_error_last()->message);
	rw_error_clear();
	free(work);
	rw_strlist_dispose(&paths);
}

static void marathon_credentials_in_the_url_are_never_shown(void **state)
{
	rw_orchestrator_opts o;
	rw_orchestrator *m = NULL;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.http = (rw_http_opts)RW_HTTP_OPTS_INIT;
	o.http.max_retries = 0;
	o.marathon_url = "http://ci:pa55w0rd@127.0.0.1:1/marathon?token=t0k3n";
	open_fails("marathon", &o);
	assert_int_equal(rw_error_last()->klass, RW_ERR_ORCHESTRATOR);
	assert_error_contains("Marathon http://REDACTED@127.0.0.1:1/marathon");
	if (strstr(rw_error_last()->message, "pa55w0rd") || strstr(rw_error_last()->message, "t0k3n"))
		fail_msg("a secret is in '%s'", rw_error_last()->message);
	rw_error_clear();
	o.marathon_url = "ftp://ci:pa55w0rd@127.0.0.1/";
	assert_int_equal(rw_orchestrator_new(&m, "marathon", &o), RW_ERROR);
	assert_error_contains("invalid [marathon] url");
	if (strstr(rw_error_last()->message, "pa55w0rd"))
		fail_msg("the password is in '%s'", rw_error_last()->message);
	rw_error_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(git_clone_goes_to_the_cache_dir),
		cmocka_unit_test(unreachable_git_remote_is_an_orchestrator_error),
		cmocka_unit_test(git_token_in_the_url_is_never_shown),
		cmocka_unit_test(marathon_credentials_in_the_url_are_never_shown),
	};
	return cmocka_run_group_tests(tests, unit_dir_setup, unit_dir_teardown);
}
