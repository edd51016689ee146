/*
 * Image references, following the grammar of distribution's reference
 * package:
 *
 *   reference := name [":" tag] ["@" digest]
 *   name      := [domain "/"] path          (at most 255 characters)
 *   domain    := host [":" port]
 *   host      := domain-name | "[" ipv6 "]"
 *   path      := component ("/" component)*
 *   component := [a-z0-9]+ ((["._"] | "__" | "-"+) [a-z0-9]+)*
 *   tag       := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 *
 * Unlike distribution, digests are limited to the two algorithms a registry
 * serves, so that a reference names a manifest rewind can verify.
 */
#include "rewind/reference.h"
#include "rewind/errors.h"
#include "rewind/util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 255
#define TAG_MAX_LEN 128

/* The C library's ctype depends on the locale; the grammar is ASCII. */
static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || is_digit(c);
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_tag_char(char c)
{
	return is_alnum(c) || c == '_' || c == '.' || c == '-';
}

/* Past one separator at s ("." "_" "__" or dashes), or s when none is there. */
static const char *skip_separator(const char *s, const char *end)
{
	if (*s == '.')
		return s + 1;
	if (*s == '_')
		return (s + 1 < end && s[1] == '_') ? s + 2 : s + 1;
	while (s < end && *s == '-')
		s++;
	return s;
}

static bool component_valid(const char *s, size_t n)
{
	const char *end = s + n;

	for (;;) {
		const char *run = s;

		while (s < end && is_lower_alnum(*s))
			s++;
		if (s == run)
			return false; /* empty, or a separator not between alphanumerics */
		if (s == end)
			return true;
		s = skip_separator(s, end);
	}
}

/* Docker says "must be lowercase" when lowering the case would make it valid. */
static bool component_valid_lowered(const char *s, size_t n)
{
	char *low = rw_strndup(s, n);
	bool ok;

	for (size_t i = 0; i < n; i++)
		if (low[i] >= 'A' && low[i] <= 'Z')
			low[i] = (char)(low[i] - 'A' + 'a');
	ok = component_valid(low, n);
	free(low);
	return ok;
}

bool rw_repository_name_valid(const char *name)
{
	const char *s = name;

	if (!name || strlen(name) > NAME_MAX_LEN)
		return false;
	for (;;) {
		size_t n = strcspn(s, "/");

		if (!component_valid(s, n))
			return false;
		if (!s[n])
			return true;
		s += n + 1;
	}
}

bool rw_tag_valid(const char *tag)
{
	size_t n = 0;

	if (!tag || !tag[0] || tag[0] == '.' || tag[0] == '-')
		return false;
	while (tag[n] && is_tag_char(tag[n]))
		n++;
	return !tag[n] && n <= TAG_MAX_LEN;
}

/* Why digest is not one rewind accepts, or NULL when it is. */
static const char *digest_problem(const char *digest)
{
	const char *colon = strchr(digest, ':');
	size_t want, n;

	if (!colon || colon == digest)
		return "expected algorithm:hex";
	if ((size_t)(colon - digest) == 6 && !strncmp(digest, "sha256", 6))
		want = 64;
	else if ((size_t)(colon - digest) == 6 && !strncmp(digest, "sha512", 6))
		want = 128;
	else
		return "unsupported digest algorithm (sha256 or sha512 expected)";
	/* Lower-case only, as go-digest: digests are compared as strings. */
	n = strspn(colon + 1, "0123456789abcdef");
	if (colon[1 + n] || n != want)
		return want == 64 ? "a sha256 digest has 64 lower-case hex digits"
			: "a sha512 digest has 128 lower-case hex digits";
	return NULL;
}

bool rw_digest_valid(const char *digest)
{
	return digest && !digest_problem(digest);
}

/* A DNS-like name: alphanumerics and inner dashes, joined by dots. */
static const char *skip_domain_name(const char *s, const char *end)
{
	for (;;) {
		const char *start = s;

		while (s < end && (is_alnum(*s) || *s == '-'))
			s++;
		if (s == start || *start == '-' || s[-1] == '-')
			return NULL;
		if (s == end || *s != '.')
			return s;
		s++;
	}
}

static const char *skip_ipv6(const char *s, const char *end)
{
	const char *start = ++s; /* past '[' */

	while (s < end && (is_hex(*s) || *s == ':'))
		s++;
	if (s == start || s == end || *s != ']')
		return NULL;
	return s + 1;
}

static bool domain_valid(const char *s, size_t n)
{
	const char *end = s + n;
	const char *p = (n && *s == '[') ? skip_ipv6(s, end) : skip_domain_name(s, end);

	if (!p)
		return false;
	if (p < end && *p == ':') {
		const char *port = ++p;

		while (p < end && is_digit(*p))
			p++;
		if (p == port)
			return false;
	}
	return p == end;
}

