/* config/credentials.c: docker login's credentials (config.json "auths"), for the registry and Swarm. */
#include <stdlib.h>
#include "unit.h"
#include "tmpdir.h"
#include "rewind/config.h"

/* $DOCKER_CONFIG is the scratch directory */
static int setup(void **state)
{
	if (unit_dir_setup(state) < 0)
		return -1;
	return setenv("DOCKER_CONFIG", unit_dir, 1);
}

static int teardown(void **state)
{
	unsetenv("DOCKER_CONFIG");
	return unit_dir_teardown(state);
}

static void config_json(const char *text)
{
	free(unit_file("config.json", text, strlen(text)));
}

static void keys_name_whole_hosts(void **state)
{
	(void)state;
	assert_true(rw_docker_auth_key_matches("registry.example.com", "registry.example.com"));
	assert_true(rw_docker_auth_key_matches("Registry.Example.com", "registry.example.COM"));
	assert_true(rw_docker_auth_key_matches("https://registry.example.com:5000/v1/", "registry.example.com:5000"));
	assert_true(rw_docker_auth_key_matches("http://127.0.0.1:5000", "127.0.0.1:5000"));
	assert_true(rw_docker_auth_key_matches("127.0.0.1:5000/v2/", "127.0.0.1:5000"));
	assert_false(rw_docker_auth_key_matches("127.0.0.1:5000", "127.0.0.1"));
	assert_false(rw_docker_auth_key_matches("127.0.0.1", "127.0.0.1:5000"));
	assert_false(rw_docker_auth_key_matches("registry.example.com.evil.net", "registry.example.com"));
	assert_false(rw_docker_auth_key_matches("example.com", "registry.example.com"));
}

static void docker_hub_has_three_names_and_no_prefixes(void **state)
{
	static const char *const hub[] = { "docker.io", "index.docker.io", "registry-1.docker.io" };
	/* prefixes of Docker Hub's names: a prefix match sent their credentials to Docker Hub */
	static const char *const not_hub[] = { "registry", "index", "", "index.docker", "docker", "https://index",
		"registry-1", "index.docker.io.evil.net", "https://" };

	(void)state;
	for (size_t i = 0; i < sizeof(hub) / sizeof(hub[0]); i++) {
		assert_true(rw_docker_auth_key_matches("https://index.docker.io/v1/", hub[i]));
		assert_true(rw_docker_auth_key_matches("index.docker.io", hub[i]));
		assert_true(rw_docker_auth_key_matches("registry-1.docker.io", hub[i]));
		assert_true(rw_docker_auth_key_matches("docker.io", hub[i]));
		for (size_t j = 0; j < sizeof(not_hub) / sizeof(not_hub[0]); j++)
			if (rw_docker_auth_key_matches(not_hub[j], hub[i]))
				fail_msg("the auths key '%s' names %s", not_hub[j], hub[i]);
	}
	assert_false(rw_docker_auth_key_matches("", ""));
}

static void entries_are_looked_up_exactly(void **state)
{
	rw_docker_auth a;

	(void)state;
	/* base64 of "x:y", "ci:s3cret" */
	config_json("{\"auths\": {\"registry\": {\"auth\": \"eDp5\"}, \"index\": {\"auth\": \"eDp5\"}, \"\": {\"auth\": \"eDp5\"},"
		" \"registry.example.com:5000\": {\"auth\": \"Y2k6czNjcmV0\"},"
		" \"https://index.docker.io/v1/\": {\"username\": \"hubuser\", \"password\": \"hubpw\"}}}");
	assert_int_equal(rw_docker_config_auth(&a, "registry.example.com:5000"), 0);
	assert_string_equal(a.server, "registry.example.com:5000");
	assert_string_equal(a.username, "ci");
	assert_string_equal(a.password, "s3cret");
	assert_null(a.identity_token);
	rw_docker_auth_dispose(&a);
	assert_int_equal(rw_docker_config_auth(&a, "docker.io"), 0);
	assert_string_equal(a.server, "https://index.docker.io/v1/");
	assert_string_equal(a.username, "hubuser");
	assert_string_equal(a.password, "hubpw");
	rw_docker_auth_dispose(&a);
	assert_int_equal(rw_docker_config_auth(&a, "registry.example.com"), RW_ENOTFOUND);
	assert_null(a.username);
	rw_docker_auth_dispose(&a);
}

static void prefixes_of_docker_hub_are_not_docker_hub(void **state)
{
	rw_docker_auth a;

	(void)state;
	config_json("{\"auths\": {\"registry\": {\"auth\": \"eDp5\"}, \"index\": {\"auth\": \"eDp5\"}, \"\": {\"auth\": \"eDp5\"}}}");
	assert_int_equal(rw_docker_config_auth(&a, "docker.io"), RW_ENOTFOUND);
	rw_docker_auth_dispose(&a);
}

static void identity_tokens_and_unusable_entries(void **state)
{
	rw_docker_auth a;

	(void)state;
	/* an unreadable "auth" is skipped for the next entry naming the host */
	config_json("{\"auths\": {\"https://r.example.com\": {\"auth\": \"!!!\"},"
		" \"r.example.com\": {\"auth\": \"dG9rZW46\", \"identitytoken\": \"refresh-123\"},"
		" \"s.example.com\": {\"auth\": \"bm8tY29sb24=\"}, \"t.example.com\": {}}}");
	assert_int_equal(rw_docker_config_auth(&a, "r.example.com"), 0);
	assert_string_equal(a.server, "r.example.com");
	assert_string_equal(a.identity_token, "refresh-123");
	assert_string_equal(a.username, "token");
	assert_string_equal(a.password, "");
	rw_docker_auth_dispose(&a);
	/* "no-colon" is no user:password */
	assert_int_equal(rw_docker_config_auth(&a, "s.example.com"), RW_ENOTFOUND);
	rw_docker_auth_dispose(&a);
	assert_int_equal(rw_docker_config_auth(&a, "t.example.com"), RW_ENOTFOUND);
	rw_docker_auth_dispose(&a);
	assert_null(rw_error_last());
}

static void no_file_or_a_broken_one(void **state)
{
	rw_docker_auth a;

	(void)state;
	config_json("{not json");
	assert_int_equal(rw_docker_config_auth(&a, "docker.io"), RW_ENOTFOUND);
	rw_docker_auth_dispose(&a);
	setenv("DOCKER_CONFIG", "/nonexistent", 1);
	assert_int_equal(rw_docker_config_auth(&a, "docker.io"), RW_ENOTFOUND);
	rw_docker_auth_dispose(&a);
	setenv("DOCKER_CONFIG", unit_dir, 1);
	assert_null(rw_error_last());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keys_name_whole_hosts),
		cmocka_unit_test(docker_hub_has_three_names_and_no_prefixes),
		cmocka_unit_test(entries_are_looked_up_exactly),
		cmocka_unit_test(prefixes_of_docker_hub_are_not_docker_hub),
		cmocka_unit_test(identity_tokens_and_unusable_entries),
		cmocka_unit_test(no_file_or_a_broken_one),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
