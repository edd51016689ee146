/* OpenSSH known_hosts files: host patterns, hashed names, key comparison. */
#include "rewind/known_hosts.h"
#include "rewind/base64.h"
#include "rewind/errors.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define KNOWN_HOSTS_MAX (16u << 20)

char *rw_known_hosts_name(const char *host, int port)
{
	return port == 22 || port <= 0 ? rw_strdup(host) : rw_printf("[%s]:%d", host, port);
}

/* ssh's patterns: '*' and '?' only ("[host]:port" brackets are literal), case ignored */
static bool wildcard_matches(const char *p, size_t pn, const char *s)
{
	size_t pi = 0, si = 0, star = SIZE_MAX, resume = 0;

	while (s[si]) {
		if (pi < pn && p[pi] == '*') {
			star = pi++;
			resume = si;
		} else if (pi < pn && (p[pi] == '?' || tolower((unsigned char)p[pi]) == tolower((unsigned char)s[si]))) {
			pi++;
			si++;
		} else if (star != SIZE_MAX) {
			/* let the last '*' swallow one more character */
			pi = star + 1;
			si = ++resume;
		} else {
			return false;
		}
	}
	while (pi < pn && p[pi] == '*')
		pi++;
	return pi == pn;
}

/* "|1|salt|hmac": HMAC-SHA1(salt, name), OpenSSH's HashKnownHosts */
static bool hashed_matches(const char *field, const char *name)
{
	const char *salt64 = field + 3, *bar = strchr(salt64, '|');
	unsigned char *salt = NULL, *hash = NULL, mac[EVP_MAX_MD_SIZE];
	size_t salt_len = 0, hash_len = 0;
	unsigned int mac_len = 0;
	bool match = false;

	if (!bar)
		return false;
	if (rw_base64_decode(&salt, &salt_len, salt64, (size_t)(bar - salt64)) < 0 ||
	    rw_base64_decode(&hash, &hash_len, bar + 1, strlen(bar + 1)) < 0)
		rw_error_clear(); /* not a hash: names no host */
	else if (HMAC(EVP_sha1(), salt, (int)salt_len, (const unsigned char *)name, strlen(name), mac, &mac_len))
		match = hash_len == mac_len && !memcmp(hash, mac, mac_len);
	free(salt);
	free(hash);
	return match;
}

bool rw_known_hosts_field_matches(const char *field, const char *name)
{
	bool match = false;

	if (rw_str_startswith(field, "|1|"))
		return hashed_matches(field, name);
	while (*field) {
		size_t n = strcspn(field, ",");
		bool negated = *field == '!';

		if (n > (size_t)negated && wildcard_matches(field + negated, n - negated, name)) {
			if (negated)
				return false; /* "!pattern" vetoes the line, as in ssh */
			match = true;
		}
		field += n + (field[n] == ',');
	}
	return match;
}

/* One line that lists a key for the host. */
typedef struct {
	size_t line;
	bool revoked;
	const char *type;
	const unsigned char *key;
	size_t key_len;
} entry;

typedef void (*entry_fn)(void *ctx, const entry *e);

/* Calls fn for the line if it lists a key for name. */
static void parse_line(char *text, size_t lineno, const char *name, entry_fn fn, void *ctx)
{
	char *save = NULL, *marker = NULL, *hosts = strtok_r(text, " \t\r", &save), *type, *b64;
	unsigned char *key;
	entry e;

	if (!hosts || *hosts == '#')
		return;
	if (*hosts == '@') {
		marker = hosts;
		hosts = strtok_r(NULL, " \t\r", &save);
	}
	type = strtok_r(NULL, " \t\r", &save);
	b64 = strtok_r(NULL, " \t\r", &save);
	/* @cert-authority (and markers to come) vouch for no key here */
	if (!hosts || !type || !b64 || (marker && strcmp(marker, "@revoked")))
		return;
	if (!rw_known_hosts_field_matches(hosts, name))
		return;
	if (rw_base64_decode(&key, &e.key_len, b64, strlen(b64)) < 0) {
		rw_error_clear();
		return;
	}
	e.line = lineno;
	e.revoked = marker != NULL;
	e.type = type;
	e.key = key;
	fn(ctx, &e);
	free(key);
}

