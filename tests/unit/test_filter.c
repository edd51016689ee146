/* timeline/filter.c: which tags belong to an environment. */
#include <stdlib.h>
#include "unit.h"
#include "rewind/filter.h"

static void suffix_needs_a_separator(void **state)
{
	rw_tag_filter *f;

	(void)state;
	assert_int_equal(rw_tag_filter_new(&f, "prod", NULL), 0);
	assert_true(rw_tag_filter_match(f, "1.4.2-prod"));
	assert_true(rw_tag_filter_match(f, "1.4.2_prod"));
	assert_true(rw_tag_filter_match(f, "1.4.2.prod"));
	assert_true(rw_tag_filter_match(f, "prod"));
	assert_false(rw_tag_filter_match(f, "1.4.2-preprod"));
	assert_false(rw_tag_filter_match(f, "1.4.2-prod-hotfix"));
	assert_false(rw_tag_filter_match(f, "rod"));
	assert_string_equal(rw_tag_filter_describe(f), "tags ending in -prod");
	rw_tag_filter_free(f);
}

static void pattern_wins_over_suffix(void **state)
{
	rw_tag_filter *f;

	(void)state;
	assert_int_equal(rw_tag_filter_new(&f, "master", "^v[0-9]+\\.[0-9]+$"), 0);
	assert_true(rw_tag_filter_match(f, "v1.2"));
	assert_false(rw_tag_filter_match(f, "1.2-master"));
	assert_false(rw_tag_filter_match(f, "v1.2-rc"));
	rw_tag_filter_free(f);
}

static void unanchored_pattern_matches_anywhere(void **state)
{
	rw_tag_filter *f;

	(void)state;
	assert_int_equal(rw_tag_filter_new(&f, NULL, "release"), 0);
	assert_true(rw_tag_filter_match(f, "2026.11-release-3"));
	assert_false(rw_tag_filter_match(f, "2026.11-rc"));
	rw_tag_filter_free(f);
}

static void no_filter_keeps_everything(void **state)
{
	rw_tag_filter *f;

	(void)state;
	assert_int_equal(rw_tag_filter_new(&f, NULL, NULL), 0);
	assert_true(rw_tag_filter_match(f, "anything"));
	assert_string_equal(rw_tag_filter_describe(f), "all tags");
	rw_tag_filter_free(f);
}

static void bad_pattern_is_a_usage_error(void **state)
{
	rw_tag_filter *f = NULL;

	(void)state;
	assert_int_equal(rw_tag_filter_new(&f, NULL, "(unclosed"), RW_ERROR);
	assert_int_equal(rw_error_last()->klass, RW_ERR_USAGE);
	assert_error_contains("invalid --tag-pattern '(unclosed'");
	rw_error_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(suffix_needs_a_separator),
		cmocka_unit_test(pattern_wins_over_suffix),
		cmocka_unit_test(unanchored_pattern_matches_anywhere),
		cmocka_unit_test(no_filter_keeps_everything),
		cmocka_unit_test(bad_pattern_is_a_usage_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
