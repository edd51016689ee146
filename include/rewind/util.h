/*
 * Small helpers every module uses: allocation that dies on exhaustion (like
 * git's xmalloc: a CLI cannot do anything useful without memory), a growable
 * byte buffer and string utilities.
 */
#ifndef REWIND_UTIL_H
#define REWIND_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

void *rw_malloc(size_t n);
void *rw_calloc(size_t nmemb, size_t n);
void *rw_realloc(void *p, size_t n);
char *rw_strdup(const char *s);
char *rw_strndup(const char *s, size_t n);
/* A copy of s, NULL when s is NULL or empty (an unset option). */
char *rw_strdup_or_null(const char *s);
char *rw_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define RW_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A growable, always NUL-terminated byte buffer. */
typedef struct {
	char *ptr;
	size_t size;
	size_t asize;
} rw_buf;

#define RW_BUF_INIT { NULL, 0, 0 }

void rw_buf_put(rw_buf *b, const void *data, size_t len);
void rw_buf_puts(rw_buf *b, const char *s);
void rw_buf_putc(rw_buf *b, char c);
void rw_buf_printf(rw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rw_buf_vprintf(rw_buf *b, const char *fmt, va_list ap);
void rw_buf_clear(rw_buf *b);
/* Hands the string to the caller (never NULL) and resets the buffer. */
char *rw_buf_detach(rw_buf *b);
void rw_buf_dispose(rw_buf *b);

/* A growable array of owned strings. */
typedef struct {
	char **items;
	size_t count;
	size_t alloc;
} rw_strlist;

#define RW_STRLIST_INIT { NULL, 0, 0 }

void rw_strlist_push(rw_strlist *l, const char *s);
void rw_strlist_push_owned(rw_strlist *l, char *s);
bool rw_strlist_contains(const rw_strlist *l, const char *s);
void rw_strlist_dispose(rw_strlist *l);
/* Splits on commas and/or whitespace, dropping empty items. */
void rw_strlist_split(rw_strlist *l, const char *s);

bool rw_str_startswith(const char *s, const char *prefix);
bool rw_str_endswith(const char *s, const char *suffix);
/* Strips leading and trailing whitespace in place; returns s. */
char *rw_str_trim(char *s);
/* Version-aware comparison, like `sort -V` (digits compare as numbers). */
int rw_str_vercmp(const char *a, const char *b);

/* Reads a whole file up to max bytes; RW_ERROR (with an error set) past max. */
int rw_file_read(char **out, size_t *len, const char *path, size_t max);
/* Writes a file atomically (temporary file, fsync, rename). */
int rw_file_write_atomic(const char *path, const void *data, size_t len);
/* mkdir -p */
int rw_mkdir_p(const char *path, int mode);

/* "sha256:<hex>" of data into out (72 bytes with NUL). */
#define RW_DIGEST_MAX 72
void rw_sha256_digest(char out[RW_DIGEST_MAX], const void *data, size_t len);

/* Monotonic clock in milliseconds. */
long long rw_now_ms(void);

#endif
