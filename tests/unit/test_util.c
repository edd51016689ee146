/* util: buffers, string lists, version order, digests, the error facility. */
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include "unit.h"
#include "rewind/util.h"

static void buf_grows_and_formats(void **state)
{
	rw_buf b = RW_BUF_INIT;
	char *s;

	(void)state;
	for (int i = 0; i < 1000; i++)
		rw_buf_printf(&b, "%d,", i);
	assert_true(rw_str_startswith(b.ptr, "0,1,2,"));
	assert_true(rw_str_endswith(b.ptr, "998,999,"));
	s = rw_buf_detach(&b);
	assert_null(b.ptr);
	free(s);
}

static void strlist_splits_commas_and_spaces(void **state)
{
	rw_strlist l = RW_STRLIST_INIT;

	(void)state;
	rw_strlist_split(&l, " web, api ,,team/worker\tfront ");
	assert_int_equal(l.count, 4);
	assert_string_equal(l.items[0], "web");
	assert_string_equal(l.items[2], "team/worker");
	assert_string_equal(l.items[3], "front");
	assert_true(rw_strlist_contains(&l, "api"));
	assert_false(rw_strlist_contains(&l, "ap"));
	rw_strlist_dispose(&l);
}

static void vercmp_orders_numbers_as_numbers(void **state)
{
	(void)state;
	assert_true(rw_str_vercmp("1.10.0-master", "1.9.0-master") > 0);
	assert_true(rw_str_vercmp("1.2.0", "1.2.0") == 0);
	assert_true(rw_str_vercmp("2.0.0-master", "10.0.0-master") < 0);
}

static void sha256_digest_of_known_input(void **state)
{
	char d[RW_DIGEST_MAX];

	(void)state;
	rw_sha256_digest(d, "abc", 3);
	assert_string_equal(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void error_prefix_and_exit_codes(void **state)
{
	(void)state;
	assert_int_equal(rw_error_set(RW_ERR_AUTH, "denied (HTTP %d)", 401), RW_ERROR);
	rw_error_prefix("repository '%s'", "web");
	assert_string_equal(rw_error_last()->message, "repository 'web': denied (HTTP 401)");
	assert_int_equal(rw_error_exit_code(rw_error_last()->klass), RW_EXIT_AUTH);
	rw_error_clear();
	assert_null(rw_error_last());
	assert_int_equal(rw_error_exit_code(RW_ERR_USAGE), 2);
	assert_int_equal(rw_error_exit_code(RW_ERR_CONFIG), 3);
	assert_int_equal(rw_error_exit_code(RW_ERR_NET), 4);
	assert_int_equal(rw_error_exit_code(RW_ERR_DATE), 6);
}

static void file_read_refuses_past_limit(void **state)
{
	char path[] = "/tmp/rewind-unit-XXXXXX";
	char *data;
	size_t len;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(rw_file_write_atomic(path, "0123456789", 10), 0);
	assert_int_equal(rw_file_read(&data, &len, path, 100), 0);
	assert_int_equal(len, 10);
	assert_string_equal(data, "0123456789");
	free(data);
	assert_int_equal(rw_file_read(&data, &len, path, 5), RW_ERROR);
	assert_error_contains("larger than 5 bytes");
	rw_error_clear();
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(buf_grows_and_formats),
		cmocka_unit_test(strlist_splits_commas_and_spaces),
		cmocka_unit_test(vercmp_orders_numbers_as_numbers),
		cmocka_unit_test(sha256_digest_of_known_input),
		cmocka_unit_test(error_prefix_and_exit_codes),
		cmocka_unit_test(file_read_refuses_past_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
