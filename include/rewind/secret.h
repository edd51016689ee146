/*
 * Secrets: passwords, tokens and credentials files, read from files (never
 * from the command line) and wiped from memory before it is freed, so that
 * they do not linger in freed memory (a core dump, a heap bug elsewhere).
 *
 * Readers allocate once at the final size and bypass stdio, whose buffers
 * and growing copies would be freed unwiped.
 */
#ifndef REWIND_SECRET_H
#define REWIND_SECRET_H

#include <stddef.h>

struct json_t;

/* Longest secret rw_secret_read accepts. */
#define RW_SECRET_MAX (64 * 1024)

/*
 * The secret in the file at path: its bytes without the trailing newlines
 * (files written by `echo` end in one that is not the secret's). what names
 * it in errors: "cannot read the password file: ..." when the file cannot
 * be read or is larger than RW_SECRET_MAX (an RW_ERR_OS error), an
 * RW_ERR_AUTH error when it is empty or holds a NUL byte (not a secret
 * rewind can send). Free with rw_secret_free.
 */
int rw_secret_read(char **out, const char *path, const char *what);

/* A whole file holding secrets (e.g. docker's config.json), up to max bytes, NUL-terminated. */
int rw_secret_read_file(char **out, size_t *len, const char *path, size_t max);

/* Zeroes n bytes in a way the compiler does not drop as a dead store. */
void rw_secret_wipe(void *p, size_t n);

/* Wipes and frees a NUL-terminated secret; NULL is fine. */
void rw_secret_free(char *s);

/* Wipes every string value of a JSON document that holds secrets, then drops it; NULL is fine. */
void rw_secret_json_free(struct json_t *doc);

#endif
