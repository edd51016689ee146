/* http/headers.c: Link, WWW-Authenticate, Retry-After, URL helpers. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "unit.h"
#include "rewind/http.h"

static void link_next_relative_is_resolved(void **state)
{
	char *next = NULL;

	(void)state;
	assert_int_equal(rw_http_link_next(&next, "</v2/web/tags/list?last=b&n=2>; rel=\"next\"",
		"http://127.0.0.1:5000/v2/web/tags/list?n=2"), 0);
	assert_string_equal(next, "http://127.0.0.1:5000/v2/web/tags/list?last=b&n=2");
	free(next);
}

static void link_next_among_several(void **state)
{
	char *next = NULL;

	(void)state;
	assert_int_equal(rw_http_link_next(&next,
		"<https://r.example/v2/a/tags/list?n=1>; rel=\"prev\", <https://r.example/v2/a/tags/list?last=x&n=1>; rel=\"next\"",
		"https://r.example/v2/a/tags/list?n=1"), 0);
	assert_string_equal(next, "https://r.example/v2/a/tags/list?last=x&n=1");
	free(next);
	assert_int_equal(rw_http_link_next(&next, "<https://x/y>; title=\"z\"; rel=\"prev first\"", "https://x/"), RW_ENOTFOUND);
	assert_int_equal(rw_http_link_next(&next, "<https://x/y>; rel=next", "https://x/"), 0);
	free(next);
}

static void link_malformed_is_an_error(void **state)
{
	char *next = NULL;

	(void)state;
	assert_int_equal(rw_http_link_next(&next, "https://x/y; rel=\"next\"", "https://x/"), RW_ERROR);
	assert_error_contains("malformed Link header");
	assert_int_equal(rw_http_link_next(&next, "<https://x/y; rel=\"next\"", "https://x/"), RW_ERROR);
	rw_error_clear();
}

static void challenge_bearer(void **state)
{
	rw_http_challenge c;

	(void)state;
	assert_int_equal(rw_http_challenge_parse(&c,
		"Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:samalba/my-app:pull,push\""), 0);
	assert_string_equal(c.scheme, "Bearer");
	assert_string_equal(c.realm, "https://auth.docker.io/token");
	assert_string_equal(c.service, "registry.docker.io");
	assert_string_equal(c.scope, "repository:samalba/my-app:pull,push");
	assert_null(c.error);
	rw_http_challenge_dispose(&c);
}

static void challenge_with_spaces_escapes_and_error(void **state)
{
	rw_http_challenge c;

	(void)state;
	assert_int_equal(rw_http_challenge_parse(&c,
		"Bearer  realm = \"https://a/t\\\"x\" , error=\"insufficient_scope\", service=reg"), 0);
	assert_string_equal(c.realm, "https://a/t\"x");
	assert_string_equal(c.error, "insufficient_scope");
	assert_string_equal(c.service, "reg");
	rw_http_challenge_dispose(&c);
}

static void challenge_basic_then_second_challenge(void **state)
{
	rw_http_challenge c;

	(void)state;
	assert_int_equal(rw_http_challenge_parse(&c, "Basic realm=\"basic-realm\", Bearer realm=\"x\""), 0);
	assert_string_equal(c.scheme, "Basic");
	assert_string_equal(c.realm, "basic-realm");
	rw_http_challenge_dispose(&c);
}

static void challenge_malformed(void **state)
{
	rw_http_challenge c;

	(void)state;
	assert_int_equal(rw_http_challenge_parse(&c, "Bearer realm=\"unterminated"), RW_ERROR);
	assert_error_contains("unterminated quote");
	assert_int_equal(rw_http_challenge_parse(&c, ""), RW_ERROR);
	assert_int_equal(rw_http_challenge_parse(&c, "Bearer =x"), RW_ERROR);
	rw_error_clear();
}

static void retry_after_seconds_and_date(void **state)
{
	long long ms = -1;
	time_t now = 1700000000; /* Tue, 14 Nov 2023 22:13:20 GMT */

	(void)state;
	assert_int_equal(rw_http_retry_after_ms(&ms, "3", now), 0);
	assert_int_equal(ms, 3000);
	assert_int_equal(rw_http_retry_after_ms(&ms, "Tue, 14 Nov 2023 22:13:25 GMT", now), 0);
	assert_int_equal(ms, 5000);
	assert_int_equal(rw_http_retry_after_ms(&ms, "Tue, 14 Nov 2023 22:00:00 GMT", now), 0);
	assert_int_equal(ms, 0);
	/* absurd values are clamped, not overflowed */
	assert_int_equal(rw_http_retry_after_ms(&ms, "99999999999999999999", now), 0);
	assert_int_equal(ms, 86400000);
	assert_int_equal(rw_http_retry_after_ms(&ms, "soon", now), RW_ENOTFOUND);
	assert_int_equal(rw_http_retry_after_ms(&ms, "-4", now), RW_ENOTFOUND);
}

static void url_resolve_forms(void **state)
{
	char *u;

	(void)state;
	u = rw_url_resolve("https://r:5000/v2/a/tags/list?n=1", "/v2/a/tags/list?last=z");
	assert_string_equal(u, "https://r:5000/v2/a/tags/list?last=z");
	free(u);
	u = rw_url_resolve("https://r:5000/v2/a/tags/list?n=1", "list?last=z");
	assert_string_equal(u, "https://r:5000/v2/a/tags/list?last=z");
	free(u);
	u = rw_url_resolve("https://r:5000/v2/a", "//cdn.example/blob");
	assert_string_equal(u, "https://cdn.example/blob");
	free(u);
	u = rw_url_resolve("https://r:5000", "x");
	assert_string_equal(u, "https://r:5000/x");
	free(u);
}

static void url_redact_hides_secrets(void **state)
{
	char *u;

	(void)state;
	u = rw_url_redact("https://bob:hunter2@r.example/token?scope=repository%3Aweb%3Apull&password=hunter2&service=r");
	assert_string_equal(u, "https://REDACTED@r.example/token?scope=repository%3Aweb%3Apull&password=REDACTED&service=r");
	assert_null(strstr(u, "hunter2"));
	free(u);
	u = rw_url_redact("https://s3.example/b/k?X-Amz-Signature=abc&X-Amz-Date=1");
	assert_string_equal(u, "https://s3.example/b/k?X-Amz-Signature=REDACTED&X-Amz-Date=1");
	free(u);
}

static void escape_and_host(void **state)
{
	char *s;

	(void)state;
	s = rw_url_escape("repository:team/web:pull");
	assert_string_equal(s, "repository%3Ateam%2Fweb%3Apull");
	free(s);
	s = rw_url_host("https://user:pw@Registry.Example.com:5000/v2/");
	assert_string_equal(s, "registry.example.com:5000");
	free(s);
	assert_null(rw_url_host("not a url"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(link_next_relative_is_resolved),
		cmocka_unit_test(link_next_among_several),
		cmocka_unit_test(link_malformed_is_an_error),
		cmocka_unit_test(challenge_bearer),
		cmocka_unit_test(challenge_with_spaces_escapes_and_error),
		cmocka_unit_test(challenge_basic_then_second_challenge),
		cmocka_unit_test(challenge_malformed),
		cmocka_unit_test(retry_after_seconds_and_date),
		cmocka_unit_test(url_resolve_forms),
		cmocka_unit_test(url_redact_hides_secrets),
		cmocka_unit_test(escape_and_host),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
