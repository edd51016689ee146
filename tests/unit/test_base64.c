/* util/base64.c: the one base64 of rewind (Basic auth, docker's "auth", known_hosts keys). */
#include <stdlib.h>
#include "unit.h"
#include "rewind/base64.h"

/* RFC 4648 section 10 */
static const char *const vectors[][2] = {
	{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
};

static void encodes_the_rfc_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		char *s = rw_base64(vectors[i][0], strlen(vectors[i][0]));

		assert_string_equal(s, vectors[i][1]);
		free(s);
	}
	{
		char *s = rw_base64("ci:s3cret", 9);

		assert_string_equal(s, "Y2k6czNjcmV0");
		free(s);
	}
}

static void decodes_the_rfc_vectors_with_and_without_padding(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const char *b64 = vectors[i][1];
		size_t n = strlen(b64), len = 99;
		unsigned char *raw = NULL;

		assert_int_equal(rw_base64_decode(&raw, &len, b64, n), 0);
		assert_int_equal(len, strlen(vectors[i][0]));
		assert_memory_equal(raw, vectors[i][0], len);
		assert_int_equal(raw[len], '\0'); /* NUL-terminated for text */
		free(raw);
		/* docker and JOSE write it without the padding */
		while (n && b64[n - 1] == '=')
			n--;
		assert_int_equal(rw_base64_decode(&raw, &len, b64, n), 0);
		assert_int_equal(len, strlen(vectors[i][0]));
		free(raw);
	}
}

static void binary_round_trip(void **state)
{
	unsigned char data[256], *back = NULL;
	size_t len = 0;
	char *s;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(255 - i);
	s = rw_base64(data, sizeof(data));
	assert_int_equal(strlen(s), 4 * ((sizeof(data) + 2) / 3));
	assert_int_equal(rw_base64_decode(&back, &len, s, strlen(s)), 0);
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(back, data, sizeof(data));
	free(back);
	free(s);
}

static void refuses_what_is_not_base64(void **state)
{
	static const char *const bad[] = {
		"Zm9v!", "Zm 9v", "Z", "Zm9vY", "Zm9v=", "Zg===", "Z=g=", "Zm9-", "Zm9_", "\xc3\xa9Zm9",
	};
	unsigned char *raw = NULL;
	size_t len = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (rw_base64_decode(&raw, &len, bad[i], strlen(bad[i])) == 0)
			fail_msg("'%s' was decoded", bad[i]);
		assert_int_equal(rw_error_last()->klass, RW_ERR_PROTOCOL);
		assert_error_contains("not base64");
		rw_error_clear();
	}
	/* n bounds the input: what follows is not read */
	assert_int_equal(rw_base64_decode(&raw, &len, "Zm9v|garbage", 4), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(raw, "foo", 3);
	free(raw);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(encodes_the_rfc_vectors),
		cmocka_unit_test(decodes_the_rfc_vectors_with_and_without_padding),
		cmocka_unit_test(binary_round_trip),
		cmocka_unit_test(refuses_what_is_not_base64),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
