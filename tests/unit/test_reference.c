/* reference: parsing, validation and formatting of image references. */
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "rewind/reference.h"
#include "rewind/util.h"

#define SHA256 "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define SHA512 "sha512:ee26b0dd4af7e749aa1a8ee3c10ae9923f618980772e473f8819a5d4940e0db2" \
	"7ac185f8a0e1d5f84f88bc887fd67b143732c304cc5fa9ad8e6f57f50028a8ff"

static int setup(void **state)
{
	(void)state;
	rw_error_clear();
	return 0;
}

static void assert_parts(const char *input, const char *domain, const char *path,
	const char *tag, const char *digest)
{
	rw_reference ref;

	if (rw_reference_parse(&ref, input) != 0)
		fail_msg("'%s' did not parse: %s", input, rw_error_last()->message);
	if (domain)
		assert_string_equal(ref.domain, domain);
	else
		assert_null(ref.domain);
	assert_string_equal(ref.path, path);
	if (tag)
		assert_string_equal(ref.tag, tag);
	else
		assert_null(ref.tag);
	if (digest)
		assert_string_equal(ref.digest, digest);
	else
		assert_null(ref.digest);
	rw_reference_dispose(&ref);
}

/* Asserts input is refused with exactly this reason. */
static void assert_refused(const char *input, const char *reason)
{
	rw_reference ref;
	char *want = rw_printf("invalid image reference '%s': %s", input, reason);

	assert_int_equal(rw_reference_parse(&ref, input), RW_ERROR);
	assert_null(ref.domain);
	assert_null(ref.path);
	assert_null(ref.tag);
	assert_null(ref.digest);
	assert_non_null(rw_error_last());
	assert_int_equal(rw_error_last()->klass, RW_ERR_USAGE);
	assert_string_equal(rw_error_last()->message, want);
	free(want);
	rw_error_clear();
}

static void registry_with_port_and_tag(void **state)
{
	(void)state;
	assert_parts("127.0.0.1:5000/team/web:1.4.2-master", "127.0.0.1:5000", "team/web",
		"1.4.2-master", NULL);
	assert_parts("registry.example.com/team/sub/web:v2", "registry.example.com",
		"team/sub/web", "v2", NULL);
	assert_parts("my-registry:5000/web", "my-registry:5000", "web", NULL, NULL);
}

static void ipv6_registry_in_brackets(void **state)
{
	(void)state;
	assert_parts("[::1]:5000/web", "[::1]:5000", "web", NULL, NULL);
	assert_parts("[2001:db8::1]/team/web:latest", "[2001:db8::1]", "team/web", "latest", NULL);
	assert_refused("[::1:5000/web", "invalid registry '[::1:5000'");
	assert_refused("[]:5000/web", "invalid registry '[]:5000'");
	assert_refused("[::g]/web", "invalid registry '[::g]'");
}

static void localhost_is_a_registry(void **state)
{
	(void)state;
	assert_parts("localhost/web", "localhost", "web", NULL, NULL);
	assert_parts("localhost:5000/team/web:1.0", "localhost:5000", "team/web", "1.0", NULL);
	/* Without a '/', "localhost" is a repository and "5000" its tag, as for docker. */
	assert_parts("localhost:5000", NULL, "localhost", "5000", NULL);
	/* Only a first component with '.' or ':' or "localhost" is a registry. */
	assert_parts("team/web", NULL, "team/web", NULL, NULL);
	assert_parts("localhostx/web", NULL, "localhostx/web", NULL, NULL);
}

static void name_only_and_docker_hub_names(void **state)
{
	(void)state;
	assert_parts("web", NULL, "web", NULL, NULL);
	assert_parts("docker.io/library/alpine:3.19", "docker.io", "library/alpine", "3.19", NULL);
	/* Registries are host names: case does not matter to DNS, docker accepts it. */
	assert_parts("Registry.Example.COM/web", "Registry.Example.COM", "web", NULL, NULL);
}

static void tag_and_digest_together(void **state)
{
	(void)state;
	assert_parts("registry.example.com/team/web:1.0@" SHA256, "registry.example.com",
		"team/web", "1.0", SHA256);
	assert_parts("web@" SHA256, NULL, "web", NULL, SHA256);
	assert_parts("localhost:5000/web@" SHA512, "localhost:5000", "web", NULL, SHA512);
}

