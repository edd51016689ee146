/* Open-addressing string map: linear probing, grown at 50% load. */
#include "rewind/strmap.h"
#include "rewind/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	char *key;
	void *value;
} slot;

struct rw_strmap {
	slot *slots;
	size_t cap; /* power of two */
	size_t count;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return h;
}

rw_strmap *rw_strmap_new(void)
{
	rw_strmap *m = rw_calloc(1, sizeof(*m));

	m->cap = 16;
	m->slots = rw_calloc(m->cap, sizeof(slot));
	return m;
}

static slot *find_slot(slot *slots, size_t cap, const char *key)
{
	size_t i = (size_t)hash_str(key) & (cap - 1);

	while (slots[i].key && strcmp(slots[i].key, key))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static void grow(rw_strmap *m)
{
	size_t ncap = m->cap * 2;
	slot *ns = rw_calloc(ncap, sizeof(slot));

	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key)
			*find_slot(ns, ncap, m->slots[i].key) = m->slots[i];
	free(m->slots);
	m->slots = ns;
	m->cap = ncap;
}

void *rw_strmap_get(const rw_strmap *m, const char *key)
{
	return find_slot(m->slots, m->cap, key)->value;
}

void *rw_strmap_put(rw_strmap *m, const char *key, void *value)
{
	slot *s;
	void *old;

	if ((m->count + 1) * 2 > m->cap)
		grow(m);
	s = find_slot(m->slots, m->cap, key);
	if (!s->key) {
		s->key = rw_strdup(key);
		s->value = value;
		m->count++;
		return NULL;
	}
	old = s->value;
	s->value = value;
	return old;
}

size_t rw_strmap_count(const rw_strmap *m)
{
	return m->count;
}

int rw_strmap_next(const char **key, void **value, const rw_strmap *m, size_t *iter)
{
	while (*iter < m->cap) {
		slot *s = &m->slots[(*iter)++];

		if (s->key) {
			*key = s->key;
			if (value)
				*value = s->value;
			return 1;
		}
	}
	return 0;
}

void rw_strmap_free(rw_strmap *m, void (*free_value)(void *))
{
	if (!m)
		return;
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->slots[i].key)
			continue;
		free(m->slots[i].key);
		if (free_value)
			free_value(m->slots[i].value);
	}
	free(m->slots);
	free(m);
}
