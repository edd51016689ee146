/* A hash map from strings to pointers (open addressing, keys copied). */
#ifndef REWIND_STRMAP_H
#define REWIND_STRMAP_H

#include <stddef.h>

typedef struct rw_strmap rw_strmap;

rw_strmap *rw_strmap_new(void);
/* The value stored under key, or NULL. */
void *rw_strmap_get(const rw_strmap *m, const char *key);
/* Stores value under key; returns the value it replaces (caller frees), or NULL. */
void *rw_strmap_put(rw_strmap *m, const char *key, void *value);
size_t rw_strmap_count(const rw_strmap *m);
/* Iterates: *iter starts at 0; returns 0 at the end. */
int rw_strmap_next(const char **key, void **value, const rw_strmap *m, size_t *iter);
/* Frees the map; free_value (may be NULL) is called on every value. */
void rw_strmap_free(rw_strmap *m, void (*free_value)(void *));

#endif