/* The first component is a registry when it looks like a host name. */
static bool is_domain(const char *s, size_t n)
{
	return memchr(s, '.', n) || memchr(s, ':', n) ||
		(n == 9 && !memcmp(s, "localhost", 9));
}

__attribute__((format(printf, 2, 3)))
static int invalid(const char *input, const char *fmt, ...)
{
	rw_buf why = RW_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	rw_buf_vprintf(&why, fmt, ap);
	va_end(ap);
	rw_error_set(RW_ERR_USAGE, "invalid image reference '%s': %s", input, why.ptr);
	rw_buf_dispose(&why);
	return RW_ERROR;
}

static int check_path(const char *input, const char *path, size_t len)
{
	const char *s = path, *end = path + len;

	if (!len)
		return invalid(input, "no repository name");
	while (s <= end) {
		size_t n = strcspn(s, "/");

		if (s + n > end)
			n = (size_t)(end - s);
		if (!n)
			return invalid(input, "empty path component");
		if (!component_valid(s, n)) {
			if (component_valid_lowered(s, n))
				return invalid(input, "repository names must be lowercase");
			return invalid(input, "invalid path component '%.*s' (lower-case letters "
				"and digits, separated by '.', '_', '__' or dashes)", (int)n, s);
		}
		s += n + 1;
	}
	return 0;
}

/* Splits name into domain and path and checks both. */
static int parse_name(rw_reference *ref, const char *input, const char *name, size_t len)
{
	const char *slash = memchr(name, '/', len);
	const char *path = name;

	if (len > NAME_MAX_LEN)
		return invalid(input, "name is longer than %d characters", NAME_MAX_LEN);
	if (slash && is_domain(name, (size_t)(slash - name))) {
		if (!domain_valid(name, (size_t)(slash - name)))
			return invalid(input, "invalid registry '%.*s'", (int)(slash - name), name);
		path = slash + 1;
	}
	if (check_path(input, path, (size_t)(name + len - path)) < 0)
		return RW_ERROR;
	if (path != name)
		ref->domain = rw_strndup(name, (size_t)(slash - name));
	ref->path = rw_strndup(path, (size_t)(name + len - path));
	return 0;
}

static int check_tag(const char *input, const char *tag)
{
	if (!tag[0])
		return invalid(input, "empty tag");
	if (strlen(tag) > TAG_MAX_LEN)
		return invalid(input, "tag is longer than %d characters", TAG_MAX_LEN);
	if (!rw_tag_valid(tag))
		return invalid(input, "invalid tag '%s' (letters, digits, '_', '.' and '-', "
			"not starting with '.' or '-')", tag);
	return 0;
}

static int check_digest(const char *input, const char *digest)
{
	const char *why;

	if (!digest[0])
		return invalid(input, "empty digest");
	why = digest_problem(digest);
	if (why)
		return invalid(input, "invalid digest '%s': %s", digest, why);
	return 0;
}

/* The ':' before the tag in s[0..len), or NULL. */
static const char *tag_colon(const char *s, size_t len)
{
	/* The tag follows the last '/', so that a registry's port is not one. */
	const char *last_slash = memrchr(s, '/', len);
	const char *from = last_slash ? last_slash + 1 : s;

	return memchr(from, ':', len - (size_t)(from - s));
}

int rw_reference_parse(rw_reference *out, const char *s)
{
	rw_reference ref = { NULL, NULL, NULL, NULL };
	const char *at = strchr(s, '@');
	size_t name_len = at ? (size_t)(at - s) : strlen(s);
	const char *colon;
	char *tag = NULL;

	memset(out, 0, sizeof(*out));
	if (!s[0])
		return invalid(s, "empty reference");
	if (at && check_digest(s, at + 1) < 0)
		return RW_ERROR;
	colon = tag_colon(s, name_len);
	if (colon) {
		tag = rw_strndup(colon + 1, name_len - (size_t)(colon + 1 - s));
		name_len = (size_t)(colon - s);
	}
	if ((tag && check_tag(s, tag) < 0) || parse_name(&ref, s, s, name_len) < 0) {
		free(tag);
		rw_reference_dispose(&ref);
		return RW_ERROR;
	}
	ref.tag = tag;
	ref.digest = at ? rw_strdup(at + 1) : NULL;
	*out = ref;
	return 0;
}

char *rw_reference_format(const rw_reference *ref)
{
	rw_buf b = RW_BUF_INIT;

	if (ref->domain)
		rw_buf_printf(&b, "%s/", ref->domain);
	rw_buf_puts(&b, ref->path ? ref->path : "");
	if (ref->tag)
		rw_buf_printf(&b, ":%s", ref->tag);
	if (ref->digest)
		rw_buf_printf(&b, "@%s", ref->digest);
	return rw_buf_detach(&b);
}

void rw_reference_dispose(rw_reference *ref)
{
	if (!ref)
		return;
	free(ref->domain);
	free(ref->path);
	free(ref->tag);
	free(ref->digest);
	memset(ref, 0, sizeof(*ref));
}