/* Every line of the file listing a key for name; a missing file lists none. */
static int each_entry(bool *missing, const char *path, const char *name, entry_fn fn, void *ctx)
{
	char *text, *line, *next;
	size_t len, lineno = 0;

	*missing = false;
	if (rw_file_read(&text, &len, path, KNOWN_HOSTS_MAX) < 0) {
		if (errno != ENOENT)
			return rw_error_prefix("known_hosts");
		rw_error_clear();
		*missing = true;
		return 0;
	}
	for (line = text; line; line = next) {
		if ((next = strchr(line, '\n')))
			*next++ = '\0';
		parse_line(line, ++lineno, name, fn, ctx);
	}
	free(text);
	return 0;
}

static void add_type(rw_strlist *types, const char *type)
{
	if (!rw_strlist_contains(types, type))
		rw_strlist_push(types, type);
}

static void collect_type(void *ctx, const entry *e)
{
	if (!e->revoked)
		add_type(ctx, e->type);
}

int rw_known_hosts_types(rw_strlist *types, const char *path, const char *name)
{
	bool missing;

	return each_entry(&missing, path, name, collect_type, types);
}

typedef struct {
	rw_known_host *out;
	const unsigned char *key;
	size_t key_len;
	size_t match, mismatch, revoked; /* the first line of each */
} judge_ctx;

static void judge_entry(void *ctx, const entry *e)
{
	judge_ctx *c = ctx;
	bool same = e->key_len == c->key_len && !memcmp(e->key, c->key, c->key_len);

	if (e->revoked) {
		/* a revoked key condemns only itself */
		if (same && !c->revoked)
			c->revoked = e->line;
		return;
	}
	add_type(&c->out->types, e->type);
	if (same && !c->match)
		c->match = e->line;
	else if (!same && !strcmp(e->type, c->out->type) && !c->mismatch)
		c->mismatch = e->line;
}

int rw_known_hosts_check(rw_known_host *out, const char *path, const char *name,
	const unsigned char *key, size_t key_len)
{
	judge_ctx c = { out, key, key_len, 0, 0, 0 };

	memset(out, 0, sizeof(*out));
	out->type = rw_known_hosts_key_type(key, key_len);
	out->fingerprint = rw_known_hosts_fingerprint(key, key_len);
	if (each_entry(&out->missing, path, name, judge_entry, &c) < 0)
		return RW_ERROR;
	/* revoked beats a match (a key may be listed and revoked), a match beats another key */
	out->line = c.revoked ? c.revoked : c.match ? c.match : c.mismatch;
	out->verdict = c.revoked ? RW_KNOWN_HOST_REVOKED : c.match ? RW_KNOWN_HOST_MATCH :
		c.mismatch ? RW_KNOWN_HOST_MISMATCH : RW_KNOWN_HOST_UNKNOWN;
	return 0;
}

void rw_known_host_dispose(rw_known_host *h)
{
	free(h->type);
	free(h->fingerprint);
	rw_strlist_dispose(&h->types);
	memset(h, 0, sizeof(*h));
}

char *rw_known_hosts_key_type(const unsigned char *key, size_t key_len)
{
	size_t n;

	/* the blob starts with the type as an SSH string: a 32-bit length, then the name */
	if (key_len < 4)
		return rw_strdup("unknown");
	n = (size_t)key[0] << 24 | (size_t)key[1] << 16 | (size_t)key[2] << 8 | key[3];
	if (!n || n > key_len - 4 || n > 64)
		return rw_strdup("unknown");
	for (size_t i = 0; i < n; i++)
		if (!key[4 + i] || (!isalnum(key[4 + i]) && !strchr("-.@", key[4 + i])))
			return rw_strdup("unknown");
	return rw_strndup((const char *)key + 4, n);
}

char *rw_known_hosts_fingerprint(const unsigned char *key, size_t key_len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	char *b64, *out;
	size_t n;

	if (!EVP_Digest(key, key_len, md, &md_len, EVP_sha256(), NULL))
		return rw_strdup("SHA256:(unavailable)");
	b64 = rw_base64(md, md_len);
	n = strlen(b64);
	/* ssh-keygen -l prints it without the padding */
	while (n && b64[n - 1] == '=')
		b64[--n] = '\0';
	out = rw_printf("SHA256:%s", b64);
	free(b64);
	return out;
}
