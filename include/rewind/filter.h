/*
 * Which tags belong to an environment: those ending with its tag suffix
 * (the usual schema is <version>-<branch>, e.g. 1.4.2-master), or those
 * matching a POSIX extended regular expression for other schemas.
 */
#ifndef REWIND_FILTER_H
#define REWIND_FILTER_H

#include <stdbool.h>

typedef struct rw_tag_filter rw_tag_filter;

/*
 * suffix: a tag matches when it is the suffix or ends with it right after
 * '-', '_' or '.' (so "prod" does not match "1.0-preprod").
 * pattern (wins when both are given): POSIX ERE, unanchored unless it says
 * ^ or $. Neither: every tag. RW_ERR_USAGE error for a bad pattern.
 */
int rw_tag_filter_new(rw_tag_filter **out, const char *suffix, const char *pattern);
bool rw_tag_filter_match(const rw_tag_filter *f, const char *tag);
/* What the filter keeps, for messages: "tags ending in -master". */
const char *rw_tag_filter_describe(const rw_tag_filter *f);
void rw_tag_filter_free(rw_tag_filter *f);

#endif
