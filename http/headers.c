/* Parsers of the HTTP headers rewind reads, and URL helpers. */
#include "rewind/errors.h"
#include "rewind/http.h"
#include "rewind/util.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static bool is_token_char(char c)
{
	return c && (isalnum((unsigned char)c) || strchr("!#$%&'*+-.^_`|~", c));
}

/* Reads a token or a quoted-string (with backslash escapes) into out. */
static const char *read_value(rw_buf *out, const char *p)
{
	if (*p != '"') {
		while (*p && *p != ',' && *p != ';' && *p != ' ' && *p != '\t')
			rw_buf_putc(out, *p++);
		return p;
	}
	p++;
	while (*p && *p != '"') {
		if (*p == '\\' && p[1])
			p++;
		rw_buf_putc(out, *p++);
	}
	return *p == '"' ? p + 1 : NULL;
}

/* One `; key=value` parameter of a Link entry; returns NULL when malformed. */
static const char *link_param(bool *is_next, const char *p)
{
	rw_buf key = RW_BUF_INIT, val = RW_BUF_INIT;

	p = skip_ws(p);
	while (is_token_char(*p))
		rw_buf_putc(&key, *p++);
	p = skip_ws(p);
	if (*p == '=') {
		p = read_value(&val, skip_ws(p + 1));
		if (p && key.ptr && !strcasecmp(key.ptr, "rel") && val.ptr) {
			rw_strlist rels = RW_STRLIST_INIT;

			rw_strlist_split(&rels, val.ptr);
			for (size_t i = 0; i < rels.count; i++)
				if (!strcasecmp(rels.items[i], "next"))
					*is_next = true;
			rw_strlist_dispose(&rels);
		}
	}
	rw_buf_dispose(&key);
	rw_buf_dispose(&val);
	return p;
}

int rw_http_link_next(char **out, const char *link, const char *base_url)
{
	const char *p = link;

	while (p && *p) {
		const char *start, *end;
		bool is_next = false;

		p = skip_ws(p);
		if (*p == ',') {
			p++;
			continue;
		}
		start = p;
		end = *p == '<' ? strchr(p, '>') : NULL;
		if (!end)
			return rw_error_set(RW_ERR_PROTOCOL, "malformed Link header '%s'", link);
		p = skip_ws(end + 1);
		while (p && *p == ';')
			p = skip_ws(link_param(&is_next, p + 1));
		if (!p || (*p && *p != ','))
			return rw_error_set(RW_ERR_PROTOCOL, "malformed Link header '%s'", link);
		if (is_next) {
			char *target = rw_strndup(start + 1, (size_t)(end - start - 1));

			*out = rw_url_resolve(base_url, target);
			free(target);
			return 0;
		}
	}
	return RW_ENOTFOUND;
}

static void challenge_param(rw_http_challenge *c, const char *key, const char *val)
{
	char **slot = NULL;

	if (!strcasecmp(key, "realm"))
		slot = &c->realm;
	else if (!strcasecmp(key, "service"))
		slot = &c->service;
	else if (!strcasecmp(key, "scope"))
		slot = &c->scope;
	else if (!strcasecmp(key, "error"))
		slot = &c->error;
	if (slot) {
		free(*slot);
		*slot = rw_strdup(val);
	}
}

/* Reads `key=value` pairs; stops at the start of a second challenge. */
static int challenge_params(rw_http_challenge *c, const char *p, const char *header)
{
	rw_buf key = RW_BUF_INIT, val = RW_BUF_INIT;
	int error = 0;

	while (*(p = skip_ws(p))) {
		const char *key_start = p;

		if (*p == ',') {
			p++;
			continue;
		}
		rw_buf_clear(&key);
		rw_buf_clear(&val);
		while (is_token_char(*p))
			rw_buf_putc(&key, *p++);
		p = skip_ws(p);
		if (*p != '=' || p == key_start) {
			/* "Basic realm=x, Bearer realm=y": only the first challenge */
			if (key.size && p != key_start)
				break;
			error = rw_error_set(RW_ERR_PROTOCOL, "malformed WWW-Authenticate header '%s'", header);
			break;
		}
		p = read_value(&val, skip_ws(p + 1));
		if (!p) {
			error = rw_error_set(RW_ERR_PROTOCOL, "malformed WWW-Authenticate header '%s' (unterminated quote)", header);
			break;
		}
		challenge_param(c, key.ptr, val.ptr ? val.ptr : "");
	}
	rw_buf_dispose(&key);
	rw_buf_dispose(&val);
	return error;
}

int rw_http_challenge_parse(rw_http_challenge *out, const char *header)
{
	const char *p = skip_ws(header);
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	while (is_token_char(p[n]))
		n++;
	if (!n || (p[n] && p[n] != ' ' && p[n] != '\t'))
		return rw_error_set(RW_ERR_PROTOCOL, "malformed WWW-Authenticate header '%s'", header);
	out->scheme = rw_strndup(p, n);
	if (challenge_params(out, p + n, header) < 0) {
		rw_http_challenge_dispose(out);
		return RW_ERROR;
	}
	return 0;
}

