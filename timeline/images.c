/* The image set: every repository's images, one per digest, newest first. */
#include "rewind/timeline.h"
#include "rewind/errors.h"
#include "rewind/strmap.h"
#include "rewind/util.h"

#include <stdlib.h>
#include <string.h>

struct repo {
	char *name;
	rw_image *images;
	size_t count, alloc;
	/*
	 * Tags are appended as they come and merged and sorted only when the
	 * images are read: merging on every add would mean a look-up per tag
	 * and re-sorting per tag would be quadratic.
	 */
	bool dirty;
	rw_repo_images view;
};

struct rw_image_set {
	struct repo **repos;
	size_t count, alloc;
	rw_strmap *by_name; /* name -> struct repo * */
};

rw_image_set *rw_image_set_new(void)
{
	rw_image_set *set = rw_calloc(1, sizeof(*set));

	set->by_name = rw_strmap_new();
	return set;
}

void rw_image_set_add_repo(rw_image_set *set, const char *repo)
{
	struct repo *r;

	/* Adding a repository twice keeps its first position. */
	if (rw_strmap_get(set->by_name, repo))
		return;
	r = rw_calloc(1, sizeof(*r));
	r->name = rw_strdup(repo);
	r->view.name = r->name;
	if (set->count == set->alloc) {
		set->alloc = set->alloc ? set->alloc * 2 : 8;
		set->repos = rw_realloc(set->repos, set->alloc * sizeof(*set->repos));
	}
	set->repos[set->count++] = r;
	rw_strmap_put(set->by_name, repo, r);
}

int rw_image_set_add(rw_image_set *set, const char *repo, const char *tag,
	const char *digest, bool dated, int64_t created)
{
	struct repo *r = rw_strmap_get(set->by_name, repo);
	rw_image *img;

	if (!r)
		return rw_error_set(RW_ERR_INTERNAL,
			"tag '%s' of repository '%s', which is not in the image set", tag, repo);
	if (r->count == r->alloc) {
		r->alloc = r->alloc ? r->alloc * 2 : 16;
		r->images = rw_realloc(r->images, r->alloc * sizeof(*r->images));
	}
	img = &r->images[r->count++];
	img->tag = rw_strdup(tag);
	img->digest = rw_strdup(digest);
	img->dated = dated;
	img->created = dated ? created : 0;
	r->dirty = true;
	return 0;
}

size_t rw_image_set_count(const rw_image_set *set)
{
	return set->count;
}

/* Version order, then bytes, so that no two different tags tie. */
static int tag_cmp(const char *a, const char *b)
{
	int c = rw_str_vercmp(a, b);

	return c ? c : strcmp(a, b);
}

static int cmp_digest(const void *pa, const void *pb)
{
	const rw_image *a = pa, *b = pb;

	return strcmp(a->digest, b->digest);
}

/* Newest first, undated last; ties by tag (version-last first), then digest. */
static int cmp_newest_first(const void *pa, const void *pb)
{
	const rw_image *a = pa, *b = pb;
	int c;

	if (a->dated != b->dated)
		return a->dated ? -1 : 1;
	if (a->dated && a->created != b->created)
		return a->created > b->created ? -1 : 1;
	c = tag_cmp(b->tag, a->tag);
	return c ? c : strcmp(a->digest, b->digest);
}

/*
 * Folds dup (same digest) into keep. The result does not depend on the
 * order tags were added: the version-last tag, and the earliest creation
 * time any tag carried (one digest has one config, so they should agree;
 * undated only when no tag had a time).
 */
static void merge_image(rw_image *keep, rw_image *dup)
{
	if (tag_cmp(dup->tag, keep->tag) > 0) {
		char *t = keep->tag;

		keep->tag = dup->tag;
		dup->tag = t;
	}
	if (dup->dated && (!keep->dated || dup->created < keep->created)) {
		keep->dated = true;
		keep->created = dup->created;
	}
	free(dup->tag);
	free(dup->digest);
}

/* One image per digest, sorted newest first. */
static void repo_finish(struct repo *r)
{
	size_t n = 0;

	if (!r->dirty)
		return;
	if (r->count)
		qsort(r->images, r->count, sizeof(*r->images), cmp_digest);
	for (size_t i = 0; i < r->count; i++) {
		if (n && !strcmp(r->images[n - 1].digest, r->images[i].digest))
			merge_image(&r->images[n - 1], &r->images[i]);
		else
			r->images[n++] = r->images[i];
	}
	r->count = n;
	if (n)
		qsort(r->images, n, sizeof(*r->images), cmp_newest_first);
	r->view.images = r->images;
	r->view.count = n;
	r->dirty = false;
}

const rw_repo_images *rw_image_set_repo(const rw_image_set *set, size_t i)
{
	struct repo *r;

	if (i >= set->count)
		return NULL;
	/* The set is never const itself: only the pending sort changes. */
	r = set->repos[i];
	repo_finish(r);
	return &r->view;
}

void rw_image_set_free(rw_image_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->count; i++) {
		struct repo *r = set->repos[i];

		for (size_t j = 0; j < r->count; j++) {
			free(r->images[j].tag);
			free(r->images[j].digest);
		}
		free(r->images);
		free(r->name);
		free(r);
	}
	free(set->repos);
	rw_strmap_free(set->by_name, NULL);
	free(set);
}
