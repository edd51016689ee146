/* util/known_hosts.c: OpenSSH's known_hosts, as the git and Swarm backends check host keys. */
#include <stdlib.h>
#include "unit.h"
#include "tmpdir.h"
#include "rewind/base64.h"
#include "rewind/known_hosts.h"

/* Keys made with ssh-keygen; K1's fingerprint is what `ssh-keygen -l` prints. */
#define K1 "AAAAC3NzaC1lZDI1NTE5AAAAIEJZVXCZWjqnitQ3diSAkKfntle3IRQyuos1bj1zmiTK"
#define K1_FP "SHA256:tbS9ufVsaDOzd/g2CvkbrFmFvsLwVNOWLueyrqh/dZg"
#define K2 "AAAAC3NzaC1lZDI1NTE5AAAAIEGsWIvrGDXtqsBlvEY46I1kvVpeG6yS3ESJDzVtoRlP"
#define K3 "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBN2diY3u6FK73A5kQq0NvjIkBIlLZXXOe/Ypet5KA5YgrfE80FgpkGFrTc0ZSjcI3MkSkr5/Rfy0wqpuIYLmo/8="
/* HMAC-SHA1 of "127.0.0.1" and "[127.0.0.1]:2222" with the salt 00 01 .. 13, as ssh-keygen -H writes them */
#define HASHED_22 "|1|AAECAwQFBgcICQoLDA0ODxAREhM=|WqBc/NeMlF2clj6YqDujXI50fGI="
#define HASHED_2222 "|1|AAECAwQFBgcICQoLDA0ODxAREhM=|zKYaAqmSav3Qxr2sffNqWFIcbe4="

static int files;

/* A new known_hosts file holding text; the caller frees the path. */
static char *file_of(const char *text)
{
	char *name = rw_printf("known_hosts-%d", files++), *path = unit_file(name, text, strlen(text));

	free(name);
	return path;
}

/* The verdict of a file holding text on key (base64) presented by name. */
static rw_known_host check(const char *text, const char *name, const char *key64)
{
	char *path = file_of(text);
	unsigned char *key;
	size_t len;
	rw_known_host h;

	assert_int_equal(rw_base64_decode(&key, &len, key64, strlen(key64)), 0);
	assert_int_equal(rw_known_hosts_check(&h, path, name, key, len), 0);
	free(key);
	free(path);
	return h;
}

static void names_with_and_without_port(void **state)
{
	char *s;

	(void)state;
	s = rw_known_hosts_name("git.example.com", 22);
	assert_string_equal(s, "git.example.com");
	free(s);
	s = rw_known_hosts_name("127.0.0.1", 2222);
	assert_string_equal(s, "[127.0.0.1]:2222");
	free(s);
}

static void patterns(void **state)
{
	(void)state;
	assert_true(rw_known_hosts_field_matches("git.example.com", "git.example.com"));
	assert_true(rw_known_hosts_field_matches("GIT.Example.com", "git.example.COM"));
	assert_false(rw_known_hosts_field_matches("git.example.com", "git.example.co"));
	assert_false(rw_known_hosts_field_matches("git.example.co", "git.example.com"));
	assert_true(rw_known_hosts_field_matches("other,git.example.com,third", "git.example.com"));
	assert_true(rw_known_hosts_field_matches("*.example.com", "git.example.com"));
	assert_false(rw_known_hosts_field_matches("*.example.com", "example.com"));
	assert_true(rw_known_hosts_field_matches("git?.example.com", "git1.example.com"));
	assert_false(rw_known_hosts_field_matches("git?.example.com", "git.example.com"));
	assert_true(rw_known_hosts_field_matches("*", "anything"));
	assert_true(rw_known_hosts_field_matches("a*b*c", "aXXbYYbZc"));
	assert_false(rw_known_hosts_field_matches("a*b*c", "aXXbYYbZ"));
	/* a port other than 22 is part of the name; the brackets are literal, not a character class */
	assert_true(rw_known_hosts_field_matches("[127.0.0.1]:2222", "[127.0.0.1]:2222"));
	assert_false(rw_known_hosts_field_matches("[127.0.0.1]:2222", "127.0.0.1"));
	assert_false(rw_known_hosts_field_matches("127.0.0.1", "[127.0.0.1]:2222"));
	assert_true(rw_known_hosts_field_matches("[127.0.0.1]:*", "[127.0.0.1]:2222"));
	/* a negation vetoes the line, wherever it stands */
	assert_false(rw_known_hosts_field_matches("*.example.com,!evil.example.com", "evil.example.com"));
	assert_false(rw_known_hosts_field_matches("!evil.example.com,*.example.com", "evil.example.com"));
	assert_true(rw_known_hosts_field_matches("*.example.com,!evil.example.com", "git.example.com"));
	assert_false(rw_known_hosts_field_matches("!evil.example.com", "git.example.com"));
	assert_false(rw_known_hosts_field_matches("", "git.example.com"));
	assert_false(rw_known_hosts_field_matches(",,", "git.example.com"));
}

