/*
 * A client of the Docker Registry HTTP API v2 / OCI distribution spec.
 *
 * rw_registry_collect() lists the tags of many repositories and resolves
 * every tag to its manifest digest and creation time, all concurrently on
 * one HTTP engine: tag lists page by page (Link: rel="next"), then per tag a
 * HEAD (when the cache knows the tag's last digest) or a GET of its
 * manifest, then, for digests the cache does not know, the manifest by
 * digest, the platform's manifest of a multi-arch list and the config blob.
 * Everything fetched by digest is verified against it.
 *
 * Authentication: anonymous, Basic, and the Bearer token flow (realm and
 * service from WWW-Authenticate, one token per repository scope, reused
 * until it expires).
 */
#ifndef REWIND_REGISTRY_H
#define REWIND_REGISTRY_H

#include <stddef.h>

#include "rewind/cache.h"
#include "rewind/filter.h"
#include "rewind/http.h"
#include "rewind/timeline.h"
#include "rewind/util.h"

typedef struct {
	const char *url;      /* "https://host[:port]" or "http://..." */
	const char *username; /* NULL: anonymous */
	const char *password;
	const char *platform; /* of multi-arch images, default "linux/amd64" */
	size_t page_size;     /* tags asked per page (n=), default 1000 */
	rw_http_opts http;
	rw_cache *cache;      /* required: rw_cache_open(NULL) for none */
} rw_registry_opts;

typedef struct {
	size_t requests;   /* HTTP requests sent, retries included */
	size_t tags;       /* tags that passed the filter */
	size_t heads;      /* manifest HEADs */
	size_t manifests;  /* manifest GETs */
	size_t blobs;      /* config blob GETs */
	size_t tokens;     /* bearer tokens fetched */
	size_t cache_hits; /* tags whose creation time came from the cache */
} rw_registry_stats;

typedef struct rw_registry rw_registry;

int rw_registry_new(rw_registry **out, const rw_registry_opts *opts);

/*
 * Fills set with every repository of repos (in that order) and its tags
 * that pass filter. The first failure stops everything: RW_ERROR with the
 * error naming the repository, URL, HTTP status and registry error code.
 */
int rw_registry_collect(rw_image_set *set, rw_registry *reg, const rw_strlist *repos,
	const rw_tag_filter *filter);

const rw_registry_stats *rw_registry_stats_of(const rw_registry *reg);
void rw_registry_free(rw_registry *reg);

#endif
