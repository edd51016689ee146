/*
 * Image references as docker writes them:
 *   [domain[:port]/]path[:tag][@digest]
 * following the grammar of distribution's reference package (the domain is
 * the first component when it contains '.' or ':' or is "localhost").
 */
#ifndef REWIND_REFERENCE_H
#define REWIND_REFERENCE_H

#include <stdbool.h>

typedef struct {
	char *domain; /* NULL when the reference names none */
	char *path;   /* "team/web" */
	char *tag;    /* NULL when none */
	char *digest; /* "sha256:...", NULL when none */
} rw_reference;

/* RW_ERROR (class RW_ERR_USAGE) with the reason when s is not a reference. */
int rw_reference_parse(rw_reference *out, const char *s);
/* "domain/path:tag@digest" with the parts that are set. */
char *rw_reference_format(const rw_reference *ref);
void rw_reference_dispose(rw_reference *ref);

/* A repository name (path components of [a-z0-9] joined by separators). */
bool rw_repository_name_valid(const char *name);
/* A tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. */
bool rw_tag_valid(const char *tag);
/* A digest: algorithm ":" hex (sha256 with 64 hex digits, sha512 with 128). */
bool rw_digest_valid(const char *digest);

#endif