static void hashed_names(void **state)
{
	(void)state;
	assert_true(rw_known_hosts_field_matches(HASHED_22, "127.0.0.1"));
	assert_false(rw_known_hosts_field_matches(HASHED_22, "127.0.0.2"));
	assert_true(rw_known_hosts_field_matches(HASHED_2222, "[127.0.0.1]:2222"));
	assert_false(rw_known_hosts_field_matches(HASHED_2222, "127.0.0.1"));
	/* broken hashes name nobody, and leave no error behind */
	assert_false(rw_known_hosts_field_matches("|1|not base64!|WqBc/NeMlF2clj6YqDujXI50fGI=", "127.0.0.1"));
	assert_false(rw_known_hosts_field_matches("|1|AAECAwQFBgcICQoLDA0ODxAREhM=", "127.0.0.1"));
	assert_null(rw_error_last());
}

static void match_mismatch_and_unknown(void **state)
{
	rw_known_host h;

	(void)state;
	h = check("# a comment\n\nother.example.com ssh-ed25519 " K2 "\n[127.0.0.1]:2222 ssh-ed25519 " K1 " me@laptop\n",
		"[127.0.0.1]:2222", K1);
	assert_int_equal(h.verdict, RW_KNOWN_HOST_MATCH);
	assert_int_equal(h.line, 4);
	assert_false(h.missing);
	assert_string_equal(h.type, "ssh-ed25519");
	assert_string_equal(h.fingerprint, K1_FP);
	rw_known_host_dispose(&h);

	/* another key of the same type: the host changed, or someone is in the middle */
	h = check("127.0.0.1 ssh-ed25519 " K2 "\n", "127.0.0.1", K1);
	assert_int_equal(h.verdict, RW_KNOWN_HOST_MISMATCH);
	assert_int_equal(h.line, 1);
	rw_known_host_dispose(&h);

	/* a match anywhere wins over another key elsewhere (ssh keeps several) */
	h = check("127.0.0.1 ssh-ed25519 " K2 "\n127.0.0.1 ssh-ed25519 " K1 "\n", "127.0.0.1", K1);
	assert_int_equal(h.verdict, RW_KNOWN_HOST_MATCH);
	assert_int_equal(h.line, 2);
	rw_known_host_dispose(&h);

	/* only a key of another type: not known, but said */
	h = check("127.0.0.1 ecdsa-sha2-nistp256 " K3 "\n", "127.0.0.1", K1);
	assert_int_equal(h.verdict, RW_KNOWN_HOST_UNKNOWN);
	assert_int_equal(h.line, 0);
	assert_int_equal(h.types.count, 1);
	assert_string_equal(h.types.items[0], "ecdsa-sha2-nistp256");
	rw_known_host_dispose(&h);

	/* the key of another host, and another port of this one, say nothing */
	h = check("127.0.0.2 ssh-ed25519 " K1 "\n[127.0.0.1]:2222 ssh-ed25519 " K1 "\n", "127.0.0.1", K1);
	assert_int_equal(h.verdict, RW_KNOWN_HOST_UNKNOWN);
	assert_int_equal(h.types.count, 0);
	rw_known_host_dispose(&h);
}

static void hashed_crlf_and_odd_lines(void **state)
{
	rw_known_host h;

	(void)state;
	h = check("@cert-authority * ssh-ed25519 " K1 "\r\n"
		"127.0.0.1 ssh-ed25519 not-base64!\r\n"
		"127.0.0.1 ssh-ed25519\r\n"
		"@future-marker 127.0.0.1 ssh-ed25519 " K1 "\r\n"
		HASHED_2222 " ssh-ed25519 " K1 "\r\n", "[127.0.0.1]:2222", K1);
	assert_int_equal(h.verdict, RW_KNOWN_HOST_MATCH);
	assert_int_equal(h.line, 5);
	rw_known_host_dispose(&h);

	/* a certificate authority vouches for no key here */
	h = check("@cert-authority * ssh-ed25519 " K1 "\n", "127.0.0.1", K1);
	assert_int_equal(h.verdict, RW_KNOWN_HOST_UNKNOWN);
	rw_known_host_dispose(&h);
	assert_null(rw_error_last());
}

