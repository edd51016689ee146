/*
 * The release timeline: the images of every repository, grouped by the
 * calendar day they were built, and the "as of" selection that turns a
 * chosen day into one image per repository (gap filling).
 *
 * Semantics (README, "How dates are computed"):
 * - several tags on one digest are one image, reported under the tag that
 *   sorts last in version order;
 * - an image's day is the day of its creation time in the chosen zone;
 * - dates offered are the days of the newest `keep` images of each
 *   repository (keep 0: all), newest first;
 * - as of D, a repository runs its newest image whose day is on or before D,
 *   looked for among all its images;
 * - a date is complete when every repository has an image as of it.
 */
#ifndef REWIND_TIMELINE_H
#define REWIND_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rewind/datetime.h"

typedef struct {
	char *tag;       /* the tag reported for this image */
	char *digest;    /* manifest digest; a multi-arch list's own digest */
	bool dated;      /* false: no usable creation time, offered nowhere */
	int64_t created; /* seconds since the epoch, when dated */
} rw_image;

/* The images of the repositories, in the order the repositories were added. */
typedef struct rw_image_set rw_image_set;

typedef struct {
	const char *name;
	const rw_image *images; /* newest first: see rw_image_set_repo */
	size_t count;
} rw_repo_images;

rw_image_set *rw_image_set_new(void);
/* Adds a repository (its position is its order everywhere; again: no effect). */
void rw_image_set_add_repo(rw_image_set *set, const char *repo);
/*
 * Adds one tag of a repository already added (RW_ERR_INTERNAL otherwise).
 * Tags on a digest already present merge into that image, which keeps the
 * tag that sorts last and the earliest creation time any of its tags had
 * (dated when any was). Adding a tag twice is harmless.
 */
int rw_image_set_add(rw_image_set *set, const char *repo, const char *tag,
	const char *digest, bool dated, int64_t created);
size_t rw_image_set_count(const rw_image_set *set);
/*
 * The i-th repository (NULL past the end); images sorted newest first (ties:
 * the version-last tag first, then by digest), undated ones last. Valid
 * until the set is changed or freed.
 */
const rw_repo_images *rw_image_set_repo(const rw_image_set *set, size_t i);
void rw_image_set_free(rw_image_set *set);

/*
 * A timeline, its dates and the plans made from it point into the image set
 * (repository names, images): keep the set alive and unchanged until they
 * are all freed.
 */
typedef struct rw_timeline rw_timeline;

typedef struct {
	const char *repo;
	const rw_image *image;
} rw_change;

typedef struct {
	char day[RW_DAY_MAX];
	bool complete;
	/* per repository with an image that day, the image a rollback to the
	 * day deploys (its newest of the day); in repository order */
	const rw_change *changed;
	size_t changed_count;
} rw_date;

int rw_timeline_new(rw_timeline **out, const rw_image_set *set, const rw_tz *tz, size_t keep);
size_t rw_timeline_date_count(const rw_timeline *tl);
/* The i-th date offered, newest first. */
const rw_date *rw_timeline_date(const rw_timeline *tl, size_t i);
void rw_timeline_free(rw_timeline *tl);

typedef struct {
	const char *repo;
	const rw_image *image; /* NULL: no image as of the date */
	bool same_day;         /* the image was built on the date itself */
} rw_plan_entry;

typedef struct rw_plan rw_plan;

/* The image of every repository as of day (YYYY-MM-DD, in the timeline's zone). */
int rw_plan_new(rw_plan **out, const rw_timeline *tl, const char *day);
const char *rw_plan_day(const rw_plan *plan);
bool rw_plan_complete(const rw_plan *plan);
size_t rw_plan_count(const rw_plan *plan);
const rw_plan_entry *rw_plan_entry_at(const rw_plan *plan, size_t i);
void rw_plan_free(rw_plan *plan);

#endif
