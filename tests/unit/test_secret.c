/* util/secret.c: secrets read from files, wiped before they are freed. */
#include <jansson.h>
#include <stdlib.h>
#include "unit.h"
#include "tmpdir.h"
#include "rewind/secret.h"

static void trailing_newlines_are_not_the_secrets(void **state)
{
	static const char *const forms[] = { "s3cret pw", "s3cret pw\n", "s3cret pw\r\n", "s3cret pw\n\n" };
	char *s = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		char *path = unit_file("pw", forms[i], strlen(forms[i]));

		assert_int_equal(rw_secret_read(&s, path, "password"), 0);
		/* inner and leading white space are the password's */
		assert_string_equal(s, "s3cret pw");
		rw_secret_free(s);
		free(path);
	}
}

static void empty_binary_and_missing_files_are_refused(void **state)
{
	char *s = NULL, *path;

	(void)state;
	path = unit_file("empty", "\n", 1);
	assert_int_equal(rw_secret_read(&s, path, "token"), RW_ERROR);
	assert_int_equal(rw_error_last()->klass, RW_ERR_AUTH);
	assert_error_contains("the token file '");
	assert_error_contains("' is empty");
	free(path);
	path = unit_file("binary", "ab\0cd\n", 6);
	assert_int_equal(rw_secret_read(&s, path, "password"), RW_ERROR);
	assert_int_equal(rw_error_last()->klass, RW_ERR_AUTH);
	assert_error_contains("holds a NUL byte");
	free(path);
	assert_int_equal(rw_secret_read(&s, "/nonexistent/pw", "password"), RW_ERROR);
	assert_error_contains("cannot read the password file: cannot open '/nonexistent/pw'");
	assert_int_equal(rw_error_last()->klass, RW_ERR_OS);
	rw_error_clear();
}

static void size_is_capped(void **state)
{
	char *big = malloc(RW_SECRET_MAX + 1), *s = NULL, *path;

	(void)state;
	memset(big, 'x', RW_SECRET_MAX + 1);
	path = unit_file("at-cap", big, RW_SECRET_MAX);
	assert_int_equal(rw_secret_read(&s, path, "token"), 0);
	assert_int_equal(strlen(s), RW_SECRET_MAX);
	rw_secret_free(s);
	free(path);
	path = unit_file("past-cap", big, RW_SECRET_MAX + 1);
	assert_int_equal(rw_secret_read(&s, path, "token"), RW_ERROR);
	assert_error_contains("is larger than");
	rw_error_clear();
	free(path);
	free(big);
}

static void whole_files_keep_their_bytes(void **state)
{
	char *s = NULL, *path = unit_file("config.json", "{\"a\": 1}\n", 9);
	size_t len = 0;

	(void)state;
	assert_int_equal(rw_secret_read_file(&s, &len, path, 9), 0);
	assert_int_equal(len, 9);
	assert_string_equal(s, "{\"a\": 1}\n");
	rw_secret_free(s);
	assert_int_equal(rw_secret_read_file(&s, &len, path, 8), RW_ERROR);
	rw_error_clear();
	free(path);
}

static void wiping_zeroes_and_takes_null(void **state)
{
	char buf[] = "hunter2";
	json_t *doc = json_pack("{s:s, s:[s, {s:s}], s:i}", "password", "hunter2", "list", "a",
		"token", "t0k3n", "n", 3);

	(void)state;
	rw_secret_wipe(buf, sizeof(buf) - 1);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
	rw_secret_wipe(NULL, 3);
	rw_secret_free(NULL);
	rw_secret_json_free(NULL);
	/* strings nested anywhere are zeroed; a second reference keeps the document to look at */
	json_incref(doc);
	rw_secret_json_free(doc);
	assert_memory_equal(json_string_value(json_object_get(doc, "password")), "\0\0\0\0\0\0\0", 7);
	assert_memory_equal(json_string_value(json_object_get(json_array_get(json_object_get(doc, "list"), 1), "token")),
		"\0\0\0\0\0", 5);
	assert_int_equal(json_integer_value(json_object_get(doc, "n")), 3);
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(trailing_newlines_are_not_the_secrets),
		cmocka_unit_test(empty_binary_and_missing_files_are_refused),
		cmocka_unit_test(size_is_capped),
		cmocka_unit_test(whole_files_keep_their_bytes),
		cmocka_unit_test(wiping_zeroes_and_takes_null),
	};
	return cmocka_run_group_tests(tests, unit_dir_setup, unit_dir_teardown);
}