static void revoked_wins(void **state)
{
	rw_known_host h;

	(void)state;
	h = check("127.0.0.1 ssh-ed25519 " K1 "\n@revoked * ssh-ed25519 " K1 "\n", "127.0.0.1", K1);
	assert_int_equal(h.verdict, RW_KNOWN_HOST_REVOKED);
	assert_int_equal(h.line, 2);
	rw_known_host_dispose(&h);

	/* another key revoked is no verdict on this one, and no known type either */
	h = check("@revoked 127.0.0.1 ssh-ed25519 " K2 "\n", "127.0.0.1", K1);
	assert_int_equal(h.verdict, RW_KNOWN_HOST_UNKNOWN);
	assert_int_equal(h.types.count, 0);
	rw_known_host_dispose(&h);
}

static void missing_and_unreadable_files(void **state)
{
	unsigned char *key;
	size_t len;
	rw_known_host h;

	(void)state;
	assert_int_equal(rw_base64_decode(&key, &len, K1, strlen(K1)), 0);
	assert_int_equal(rw_known_hosts_check(&h, "/nonexistent/known_hosts", "127.0.0.1", key, len), 0);
	assert_true(h.missing);
	assert_int_equal(h.verdict, RW_KNOWN_HOST_UNKNOWN);
	assert_null(rw_error_last());
	rw_known_host_dispose(&h);
	/* a directory is not a file that lists nothing: an error */
	assert_int_equal(rw_known_hosts_check(&h, unit_dir, "127.0.0.1", key, len), RW_ERROR);
	assert_error_contains("known_hosts");
	rw_known_host_dispose(&h);
	rw_error_clear();
	free(key);
}

static void types_in_file_order(void **state)
{
	char *path = file_of("127.0.0.1 ecdsa-sha2-nistp256 " K3 "\n*.example.com ssh-rsa AAAA\n"
		"127.0.0.1 ssh-ed25519 " K1 "\n127.0.0.1 ssh-ed25519 " K2 "\n@revoked 127.0.0.1 ssh-rsa " K1 "\n");
	rw_strlist types = RW_STRLIST_INIT;

	(void)state;
	assert_int_equal(rw_known_hosts_types(&types, path, "127.0.0.1"), 0);
	assert_int_equal(types.count, 2);
	assert_string_equal(types.items[0], "ecdsa-sha2-nistp256");
	assert_string_equal(types.items[1], "ssh-ed25519");
	rw_strlist_dispose(&types);
	free(path);
}

static void key_types_from_blobs(void **state)
{
	static const unsigned char odd[] = { 0, 0, 0, 3, 'a', '\n', 'b' };
	static const unsigned char short_blob[] = { 0, 0, 0, 9, 's', 's', 'h' };
	unsigned char *key;
	size_t len;
	char *t;

	(void)state;
	assert_int_equal(rw_base64_decode(&key, &len, K3, strlen(K3)), 0);
	t = rw_known_hosts_key_type(key, len);
	assert_string_equal(t, "ecdsa-sha2-nistp256");
	free(t);
	free(key);
	t = rw_known_hosts_key_type(odd, sizeof(odd));
	assert_string_equal(t, "unknown");
	free(t);
	t = rw_known_hosts_key_type(short_blob, sizeof(short_blob));
	assert_string_equal(t, "unknown");
	free(t);
	t = rw_known_hosts_key_type(odd, 2);
	assert_string_equal(t, "unknown");
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_with_and_without_port),
		cmocka_unit_test(patterns),
		cmocka_unit_test(hashed_names),
		cmocka_unit_test(match_mismatch_and_unknown),
		cmocka_unit_test(hashed_crlf_and_odd_lines),
		cmocka_unit_test(revoked_wins),
		cmocka_unit_test(missing_and_unreadable_files),
		cmocka_unit_test(types_in_file_order),
		cmocka_unit_test(key_types_from_blobs),
	};
	return cmocka_run_group_tests(tests, unit_dir_setup, unit_dir_teardown);
}