void rw_http_challenge_dispose(rw_http_challenge *c)
{
	free(c->scheme);
	free(c->realm);
	free(c->service);
	free(c->scope);
	free(c->error);
	memset(c, 0, sizeof(*c));
}

int rw_http_retry_after_ms(long long *out, const char *value, time_t now)
{
	char *end;
	long long secs;
	time_t when;

	if (!value || !*value)
		return RW_ENOTFOUND;
	secs = strtoll(value, &end, 10);
	if (end != value && !*skip_ws(end)) {
		if (secs < 0)
			return RW_ENOTFOUND;
		/* a day is more than anyone waits; no overflow below */
		*out = (secs > 86400 ? 86400 : secs) * 1000;
		return 0;
	}
	when = curl_getdate(value, NULL);
	if (when < 0)
		return RW_ENOTFOUND;
	*out = when > now ? (long long)(when - now) * 1000 : 0;
	return 0;
}

/* Length of "scheme://authority" of url, 0 when url is not absolute. */
static size_t origin_len(const char *url)
{
	const char *sep = strstr(url, "://");
	const char *p;

	if (!sep)
		return 0;
	for (p = url; p < sep; p++)
		if (!isalnum((unsigned char)*p) && *p != '+' && *p != '-' && *p != '.')
			return 0;
	p = sep + 3;
	return (size_t)(p - url) + strcspn(p, "/?#");
}

char *rw_url_resolve(const char *base, const char *ref)
{
	size_t olen = origin_len(base);
	const char *path_end;

	if (origin_len(ref))
		return rw_strdup(ref);
	if (!strncmp(ref, "//", 2))
		return rw_printf("%.*s%s", (int)(strstr(base, "://") - base + 1), base, ref);
	if (ref[0] == '/')
		return rw_printf("%.*s%s", (int)olen, base, ref);
	/* relative path: replace the last segment of base's path */
	path_end = base + olen + strcspn(base + olen, "?#");
	while (path_end > base + olen && path_end[-1] != '/')
		path_end--;
	if (path_end == base + olen)
		return rw_printf("%.*s/%s", (int)olen, base, ref);
	return rw_printf("%.*s%s", (int)(path_end - base), base, ref);
}

static bool sensitive_param(const char *name, size_t len)
{
	static const char *names[] = { "password", "passwd", "token", "access_token",
		"secret", "signature", "sig", "x-amz-signature", "x-amz-credential",
		"x-amz-security-token", "x-goog-signature", "key" };

	for (size_t i = 0; i < RW_ARRAY_SIZE(names); i++)
		if (strlen(names[i]) == len && !strncasecmp(name, names[i], len))
			return true;
	return false;
}

static void redact_query(rw_buf *out, const char *q)
{
	while (*q) {
		size_t n = strcspn(q, "&#"), k = strcspn(q, "=&#");

		if (k < n && sensitive_param(q, k)) {
			rw_buf_put(out, q, k);
			rw_buf_puts(out, "=REDACTED");
		} else {
			rw_buf_put(out, q, n);
		}
		q += n;
		if (*q == '#') {
			rw_buf_puts(out, q);
			return;
		}
		if (*q)
			rw_buf_putc(out, *q++);
	}
}

char *rw_url_redact(const char *url)
{
	rw_buf out = RW_BUF_INIT;
	size_t olen = origin_len(url);
	const char *auth = olen ? strstr(url, "://") + 3 : url;
	const char *at = NULL, *q;

	for (const char *p = auth; olen && p < url + olen; p++)
		if (*p == '@')
			at = p;
	if (at) {
		rw_buf_put(&out, url, (size_t)(auth - url));
		rw_buf_puts(&out, "REDACTED@");
		rw_buf_put(&out, at + 1, (size_t)(url + olen - at - 1));
	} else {
		rw_buf_put(&out, url, olen);
	}
	q = strchr(url + olen, '?');
	if (!q) {
		rw_buf_puts(&out, url + olen);
		return rw_buf_detach(&out);
	}
	rw_buf_put(&out, url + olen, (size_t)(q + 1 - url - olen));
	redact_query(&out, q + 1);
	return rw_buf_detach(&out);
}

char *rw_url_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	rw_buf out = RW_BUF_INIT;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || strchr("-._~", c)) {
			rw_buf_putc(&out, (char)c);
		} else {
			rw_buf_putc(&out, '%');
			rw_buf_putc(&out, hex[c >> 4]);
			rw_buf_putc(&out, hex[c & 15]);
		}
	}
	return rw_buf_detach(&out);
}

char *rw_url_host(const char *url)
{
	size_t olen = origin_len(url);
	const char *start, *at;
	char *host;

	if (!olen)
		return NULL;
	start = strstr(url, "://") + 3;
	at = memchr(start, '@', (size_t)(url + olen - start));
	if (at)
		start = at + 1;
	host = rw_strndup(start, (size_t)(url + olen - start));
	for (char *p = host; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return host;
}
