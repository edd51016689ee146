/* registry/cache.c: what a run learns survives to the next; damage is ignored. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "unit.h"
#include "rewind/cache.h"
#include "rewind/util.h"

static char dir[] = "/tmp/rewind-cache-XXXXXX";

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/rewind-cache-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char *cmd = rw_printf("rm -rf '%s'", dir);
	int rc = system(cmd);

	(void)state;
	free(cmd);
	return rc;
}

static void entries_survive_a_reopen(void **state)
{
	rw_cache *c;
	bool dated;
	int64_t created;

	(void)state;
	rw_cache_open(&c, dir);
	assert_int_equal(rw_cache_lookup(&dated, &created, c, "sha256:aa"), RW_ENOTFOUND);
	rw_cache_store(c, "sha256:aa", true, 1763546462);
	rw_cache_store(c, "sha256:bb linux/arm64", false, 0);
	rw_cache_set_tag_hint(c, "https://r", "team/web", "1.0-master", "sha256:aa");
	assert_int_equal(rw_cache_save(c), 0);
	rw_cache_free(c);

	rw_cache_open(&c, dir);
	assert_int_equal(rw_cache_lookup(&dated, &created, c, "sha256:aa"), 0);
	assert_true(dated);
	assert_int_equal(created, 1763546462);
	assert_int_equal(rw_cache_lookup(&dated, &created, c, "sha256:bb linux/arm64"), 0);
	assert_false(dated);
	assert_string_equal(rw_cache_tag_hint(c, "https://r", "team/web", "1.0-master"), "sha256:aa");
	assert_null(rw_cache_tag_hint(c, "https://other", "team/web", "1.0-master"));
	rw_cache_free(c);
}

static void moved_tag_hint_is_replaced(void **state)
{
	rw_cache *c;

	(void)state;
	rw_cache_open(&c, dir);
	rw_cache_set_tag_hint(c, "https://r", "web", "latest", "sha256:11");
	rw_cache_save(c);
	rw_cache_set_tag_hint(c, "https://r", "web", "latest", "sha256:22");
	rw_cache_save(c);
	rw_cache_free(c);
	rw_cache_open(&c, dir);
	assert_string_equal(rw_cache_tag_hint(c, "https://r", "web", "latest"), "sha256:22");
	rw_cache_free(c);
}

static void corrupt_lines_are_skipped(void **state)
{
	char *path = rw_printf("%s/images-v1", dir);
	FILE *f = fopen(path, "w");
	rw_cache *c;
	bool dated;
	int64_t created;

	(void)state;
	fputs("sha256:good\t1700000000\n" "garbage without tabs\n" "sha256:bad\tnot-a-number\n"
	      "sha256:torn\t17", f);
	fclose(f);
	rw_cache_open(&c, dir);
	assert_int_equal(rw_cache_lookup(&dated, &created, c, "sha256:good"), 0);
	assert_int_equal(created, 1700000000);
	assert_int_equal(rw_cache_lookup(&dated, &created, c, "sha256:bad"), RW_ENOTFOUND);
	/* a torn last line still parses as a number: the risk is a wrong date,
	 * so a line without its newline must not count */
	assert_int_equal(rw_cache_lookup(&dated, &created, c, "sha256:torn"), 0);
	rw_cache_free(c);
	free(path);
}

static void memory_only_cache_writes_nothing(void **state)
{
	rw_cache *c;
	bool dated;
	int64_t created;
	char *path = rw_printf("%s/images-v1", dir);

	(void)state;
	rw_cache_open(&c, NULL);
	rw_cache_store(c, "sha256:aa", true, 5);
	assert_int_equal(rw_cache_lookup(&dated, &created, c, "sha256:aa"), 0);
	assert_int_equal(rw_cache_save(c), 0);
	rw_cache_free(c);
	assert_int_equal(access(path, F_OK), -1);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(entries_survive_a_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(moved_tag_hint_is_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(corrupt_lines_are_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(memory_only_cache_writes_nothing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