static void uppercase_repository_refused(void **state)
{
	(void)state;
	assert_refused("Web:1.0", "repository names must be lowercase");
	assert_refused("team/webApp", "repository names must be lowercase");
	assert_refused("registry.example.com/Team/web", "repository names must be lowercase");
	/* Upper-case tags are fine. */
	assert_parts("web:Release-1.0_RC", NULL, "web", "Release-1.0_RC", NULL);
}

static void separators_follow_the_grammar(void **state)
{
	(void)state;
	assert_parts("team/a.b/c_d/e__f/g-h/i---j", NULL, "team/a.b/c_d/e__f/g-h/i---j", NULL, NULL);
	/* A first component with a dot names a registry, even if it could be a path. */
	assert_parts("a.b/web", "a.b", "web", NULL, NULL);
	assert_refused("a___b", "invalid path component 'a___b' (lower-case letters and digits, "
		"separated by '.', '_', '__' or dashes)");
	assert_refused("team/a..b", "invalid path component 'a..b' (lower-case letters and digits, "
		"separated by '.', '_', '__' or dashes)");
	assert_refused("team/a.-b", "invalid path component 'a.-b' (lower-case letters and digits, "
		"separated by '.', '_', '__' or dashes)");
	assert_refused("-web", "invalid path component '-web' (lower-case letters and digits, "
		"separated by '.', '_', '__' or dashes)");
	assert_refused("team/web-:1", "invalid path component 'web-' (lower-case letters and digits, "
		"separated by '.', '_', '__' or dashes)");
	assert_refused("we b", "invalid path component 'we b' (lower-case letters and digits, "
		"separated by '.', '_', '__' or dashes)");
}

static void empty_components_refused(void **state)
{
	(void)state;
	assert_refused("", "empty reference");
	assert_refused("team//web", "empty path component");
	assert_refused("/web", "empty path component");
	assert_refused("team/web/", "empty path component");
	assert_refused("registry.example.com/", "no repository name");
	assert_refused(":1.0", "no repository name");
	assert_refused("@" SHA256, "no repository name");
}

static void trailing_separators_refused(void **state)
{
	(void)state;
	assert_refused("web:", "empty tag");
	assert_refused("web@", "empty digest");
	assert_refused("web:@" SHA256, "empty tag");
	assert_refused("127.0.0.1:5000/web:", "empty tag");
	assert_refused("example.com:/web", "invalid registry 'example.com:'");
	assert_refused("example.com:50a0/web", "invalid registry 'example.com:50a0'");
	assert_refused("-example.com/web", "invalid registry '-example.com'");
	assert_refused("exa_mple.com/web", "invalid registry 'exa_mple.com'");
}

static void tags_checked(void **state)
{
	char tag[140], *input;

	(void)state;
	memset(tag, 'x', 128);
	tag[128] = '\0';
	input = rw_printf("web:%s", tag);
	assert_parts(input, NULL, "web", tag, NULL);
	free(input);
	strcat(tag, "y");
	input = rw_printf("web:%s", tag);
	assert_refused(input, "tag is longer than 128 characters");
	free(input);
	assert_refused("web:.hidden", "invalid tag '.hidden' (letters, digits, '_', '.' and '-', "
		"not starting with '.' or '-')");
	assert_refused("web:1.0:2", "invalid tag '1.0:2' (letters, digits, '_', '.' and '-', "
		"not starting with '.' or '-')");
	assert_parts("web:_underscore", NULL, "web", "_underscore", NULL);
}

static void digests_checked(void **state)
{
	(void)state;
	assert_refused("web@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0",
		"invalid digest 'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0': "
		"a sha256 digest has 64 lower-case hex digits");
	assert_refused("web@sha512:ee26", "invalid digest 'sha512:ee26': "
		"a sha512 digest has 128 lower-case hex digits");
	assert_refused("web@md5:d41d8cd98f00b204e9800998ecf8427e", "invalid digest "
		"'md5:d41d8cd98f00b204e9800998ecf8427e': unsupported digest algorithm "
		"(sha256 or sha512 expected)");
	assert_refused("web@9f86d081", "invalid digest '9f86d081': expected algorithm:hex");
	assert_refused("web@" SHA256 "@" SHA256, "invalid digest '" SHA256 "@" SHA256
		"': a sha256 digest has 64 lower-case hex digits");
}

