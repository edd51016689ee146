/* Dates offered and the "as of" selection of one image per repository. */
#include "rewind/timeline.h"
#include "rewind/errors.h"
#include "rewind/util.h"

#include <stdlib.h>
#include <string.h>

/* What the timeline knows of one repository. */
struct tl_repo {
	const rw_repo_images *view; /* images newest first, dated ones first */
	size_t dated;               /* images[0..dated) are dated */
	char (*days)[RW_DAY_MAX];   /* the day of each dated image */
	/*
	 * low[i]: index of the earliest day among days[0..i]. Days almost
	 * always fall as images get older, but not quite: where summer time
	 * ended at 00:01 (St. John's until 2011) a newer image can be a day
	 * earlier. The prefix minimum always falls, so "the newest image on or
	 * before D" stays a binary search.
	 */
	size_t *low;
};

struct rw_timeline {
	struct tl_repo *repos;
	size_t repo_count;
	rw_date *dates;
	size_t date_count;
};

struct rw_plan {
	char day[RW_DAY_MAX];
	bool complete;
	rw_plan_entry *entries;
	size_t count;
};

/* Computes each dated image's day once: rw_tz_day is the costly part. */
static void repo_init(struct tl_repo *r, const rw_repo_images *view, const rw_tz *tz)
{
	size_t n = 0;

	while (n < view->count && view->images[n].dated)
		n++;
	r->view = view;
	r->dated = n;
	r->days = rw_malloc(n * sizeof(*r->days));
	r->low = rw_malloc(n * sizeof(*r->low));
	for (size_t i = 0; i < n; i++) {
		rw_tz_day(r->days[i], tz, view->images[i].created);
		r->low[i] = i && strcmp(r->days[r->low[i - 1]], r->days[i]) <= 0 ? r->low[i - 1] : i;
	}
}

/* The index of the newest image on or before day; r->dated when none. */
static size_t repo_as_of(const struct tl_repo *r, const char *day)
{
	size_t lo = 0, hi = r->dated;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(r->days[r->low[mid]], day) <= 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static int cmp_day_desc(const void *pa, const void *pb)
{
	const char *const *a = pa, *const *b = pb;

	return strcmp(*b, *a);
}

/* The days of each repository's newest `keep` dated images, newest first, once each. */
static size_t offered_days(const char ***out, const rw_timeline *tl, size_t keep)
{
	const char **days = NULL;
	size_t n = 0, alloc = 0, u = 0;

	for (size_t i = 0; i < tl->repo_count; i++) {
		const struct tl_repo *r = &tl->repos[i];
		size_t k = keep && keep < r->dated ? keep : r->dated;

		for (size_t j = 0; j < k; j++) {
			/* Consecutive images mostly share a day: skip the repeats early. */
			if (j && !strcmp(r->days[j - 1], r->days[j]))
				continue;
			if (n == alloc) {
				alloc = alloc ? alloc * 2 : 64;
				days = rw_realloc(days, alloc * sizeof(*days));
			}
			days[n++] = r->days[j];
		}
	}
	if (n)
		qsort(days, n, sizeof(*days), cmp_day_desc);
	for (size_t i = 0; i < n; i++)
		if (!u || strcmp(days[u - 1], days[i]))
			days[u++] = days[i];
	*out = days;
	return u;
}

/* Fills date for day; scratch has room for one change per repository. */
static void date_init(rw_date *date, const rw_timeline *tl, const char *day, rw_change *scratch)
{
	size_t n = 0;

	memcpy(date->day, day, RW_DAY_MAX);
	date->complete = true;
	for (size_t i = 0; i < tl->repo_count; i++) {
		const struct tl_repo *r = &tl->repos[i];
		size_t at = repo_as_of(r, day);

		if (at == r->dated) {
			date->complete = false;
			continue;
		}
		if (!strcmp(r->days[at], day)) {
			scratch[n].repo = r->view->name;
			scratch[n].image = &r->view->images[at];
			n++;
		}
	}
	date->changed_count = n;
	if (n) {
		rw_change *changed = rw_malloc(n * sizeof(*changed));

		memcpy(changed, scratch, n * sizeof(*changed));
		date->changed = changed;
	}
}

int rw_timeline_new(rw_timeline **out, const rw_image_set *set, const rw_tz *tz, size_t keep)
{
	rw_timeline *tl = rw_calloc(1, sizeof(*tl));
	const char **days;
	rw_change *scratch;

	tl->repo_count = rw_image_set_count(set);
	tl->repos = rw_calloc(tl->repo_count, sizeof(*tl->repos));
	for (size_t i = 0; i < tl->repo_count; i++)
		repo_init(&tl->repos[i], rw_image_set_repo(set, i), tz);
	tl->date_count = offered_days(&days, tl, keep);
	tl->dates = rw_calloc(tl->date_count, sizeof(*tl->dates));
	scratch = rw_malloc(tl->repo_count * sizeof(*scratch));
	for (size_t i = 0; i < tl->date_count; i++)
		date_init(&tl->dates[i], tl, days[i], scratch);
	free(scratch);
	free(days);
	*out = tl;
	return 0;
}

size_t rw_timeline_date_count(const rw_timeline *tl)
{
	return tl->date_count;
}

const rw_date *rw_timeline_date(const rw_timeline *tl, size_t i)
{
	return i < tl->date_count ? &tl->dates[i] : NULL;
}

void rw_timeline_free(rw_timeline *tl)
{
	if (!tl)
		return;
	for (size_t i = 0; i < tl->repo_count; i++) {
		free(tl->repos[i].days);
		free(tl->repos[i].low);
	}
	for (size_t i = 0; i < tl->date_count; i++)
		free((void *)tl->dates[i].changed);
	free(tl->repos);
	free(tl->dates);
	free(tl);
}

int rw_plan_new(rw_plan **out, const rw_timeline *tl, const char *day)
{
	rw_plan *plan;

	if (rw_day_validate(day) < 0)
		return RW_ERROR;
	plan = rw_calloc(1, sizeof(*plan));
	memcpy(plan->day, day, RW_DAY_MAX);
	plan->complete = true;
	plan->count = tl->repo_count;
	plan->entries = rw_calloc(plan->count, sizeof(*plan->entries));
	for (size_t i = 0; i < plan->count; i++) {
		const struct tl_repo *r = &tl->repos[i];
		rw_plan_entry *e = &plan->entries[i];
		size_t at = repo_as_of(r, day);

		e->repo = r->view->name;
		if (at == r->dated) {
			plan->complete = false;
			continue;
		}
		e->image = &r->view->images[at];
		e->same_day = !strcmp(r->days[at], day);
	}
	*out = plan;
	return 0;
}

const char *rw_plan_day(const rw_plan *plan)
{
	return plan->day;
}

bool rw_plan_complete(const rw_plan *plan)
{
	return plan->complete;
}

size_t rw_plan_count(const rw_plan *plan)
{
	return plan->count;
}

const rw_plan_entry *rw_plan_entry_at(const rw_plan *plan, size_t i)
{
	return i < plan->count ? &plan->entries[i] : NULL;
}

void rw_plan_free(rw_plan *plan)
{
	if (!plan)
		return;
	free(plan->entries);
	free(plan);
}
