/* orchestrator/orchestrator.c: repository -> app mapping and new images. */
#include <stdlib.h>
#include "unit.h"
#include "rewind/orchestrator.h"
#include "rewind/strmap.h"

static rw_strlist apps(void)
{
	rw_strlist l = RW_STRLIST_INIT;

	rw_strlist_split(&l, "/ds/prod/shop/web /ds/prod/shop/webshop /ds/prod-old/web "
		"/ds/prod/api /ds/prod/shop/cart /ds/dev/api /ds/prod/a/worker /ds/prod/b/worker");
	return l;
}

static void match_by_suffix_under_prefix(void **state)
{
	rw_strlist l = apps();
	char *id = NULL;

	(void)state;
	assert_int_equal(rw_orchestrator_match(&id, NULL, &l, "/ds/prod/", "web"), 0);
	assert_string_equal(id, "/ds/prod/shop/web");
	free(id);
	assert_int_equal(rw_orchestrator_match(&id, NULL, &l, "/ds/prod/", "api"), 0);
	assert_string_equal(id, "/ds/prod/api");
	free(id);
	/* a prefix is a whole path: /ds/prod is not /ds/prod-old */
	assert_int_equal(rw_orchestrator_match(&id, NULL, &l, "/ds/prod", "web"), 0);
	assert_string_equal(id, "/ds/prod/shop/web");
	free(id);
	/* a repository with a namespace matches as a whole first */
	assert_int_equal(rw_orchestrator_match(&id, NULL, &l, "/ds/prod/", "shop/cart"), 0);
	assert_string_equal(id, "/ds/prod/shop/cart");
	free(id);
	/* and by its last component when nothing ends with the whole */
	assert_int_equal(rw_orchestrator_match(&id, NULL, &l, "/ds/prod/", "team/api"), 0);
	assert_string_equal(id, "/ds/prod/api");
	free(id);
	rw_strlist_dispose(&l);
}

static void none_or_several_name_them(void **state)
{
	rw_strlist l = apps();
	char *id = NULL;

	(void)state;
	assert_int_equal(rw_orchestrator_match(&id, NULL, &l, "/ds/prod/", "worker"), RW_ERROR);
	assert_error_contains("repository 'worker' matches 2 apps (/ds/prod/a/worker, /ds/prod/b/worker)");
	assert_int_equal(rw_orchestrator_match(&id, NULL, &l, "/ds/prod/", "mailer"), RW_ERROR);
	assert_error_contains("no app for repository 'mailer' under '/ds/prod/'");
	assert_int_equal(rw_error_last()->klass, RW_ERR_ORCHESTRATOR);
	rw_error_clear();
	rw_strlist_dispose(&l);
}

static void explicit_mapping_wins(void **state)
{
	rw_strlist l = apps();
	rw_strmap *ids = rw_strmap_new();
	rw_orchestrator_opts o = { 0 };
	char *id = NULL;

	(void)state;
	rw_strmap_put(ids, "worker", rw_strdup("/ds/prod/b/worker"));
	o.app_ids = ids;
	assert_int_equal(rw_orchestrator_match(&id, &o, &l, "/ds/prod/", "worker"), 0);
	assert_string_equal(id, "/ds/prod/b/worker");
	free(id);
	rw_strmap_free(ids, free);
	rw_strlist_dispose(&l);
}

static void new_image_keeps_domain_path_and_style(void **state)
{
	char *img = NULL;
	const char *d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

	(void)state;
	assert_int_equal(rw_orchestrator_image_for(&img, "registry.example.com:5000/team/web:1.8.0-master",
		"web", "1.7.9-master", d, false), 0);
	assert_string_equal(img, "registry.example.com:5000/team/web:1.7.9-master");
	free(img);
	assert_int_equal(rw_orchestrator_image_for(&img, "registry.example.com/web:1.8.0-master@sha256:"
		"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "web", "1.7.9-master", d, false), 0);
	assert_string_equal(img, "registry.example.com/web:1.7.9-master@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	free(img);
	assert_int_equal(rw_orchestrator_image_for(&img, "127.0.0.1:5000/web:1.8.0", "web", "1.7.9", d, true), 0);
	assert_string_equal(img, "127.0.0.1:5000/web:1.7.9@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	free(img);
}

static void image_of_another_repository_is_refused(void **state)
{
	char *img = NULL;

	(void)state;
	assert_int_equal(rw_orchestrator_image_for(&img, "registry.example.com/webshop:1.0", "web", "0.9", NULL, false), RW_ERROR);
	assert_error_contains("runs image 'registry.example.com/webshop:1.0', which is not of repository 'web'");
	assert_int_equal(rw_orchestrator_image_for(&img, "not a reference", "web", "0.9", NULL, false), RW_ERROR);
	rw_error_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(match_by_suffix_under_prefix),
		cmocka_unit_test(none_or_several_name_them),
		cmocka_unit_test(explicit_mapping_wins),
		cmocka_unit_test(new_image_keeps_domain_path_and_style),
		cmocka_unit_test(image_of_another_repository_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