static void long_names_refused(void **state)
{
	char path[300], *input;

	(void)state;
	memset(path, 'a', 255);
	path[255] = '\0';
	assert_parts(path, NULL, path, NULL, NULL);
	assert_true(rw_repository_name_valid(path));
	strcat(path, "a");
	assert_false(rw_repository_name_valid(path));
	assert_refused(path, "name is longer than 255 characters");
	/* The limit counts the registry too. */
	path[250] = '\0';
	input = rw_printf("example.com/%s:1.0", path);
	assert_refused(input, "name is longer than 255 characters");
	free(input);
}

static void validators(void **state)
{
	(void)state;
	assert_true(rw_repository_name_valid("team/web"));
	assert_true(rw_repository_name_valid("a0"));
	assert_false(rw_repository_name_valid("team/Web"));
	assert_false(rw_repository_name_valid("team/"));
	assert_false(rw_repository_name_valid(""));
	assert_false(rw_repository_name_valid("example.com:5000/web"));
	assert_false(rw_repository_name_valid(NULL));

	assert_true(rw_tag_valid("1.4.2-master"));
	assert_true(rw_tag_valid("A"));
	assert_false(rw_tag_valid(""));
	assert_false(rw_tag_valid("-rc"));
	assert_false(rw_tag_valid("a/b"));
	assert_false(rw_tag_valid(NULL));

	assert_true(rw_digest_valid(SHA256));
	assert_true(rw_digest_valid(SHA512));
	assert_false(rw_digest_valid("sha256:9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"));
	assert_false(rw_digest_valid(SHA256 "0"));
	assert_false(rw_digest_valid("sha512:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"));
	assert_false(rw_digest_valid("sha384:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"));
	assert_false(rw_digest_valid("sha256:"));
	assert_false(rw_digest_valid(":9f86"));
	assert_false(rw_digest_valid(NULL));
}

static void format_round_trips(void **state)
{
	static const char *const inputs[] = {
		"web",
		"team/web:1.0",
		"127.0.0.1:5000/team/web:1.4.2-master",
		"[::1]:5000/web",
		"localhost/web@" SHA256,
		"registry.example.com/team/web:1.0@" SHA256,
	};

	(void)state;
	for (size_t i = 0; i < RW_ARRAY_SIZE(inputs); i++) {
		rw_reference ref;
		char *s;

		assert_int_equal(rw_reference_parse(&ref, inputs[i]), 0);
		s = rw_reference_format(&ref);
		assert_string_equal(s, inputs[i]);
		free(s);
		rw_reference_dispose(&ref);
	}
}

static void format_of_built_reference(void **state)
{
	rw_reference ref = { NULL, "team/web", NULL, SHA256 };
	char *s = rw_reference_format(&ref);

	(void)state;
	assert_string_equal(s, "team/web@" SHA256);
	free(s);
	ref.domain = "localhost:5000";
	ref.tag = "2.0";
	s = rw_reference_format(&ref);
	assert_string_equal(s, "localhost:5000/team/web:2.0@" SHA256);
	free(s);
}

static void dispose_clears(void **state)
{
	rw_reference ref;

	(void)state;
	assert_int_equal(rw_reference_parse(&ref, "localhost/web:1@" SHA256), 0);
	rw_reference_dispose(&ref);
	assert_null(ref.domain);
	assert_null(ref.path);
	assert_null(ref.tag);
	assert_null(ref.digest);
	rw_reference_dispose(&ref);
	rw_reference_dispose(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(registry_with_port_and_tag, setup),
		cmocka_unit_test_setup(ipv6_registry_in_brackets, setup),
		cmocka_unit_test_setup(localhost_is_a_registry, setup),
		cmocka_unit_test_setup(name_only_and_docker_hub_names, setup),
		cmocka_unit_test_setup(tag_and_digest_together, setup),
		cmocka_unit_test_setup(uppercase_repository_refused, setup),
		cmocka_unit_test_setup(separators_follow_the_grammar, setup),
		cmocka_unit_test_setup(empty_components_refused, setup),
		cmocka_unit_test_setup(trailing_separators_refused, setup),
		cmocka_unit_test_setup(tags_checked, setup),
		cmocka_unit_test_setup(digests_checked, setup),
		cmocka_unit_test_setup(long_names_refused, setup),
		cmocka_unit_test_setup(validators, setup),
		cmocka_unit_test_setup(format_round_trips, setup),
		cmocka_unit_test_setup(format_of_built_reference, setup),
		cmocka_unit_test_setup(dispose_clears, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
