/*
 * The on-disk cache. A manifest digest names immutable content, so what
 * rewind learnt of it (its creation time, or that it has none) is kept
 * forever. Tags are mutable: the cache remembers the digest each tag had
 * only as a hint (it lets a warm run ask with a HEAD instead of a GET);
 * every run still asks the registry what each tag points at now.
 *
 * A missing, unreadable or corrupt cache never fails a run: it is ignored
 * with a warning and rewritten.
 */
#ifndef REWIND_CACHE_H
#define REWIND_CACHE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct rw_cache rw_cache;

/* dir NULL: a cache in memory only (--no-cache). */
int rw_cache_open(rw_cache **out, const char *dir);

/*
 * What is known of an image key: a manifest digest, or for a multi-arch
 * list "digest platform". RW_ENOTFOUND when nothing is.
 */
int rw_cache_lookup(bool *dated, int64_t *created, const rw_cache *c, const char *key);
void rw_cache_store(rw_cache *c, const char *key, bool dated, int64_t created);

/* The digest a tag had when last seen, or NULL. */
const char *rw_cache_tag_hint(const rw_cache *c, const char *registry, const char *repo, const char *tag);
void rw_cache_set_tag_hint(rw_cache *c, const char *registry, const char *repo, const char *tag, const char *digest);

/* Writes what changed. */
int rw_cache_save(rw_cache *c);
void rw_cache_free(rw_cache *c);

#endif
