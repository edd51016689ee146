/*
 * Finding and rewriting image references in manifest text, for the git
 * backend: a rollback must change the tag and digest of a service's image
 * and nothing else, so the commit a team reviews is a one-line diff and
 * their comments, quoting, key order and line endings survive.
 *
 * Not a YAML parser: a scanner that knows the few shapes images take in
 * files people keep in git.
 *
 *   YAML, block style (Kubernetes, docker-compose, Argo CD helm values):
 *     image: host/web:1.2.3            (any indentation, list items,
 *     - image: "host/web:1.2.3"  # x    quotes, anchors, comments, ---)
 *   Split references (Helm values; kustomization `images:`):
 *     image:                           images:
 *       registry: host   (optional)    - name: host/web
 *       repository: web                  newName: host/web2 (optional)
 *       tag: "1.2.3"                     newTag: 1.2.3
 *       digest: sha256:...  (optional)   digest: sha256:... (optional)
 *   YAML flow style: image: {repository: host/web, tag: "1.2.3"}
 *   JSON (a file starting with '{' or '['; Marathon apps and pods):
 *     "image": "host/web:1.2.3"        "image": {"kind": "DOCKER", "id": "host/web:1.2.3"}
 *
 * Commented-out lines are not references. Values that are not image
 * references (templates, ${VARS}, aliases) are ignored.
 */
#ifndef REWIND_REWRITE_H
#define REWIND_REWRITE_H

#include <stdbool.h>
#include <stddef.h>

#include "rewind/util.h"

/* What rw_rewrite_apply changes: text[start, end) becomes the new bytes (end == start: an insertion). */
typedef struct {
	size_t start, end;
	char *prefix;   /* written before the new value (e.g. ":" or "\n  tag: \"") */
	char *suffix;   /* written after it */
	bool quote;     /* a plain YAML scalar: double-quoted if the value would not read as a string */
	bool insert;    /* adds a key that was missing (only when there is a value to add) */
	int what;       /* RW_EDIT_SUFFIX, RW_EDIT_TAG, RW_EDIT_DIGEST */
} rw_rewrite_edit;

enum { RW_EDIT_SUFFIX, RW_EDIT_TAG, RW_EDIT_DIGEST };

/* One place that names an image of the repository. */
typedef struct {
	size_t line;          /* 1-based: the tag's line (split references: the tag value's, else the repository's) */
	char *image;          /* the reference as it reads now: "host/web:1.2.3@sha256:..." */
	char *policy;         /* Flux marker on one of its lines ("ns:policy" or "ns:policy:tag"), or NULL */
	bool split;           /* tag and digest are values of their own (Helm values, kustomize images) */
	bool has_tag;         /* the spans below are the current bytes (no tag/digest: not set) */
	bool has_digest;
	size_t tag_start, tag_end;
	size_t digest_start, digest_end;
	/* How to rewrite it: private to rewrite.c. */
	rw_rewrite_edit edits[3];
	size_t nedits;
} rw_image_site;

typedef struct {
	rw_image_site *items;
	size_t count;
	size_t alloc;
} rw_image_sites;

#define RW_IMAGE_SITES_INIT { NULL, 0, 0 }

/*
 * Appends to out every reference to repo in text (in file order). A
 * reference is of repo when its path is repo or ends with "/" + repo
 * ("team/web" and "host/team/web" for "web"; never "webshop" or "my-web").
 */
int rw_rewrite_find(rw_image_sites *out, const char *text, size_t len, const char *repo);
void rw_image_sites_dispose(rw_image_sites *sites);

/*
 * Writes text with every site's tag and digest replaced into out: tag (NULL:
 * inline references lose their tag, split ones keep theirs) and digest (NULL:
 * none). Only those bytes change (a plain Helm tag that would read as a
 * number is double-quoted; a missing tag or digest key is added, indented
 * like its siblings, with the file's line ending).
 */
int rw_rewrite_apply(rw_buf *out, const char *text, size_t len, const rw_image_sites *sites,
	const char *tag, const char *digest);

/* path (of a parsed reference) is repo or ends with "/" + repo. */
bool rw_rewrite_path_matches(const char *path, const char *repo);

#endif
