/* Allocation, buffers, string lists, files and digests. */
#include "rewind/util.h"
#include "rewind/errors.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void die_oom(void)
{
	fputs("rewind: fatal: out of memory\n", stderr);
	abort();
}

void *rw_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		die_oom();
	return p;
}

void *rw_calloc(size_t nmemb, size_t n)
{
	void *p = calloc(nmemb ? nmemb : 1, n ? n : 1);

	if (!p)
		die_oom();
	return p;
}

void *rw_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		die_oom();
	return q;
}

char *rw_strdup(const char *s)
{
	return rw_strndup(s, strlen(s));
}

char *rw_strndup(const char *s, size_t n)
{
	char *p = rw_malloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *rw_strdup_or_null(const char *s)
{
	return s && *s ? rw_strdup(s) : NULL;
}

char *rw_printf(const char *fmt, ...)
{
	rw_buf b = RW_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	rw_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return rw_buf_detach(&b);
}

static void buf_grow(rw_buf *b, size_t extra)
{
	size_t need = b->size + extra + 1;

	if (need <= b->asize)
		return;
	if (need < b->asize * 2)
		need = b->asize * 2;
	if (need < 64)
		need = 64;
	b->ptr = rw_realloc(b->ptr, need);
	b->asize = need;
}

void rw_buf_put(rw_buf *b, const void *data, size_t len)
{
	buf_grow(b, len);
	if (len)
		memcpy(b->ptr + b->size, data, len);
	b->size += len;
	b->ptr[b->size] = '\0';
}

void rw_buf_puts(rw_buf *b, const char *s)
{
	rw_buf_put(b, s, strlen(s));
}

void rw_buf_putc(rw_buf *b, char c)
{
	rw_buf_put(b, &c, 1);
}

void rw_buf_vprintf(rw_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	buf_grow(b, (size_t)n);
	vsnprintf(b->ptr + b->size, (size_t)n + 1, fmt, ap);
	b->size += (size_t)n;
}

void rw_buf_printf(rw_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rw_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void rw_buf_clear(rw_buf *b)
{
	b->size = 0;
	if (b->ptr)
		b->ptr[0] = '\0';
}

char *rw_buf_detach(rw_buf *b)
{
	char *p = b->ptr ? b->ptr : rw_strdup("");

	b->ptr = NULL;
	b->size = b->asize = 0;
	return p;
}

void rw_buf_dispose(rw_buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->size = b->asize = 0;
}

void rw_strlist_push_owned(rw_strlist *l, char *s)
{
	if (l->count == l->alloc) {
		l->alloc = l->alloc ? l->alloc * 2 : 8;
		l->items = rw_realloc(l->items, l->alloc * sizeof(char *));
	}
	l->items[l->count++] = s;
}

void rw_strlist_push(rw_strlist *l, const char *s)
{
	rw_strlist_push_owned(l, rw_strdup(s));
}

bool rw_strlist_contains(const rw_strlist *l, const char *s)
{
	for (size_t i = 0; i < l->count; i++)
		if (!strcmp(l->items[i], s))
			return true;
	return false;
}

void rw_strlist_dispose(rw_strlist *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->count = l->alloc = 0;
}

void rw_strlist_split(rw_strlist *l, const char *s)
{
	while (*s) {
		size_t n;

		while (*s == ',' || isspace((unsigned char)*s))
			s++;
		n = strcspn(s, ", \t\r\n");
		if (n)
			rw_strlist_push_owned(l, rw_strndup(s, n));
		s += n;
	}
}

bool rw_str_startswith(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

bool rw_str_endswith(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

char *rw_str_trim(char *s)
{
	size_t n;
	char *start = s;

	while (isspace((unsigned char)*start))
		start++;
	n = strlen(start);
	while (n && isspace((unsigned char)start[n - 1]))
		n--;
	memmove(s, start, n);
	s[n] = '\0';
	return s;
}

int rw_str_vercmp(const char *a, const char *b)
{
	return strverscmp(a, b);
}

int rw_file_read(char **out, size_t *len, const char *path, size_t max)
{
	rw_buf b = RW_BUF_INIT;
	char chunk[8192];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (!f)
		return rw_error_set_os("cannot open '%s'", path);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (b.size + n > max) {
			fclose(f);
			rw_buf_dispose(&b);
			return rw_error_set(RW_ERR_OS, "'%s' is larger than %zu bytes", path, max);
		}
		rw_buf_put(&b, chunk, n);
	}
	if (ferror(f)) {
		fclose(f);
		rw_buf_dispose(&b);
		return rw_error_set_os("cannot read '%s'", path);
	}
	fclose(f);
	if (len)
		*len = b.size;
	*out = rw_buf_detach(&b);
	return 0;
}

int rw_file_write_atomic(const char *path, const void *data, size_t len)
{
	char *tmp = rw_printf("%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	const char *p = data;

	if (fd < 0) {
		rw_error_set_os("cannot create '%s'", tmp);
		free(tmp);
		return RW_ERROR;
	}
	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rw_error_set_os("cannot write '%s'", tmp);
			goto fail;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) < 0) {
		rw_error_set_os("cannot write '%s'", tmp);
		goto fail;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		rw_error_set_os("cannot rename '%s' to '%s'", tmp, path);
		unlink(tmp);
		free(tmp);
		return RW_ERROR;
	}
	free(tmp);
	return 0;
fail:
	close(fd);
	unlink(tmp);
	free(tmp);
	return RW_ERROR;
}

int rw_mkdir_p(const char *path, int mode)
{
	char *p = rw_strdup(path);

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST) {
			rw_error_set_os("cannot create directory '%s'", p);
			free(p);
			return RW_ERROR;
		}
		*s = '/';
	}
	if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST) {
		rw_error_set_os("cannot create directory '%s'", p);
		free(p);
		return RW_ERROR;
	}
	free(p);
	return 0;
}

void rw_sha256_digest(char out[RW_DIGEST_MAX], const void *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	static const char hex[] = "0123456789abcdef";

	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	memcpy(out, "sha256:", 7);
	for (unsigned int i = 0; i < n; i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[8 + 2 * i] = hex[md[i] & 15];
	}
	out[7 + 2 * n] = '\0';
}

long long rw_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
