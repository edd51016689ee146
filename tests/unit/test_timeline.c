/* timeline: images per digest, dates offered, "as of" plans, gap filling. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "rewind/timeline.h"
#include "rewind/util.h"

/* One tag to add: stamp NULL means undated. */
typedef struct {
	const char *repo, *tag, *digest, *stamp;
} tag_row;

static int64_t T(const char *s)
{
	int64_t t = 0;

	if (rw_time_parse_rfc3339(&t, s) != 0)
		fail_msg("bad stamp '%s'", s);
	return t;
}

/* A set of the repositories in `repos` (NULL-terminated), then the rows. */
static rw_image_set *make_set(const char *const *repos, const tag_row *rows, size_t n)
{
	rw_image_set *set = rw_image_set_new();

	for (; *repos; repos++)
		rw_image_set_add_repo(set, *repos);
	for (size_t i = 0; i < n; i++) {
		const tag_row *r = &rows[i];

		if (rw_image_set_add(set, r->repo, r->tag, r->digest, r->stamp != NULL,
			r->stamp ? T(r->stamp) : 0) != 0)
			fail_msg("add %s:%s: %s", r->repo, r->tag, rw_error_last()->message);
	}
	return set;
}

static rw_timeline *make_timeline(const rw_image_set *set, const char *zone, size_t keep)
{
	rw_tz *tz = NULL;
	rw_timeline *tl = NULL;

	assert_int_equal(rw_tz_new(&tz, zone), 0);
	assert_int_equal(rw_timeline_new(&tl, set, tz, keep), 0);
	rw_tz_free(tz);
	return tl;
}

/* "DAY+ repo=tag ..." per date, newest first, '+' complete / '-' not; " | " between. */
static char *dates_str(const rw_timeline *tl)
{
	rw_buf b = RW_BUF_INIT;

	for (size_t i = 0; i < rw_timeline_date_count(tl); i++) {
		const rw_date *d = rw_timeline_date(tl, i);

		rw_buf_printf(&b, "%s%s%c", i ? " | " : "", d->day, d->complete ? '+' : '-');
		for (size_t j = 0; j < d->changed_count; j++)
			rw_buf_printf(&b, " %s=%s", d->changed[j].repo, d->changed[j].image->tag);
	}
	assert_null(rw_timeline_date(tl, rw_timeline_date_count(tl)));
	return rw_buf_detach(&b);
}

/* "DAY+ repo=tag* ..." ('*' built that day, repo=- when none). */
static char *plan_str(const rw_timeline *tl, const char *day)
{
	rw_plan *plan = NULL;
	rw_buf b = RW_BUF_INIT;

	if (rw_plan_new(&plan, tl, day) != 0)
		fail_msg("plan %s: %s", day, rw_error_last()->message);
	rw_buf_printf(&b, "%s%c", rw_plan_day(plan), rw_plan_complete(plan) ? '+' : '-');
	for (size_t i = 0; i < rw_plan_count(plan); i++) {
		const rw_plan_entry *e = rw_plan_entry_at(plan, i);

		rw_buf_printf(&b, " %s=%s%s", e->repo, e->image ? e->image->tag : "-",
			e->same_day ? "*" : "");
		assert_true(e->image || !e->same_day);
	}
	assert_null(rw_plan_entry_at(plan, rw_plan_count(plan)));
	rw_plan_free(plan);
	return rw_buf_detach(&b);
}

#define assert_dates(tl, want) do { \
	char *got_ = dates_str(tl); \
	if (strcmp(got_, (want))) \
		fail_msg("dates\n got: %s\nwant: %s", got_, (want)); \
	free(got_); \
} while (0)

#define assert_plan(tl, day, want) do { \
	char *got_ = plan_str((tl), (day)); \
	if (strcmp(got_, (want))) \
		fail_msg("plan\n got: %s\nwant: %s", got_, (want)); \
	free(got_); \
} while (0)

/* "tag,tag,..." of a repository's images, in the set's order. */
static char *tags_str(const rw_image_set *set, size_t repo)
{
	const rw_repo_images *r = rw_image_set_repo(set, repo);
	rw_buf b = RW_BUF_INIT;

	for (size_t i = 0; i < r->count; i++)
		rw_buf_printf(&b, "%s%s", i ? "," : "", r->images[i].tag);
	return rw_buf_detach(&b);
}

#define assert_tags(set, repo, want) do { \
	char *got_ = tags_str((set), (repo)); \
	if (strcmp(got_, (want))) \
		fail_msg("tags\n got: %s\nwant: %s", got_, (want)); \
	free(got_); \
} while (0)

static const char *const three[] = { "web", "api", "db", NULL };

static void dates_group_images_by_day_across_repositories(void **state)
{
	static const tag_row rows[] = {
		{ "web", "1.0", "sha256:w0", "2026-11-18T10:00:00Z" },
		{ "web", "1.1", "sha256:w1", "2026-11-19T09:00:00Z" },
		{ "api", "2.0", "sha256:a0", "2026-11-19T15:00:00Z" },
		{ "db", "3.0", "sha256:d0", "2026-11-17T08:00:00Z" },
	};
	rw_image_set *set = make_set(three, rows, RW_ARRAY_SIZE(rows));
	rw_timeline *tl = make_timeline(set, "UTC", 0);

	(void)state;
	assert_int_equal(rw_image_set_count(set), 3);
	assert_string_equal(rw_image_set_repo(set, 1)->name, "api");
	assert_null(rw_image_set_repo(set, 3));
	assert_int_equal(rw_timeline_date_count(tl), 3);
	assert_dates(tl, "2026-11-19+ web=1.1 api=2.0 | 2026-11-18- web=1.0 | 2026-11-17- db=3.0");
	assert_plan(tl, "2026-11-19", "2026-11-19+ web=1.1* api=2.0* db=3.0");
	assert_plan(tl, "2026-11-18", "2026-11-18- web=1.0* api=- db=3.0");
	rw_timeline_free(tl);
	rw_image_set_free(set);
}

/* web releases often, db rarely: as of a day, db runs its last older release. */
static const tag_row gap_rows[] = {
	{ "web", "1.0", "sha256:w0", "2026-11-10T12:00:00Z" },
	{ "web", "1.1", "sha256:w1", "2026-11-15T12:00:00Z" },
	{ "web", "1.2", "sha256:w2", "2026-11-20T12:00:00Z" },
	{ "db", "5.0", "sha256:d0", "2026-11-01T12:00:00Z" },
	{ "db", "5.1", "sha256:d1", "2026-11-12T12:00:00Z" },
};
static const char *const web_db[] = { "web", "db", NULL };

static void as_of_fills_gaps_beyond_the_kept_images(void **state)
{
	rw_image_set *set = make_set(web_db, gap_rows, RW_ARRAY_SIZE(gap_rows));
	rw_timeline *tl = make_timeline(set, "UTC", 1);

	(void)state;
	/* keep 1: only the newest day of each; web's 1.0 is not kept but runs on the 12th. */
	assert_dates(tl, "2026-11-20+ web=1.2 | 2026-11-12+ db=5.1");
	assert_plan(tl, "2026-11-12", "2026-11-12+ web=1.0 db=5.1*");
	assert_plan(tl, "2026-11-15", "2026-11-15+ web=1.1* db=5.1");
	assert_plan(tl, "2026-11-14", "2026-11-14+ web=1.0 db=5.1");
	assert_plan(tl, "2026-11-05", "2026-11-05- web=- db=5.0");
	rw_timeline_free(tl);
	rw_image_set_free(set);
}

static void keep_limits_the_dates_offered(void **state)
{
	rw_image_set *set = make_set(web_db, gap_rows, RW_ARRAY_SIZE(gap_rows));
	rw_timeline *all = make_timeline(set, "UTC", 0);
	rw_timeline *two = make_timeline(set, "UTC", 2);
	rw_timeline *many = make_timeline(set, "UTC", 100);

	(void)state;
	assert_dates(all, "2026-11-20+ web=1.2 | 2026-11-15+ web=1.1 | 2026-11-12+ db=5.1 | "
		"2026-11-10+ web=1.0 | 2026-11-01- db=5.0");
	assert_dates(two, "2026-11-20+ web=1.2 | 2026-11-15+ web=1.1 | 2026-11-12+ db=5.1 | "
		"2026-11-01- db=5.0");
	assert_dates(many, "2026-11-20+ web=1.2 | 2026-11-15+ web=1.1 | 2026-11-12+ db=5.1 | "
		"2026-11-10+ web=1.0 | 2026-11-01- db=5.0");
	rw_timeline_free(all);
	rw_timeline_free(two);
	rw_timeline_free(many);
	rw_image_set_free(set);
}

/* A date is incomplete while a repository has not released yet. */
static void complete_only_when_every_repository_has_an_image(void **state)
{
	static const tag_row rows[] = {
		{ "web", "1.0", "sha256:w0", "2026-11-01T12:00:00Z" },
		{ "web", "1.1", "sha256:w1", "2026-11-03T12:00:00Z" },
		{ "api", "2.0", "sha256:a0", "2026-11-02T12:00:00Z" },
		{ "db", "3.0", "sha256:d0", "2026-11-03T00:00:00Z" },
	};
	rw_image_set *set = make_set(three, rows, RW_ARRAY_SIZE(rows));
	rw_timeline *tl = make_timeline(set, "UTC", 0);

	(void)state;
	assert_dates(tl, "2026-11-03+ web=1.1 db=3.0 | 2026-11-02- api=2.0 | 2026-11-01- web=1.0");
	assert_plan(tl, "2026-11-02", "2026-11-02- web=1.0 api=2.0* db=-");
	assert_plan(tl, "2026-11-03", "2026-11-03+ web=1.1* api=2.0 db=3.0*");
	rw_timeline_free(tl);
	rw_image_set_free(set);
}

/* 23:30 UTC is the next day in Berlin, the same day in Los Angeles. */
static void zone_moves_images_between_days(void **state)
{
	static const tag_row rows[] = {
		{ "web", "1.0", "sha256:w0", "2026-11-19T23:30:00Z" },
		{ "api", "2.0", "sha256:a0", "2026-11-19T12:00:00Z" },
		{ "api", "2.1", "sha256:a1", "2026-11-20T06:00:00Z" },
	};
	static const char *const repos[] = { "web", "api", NULL };
	rw_image_set *set = make_set(repos, rows, RW_ARRAY_SIZE(rows));
	rw_timeline *utc = make_timeline(set, "UTC", 0);
	rw_timeline *berlin = make_timeline(set, "Europe/Berlin", 0);
	rw_timeline *la = make_timeline(set, "America/Los_Angeles", 0);
	rw_timeline *kiritimati = make_timeline(set, "Pacific/Kiritimati", 0);

	(void)state;
	assert_dates(utc, "2026-11-20+ api=2.1 | 2026-11-19+ web=1.0 api=2.0");
	assert_dates(berlin, "2026-11-20+ web=1.0 api=2.1 | 2026-11-19- api=2.0");
	/* All three on one day: the day offers the newest of each. */
	assert_dates(la, "2026-11-19+ web=1.0 api=2.1");
	assert_dates(kiritimati, "2026-11-20+ web=1.0 api=2.1");
	assert_plan(berlin, "2026-11-19", "2026-11-19- web=- api=2.0*");
	assert_plan(la, "2026-11-19", "2026-11-19+ web=1.0* api=2.1*");
	rw_timeline_free(utc);
	rw_timeline_free(berlin);
	rw_timeline_free(la);
	rw_timeline_free(kiritimati);
	rw_image_set_free(set);
}

static void one_digest_under_several_tags_is_one_image(void **state)
{
	/* web adds the tags in one order, api in the other, db adds one twice. */
	static const tag_row rows[] = {
		{ "web", "1.9.0-master", "sha256:x", "2026-11-19T10:00:00Z" },
		{ "web", "1.10.0-master", "sha256:x", "2026-11-19T10:00:00Z" },
		{ "web", "1.8.0-master", "sha256:y", "2026-11-18T10:00:00Z" },
		{ "api", "1.10.0-master", "sha256:x", "2026-11-19T10:00:00Z" },
		{ "api", "1.9.0-master", "sha256:x", "2026-11-19T10:00:00Z" },
		{ "db", "2.0.0-master", "sha256:z", "2026-11-17T10:00:00Z" },
		{ "db", "2.0.0-master", "sha256:z", "2026-11-17T10:00:00Z" },
	};
	rw_image_set *set = make_set(three, rows, RW_ARRAY_SIZE(rows));
	rw_timeline *tl = make_timeline(set, "UTC", 0);

	(void)state;
	assert_int_equal(rw_image_set_repo(set, 0)->count, 2);
	assert_tags(set, 0, "1.10.0-master,1.8.0-master");
	assert_tags(set, 1, "1.10.0-master");
	assert_tags(set, 2, "2.0.0-master");
	assert_string_equal(rw_image_set_repo(set, 0)->images[0].digest, "sha256:x");
	assert_dates(tl, "2026-11-19+ web=1.10.0-master api=1.10.0-master | "
		"2026-11-18- web=1.8.0-master | 2026-11-17- db=2.0.0-master");
	rw_timeline_free(tl);
	rw_image_set_free(set);
}

/* Merging tags keeps a creation time from whichever tag had one. */
static void merged_tags_keep_a_creation_time(void **state)
{
	static const tag_row rows[] = {
		{ "web", "1.0", "sha256:x", NULL },
		{ "web", "1.1", "sha256:x", "2026-11-19T10:00:00Z" },
		{ "web", "2.0", "sha256:y", "2026-11-19T10:00:00Z" },
		{ "web", "2.1", "sha256:y", NULL },
		{ "db", "3.1", "sha256:z", "2026-11-18T10:00:00Z" },
		{ "db", "3.0", "sha256:z", "2026-11-17T10:00:00Z" },
		{ "db", "3.2", "sha256:z", "2026-11-19T10:00:00Z" },
	};
	rw_image_set *set = make_set(web_db, rows, RW_ARRAY_SIZE(rows));
	const rw_repo_images *r = rw_image_set_repo(set, 0);

	(void)state;
	assert_int_equal(r->count, 2);
	assert_tags(set, 0, "2.1,1.1");
	assert_true(r->images[0].dated && r->images[1].dated);
	assert_int_equal(r->images[0].created, T("2026-11-19T10:00:00Z"));
	/* Disagreeing times: the earliest, whichever tag brought it. */
	r = rw_image_set_repo(set, 1);
	assert_int_equal(r->count, 1);
	assert_string_equal(r->images[0].tag, "3.2");
	assert_int_equal(r->images[0].created, T("2026-11-17T10:00:00Z"));
	rw_image_set_free(set);
}

static void undated_images_are_never_offered_nor_chosen(void **state)
{
	static const tag_row rows[] = {
		{ "web", "9.9", "sha256:w9", NULL },
		{ "web", "1.0", "sha256:w0", "2026-11-10T12:00:00Z" },
		{ "web", "0.1", "sha256:w1", NULL },
		{ "db", "5.0", "sha256:d0", NULL },
	};
	rw_image_set *set = make_set(web_db, rows, RW_ARRAY_SIZE(rows));
	rw_timeline *tl = make_timeline(set, "UTC", 1);

	(void)state;
	/* Undated last, in version order among themselves. */
	assert_tags(set, 0, "1.0,9.9,0.1");
	assert_dates(tl, "2026-11-10- web=1.0");
	assert_plan(tl, "2026-11-10", "2026-11-10- web=1.0* db=-");
	assert_plan(tl, "2099-01-01", "2099-01-01- web=1.0 db=-");
	assert_plan(tl, "1970-01-01", "1970-01-01- web=- db=-");
	rw_timeline_free(tl);
	rw_image_set_free(set);
}

static void newest_image_of_a_day_wins(void **state)
{
	static const tag_row rows[] = {
		{ "web", "1.1", "sha256:w1", "2026-11-19T17:00:00Z" },
		{ "web", "1.0", "sha256:w0", "2026-11-19T08:00:00Z" },
		{ "web", "1.2", "sha256:w2", "2026-11-19T12:00:00Z" },
		{ "db", "5.0", "sha256:d0", "2026-11-01T12:00:00Z" },
	};
	rw_image_set *set = make_set(web_db, rows, RW_ARRAY_SIZE(rows));
	rw_timeline *tl = make_timeline(set, "UTC", 0);

	(void)state;
	assert_tags(set, 0, "1.1,1.2,1.0");
	assert_dates(tl, "2026-11-19+ web=1.1 | 2026-11-01- db=5.0");
	assert_plan(tl, "2026-11-19", "2026-11-19+ web=1.1* db=5.0");
	assert_plan(tl, "2026-11-20", "2026-11-20+ web=1.1 db=5.0");
	rw_timeline_free(tl);
	rw_image_set_free(set);
}

/* Equal creation times: version-last tag first, then digest; whatever the adding order. */
static void order_does_not_depend_on_adding_order(void **state)
{
	static const tag_row rows[] = {
		{ "web", "1.2", "sha256:b", "2026-11-19T10:00:00Z" },
		{ "web", "1.10", "sha256:c", "2026-11-19T10:00:00Z" },
		{ "web", "1.9", "sha256:d", "2026-11-19T10:00:00Z" },
		{ "web", "2.0", "sha256:e", "2026-11-18T10:00:00Z" },
		{ "web", "3.0", "sha256:f", NULL },
		{ "web", "1.10", "sha256:a", "2026-11-19T10:00:00Z" },
		{ "db", "1.0", "sha256:g", "2026-11-19T10:00:00Z" },
	};
	tag_row reversed[RW_ARRAY_SIZE(rows)];
	rw_image_set *a, *b;

	(void)state;
	for (size_t i = 0; i < RW_ARRAY_SIZE(rows); i++)
		reversed[i] = rows[RW_ARRAY_SIZE(rows) - 1 - i];
	a = make_set(web_db, rows, RW_ARRAY_SIZE(rows));
	b = make_set(web_db, reversed, RW_ARRAY_SIZE(reversed));
	for (rw_image_set **s = (rw_image_set *[]){ a, b, NULL }; *s; s++) {
		const rw_repo_images *r = rw_image_set_repo(*s, 0);

		assert_tags(*s, 0, "1.10,1.10,1.9,1.2,2.0,3.0");
		assert_string_equal(r->images[0].digest, "sha256:a");
		assert_string_equal(r->images[1].digest, "sha256:c");
	}
	rw_image_set_free(a);
	rw_image_set_free(b);
}

static void plans_before_and_after_every_image(void **state)
{
	rw_image_set *set = make_set(web_db, gap_rows, RW_ARRAY_SIZE(gap_rows));
	rw_timeline *tl = make_timeline(set, "UTC", 0);

	(void)state;
	assert_plan(tl, "2026-10-31", "2026-10-31- web=- db=-");
	assert_plan(tl, "1969-12-31", "1969-12-31- web=- db=-");
	assert_plan(tl, "2030-01-01", "2030-01-01+ web=1.2 db=5.1");
	rw_timeline_free(tl);
	rw_image_set_free(set);
}

static void plan_refuses_bad_days(void **state)
{
	static const char *bad[] = { "2026-02-30", "2026-13-01", "yesterday", "",
		"2026-11-19T00:00:00Z", "2026-11-1", "2026-11-190" };
	rw_image_set *set = make_set(web_db, gap_rows, RW_ARRAY_SIZE(gap_rows));
	rw_timeline *tl = make_timeline(set, "UTC", 0);

	(void)state;
	for (size_t i = 0; i < RW_ARRAY_SIZE(bad); i++) {
		rw_plan *plan = NULL;

		assert_int_equal(rw_plan_new(&plan, tl, bad[i]), RW_ERROR);
		assert_null(plan);
		assert_int_equal(rw_error_last()->klass, RW_ERR_USAGE);
	}
	assert_string_equal(rw_error_last()->message,
		"invalid date '2026-11-190': expected YYYY-MM-DD");
	rw_error_clear();
	rw_timeline_free(tl);
	rw_image_set_free(set);
}

static void adding_to_an_unknown_repository_fails(void **state)
{
	rw_image_set *set = rw_image_set_new();

	(void)state;
	rw_image_set_add_repo(set, "web");
	rw_image_set_add_repo(set, "db");
	rw_image_set_add_repo(set, "web");
	assert_int_equal(rw_image_set_count(set), 2);
	assert_string_equal(rw_image_set_repo(set, 0)->name, "web");
	assert_int_equal(rw_image_set_add(set, "api", "1.0", "sha256:a", true, 0), RW_ERROR);
	assert_int_equal(rw_error_last()->klass, RW_ERR_INTERNAL);
	assert_error_contains("'api'");
	rw_error_clear();
	assert_int_equal(rw_image_set_repo(set, 0)->count, 0);
	rw_image_set_free(set);
	rw_image_set_free(NULL);
}

static void empty_sets_make_empty_timelines(void **state)
{
	static const char *const none[] = { NULL };
	rw_image_set *empty = make_set(none, NULL, 0);
	rw_image_set *bare = make_set(web_db, NULL, 0);
	rw_timeline *tl_empty = make_timeline(empty, "UTC", 0);
	rw_timeline *tl_bare = make_timeline(bare, "UTC", 0);

	(void)state;
	assert_int_equal(rw_timeline_date_count(tl_empty), 0);
	assert_int_equal(rw_timeline_date_count(tl_bare), 0);
	/* No repository: nothing is missing. */
	assert_plan(tl_empty, "2026-11-19", "2026-11-19+");
	assert_plan(tl_bare, "2026-11-19", "2026-11-19- web=- db=-");
	rw_timeline_free(tl_empty);
	rw_timeline_free(tl_bare);
	rw_timeline_free(NULL);
	rw_plan_free(NULL);
	rw_image_set_free(empty);
	rw_image_set_free(bare);
}

/*
 * In St. John's summer time ended at 00:01 on 2010-11-07, back to 23:01 on
 * the 6th: the newest image is a day earlier than the one before it.
 */
static void as_of_survives_days_going_backwards(void **state)
{
	static const tag_row rows[] = {
		{ "web", "1.0", "sha256:w0", "2010-11-05T12:00:00Z" },
		{ "web", "1.1", "sha256:w1", "2010-11-07T02:30:30Z" },  /* 00:00:30 on the 7th */
		{ "web", "1.2", "sha256:w2", "2010-11-07T02:32:00Z" },  /* 23:02 on the 6th */
	};
	rw_image_set *set = make_set(web_db, rows, RW_ARRAY_SIZE(rows));
	rw_timeline *tl = make_timeline(set, "America/St_Johns", 0);

	(void)state;
	/* On the 7th the newest image on or before it is 1.2, built "on the 6th". */
	assert_dates(tl, "2010-11-07- | 2010-11-06- web=1.2 | 2010-11-05- web=1.0");
	assert_plan(tl, "2010-11-07", "2010-11-07- web=1.2 db=-");
	assert_plan(tl, "2010-11-06", "2010-11-06- web=1.2* db=-");
	assert_plan(tl, "2010-11-05", "2010-11-05- web=1.0* db=-");
	rw_timeline_free(tl);
	rw_image_set_free(set);
}

/*
 * 200 repositories of 5000 images: anything quadratic in the images or
 * calling the zone code more than once per image shows here.
 */
static void scales_to_many_repositories_and_images(void **state)
{
	enum { REPOS = 200, IMAGES = 5000 };
	const int64_t base = T("2020-01-01T00:00:00Z");
	rw_image_set *set = rw_image_set_new();
	rw_timeline *tl;
	long long start = rw_now_ms();
	char names[REPOS][32], tag[48], digest[48];

	(void)state;
	for (int r = 0; r < REPOS; r++) {
		snprintf(names[r], sizeof(names[r]), "team/svc%d", r);
		rw_image_set_add_repo(set, names[r]);
	}
	/* Repositories interleaved; every 10th image has a second tag. */
	for (int i = 0; i < IMAGES; i++)
		for (int r = 0; r < REPOS; r++) {
			snprintf(digest, sizeof(digest), "sha256:%d-%d", r, i);
			for (int k = 0; k < (i % 10 ? 1 : 2); k++) {
				snprintf(tag, sizeof(tag), "1.%d.%d-master", i, k);
				assert_int_equal(rw_image_set_add(set, names[r], tag, digest, true,
					base + (int64_t)i * 7 * 3600 + r * 60), 0);
			}
		}
	assert_int_equal(rw_image_set_repo(set, REPOS - 1)->count, IMAGES);
	tl = make_timeline(set, "Europe/Berlin", 0);
	/* 5000 images 7 hours apart span 1459 days. */
	assert_int_equal(rw_timeline_date_count(tl), 1459);
	assert_int_equal(rw_timeline_date(tl, 0)->changed_count, REPOS);
	assert_true(rw_timeline_date(tl, 0)->complete);
	assert_string_equal(rw_timeline_date(tl, 0)->changed[0].image->tag, "1.4999.0-master");
	assert_string_equal(rw_timeline_date(tl, 1458)->changed[0].image->tag, "1.3.0-master");
	assert_string_equal(rw_timeline_date(tl, 1458)->day, "2020-01-01");
	assert_int_equal(rw_timeline_date(tl, 1458)->changed_count, REPOS);
	for (unsigned i = 0; i < 1000; i++) {
		char day[16];
		rw_plan *plan;

		snprintf(day, sizeof(day), "2021-%02u-%02u", i % 12 + 1, i % 28 + 1);
		assert_int_equal(rw_plan_new(&plan, tl, day), 0);
		assert_true(rw_plan_complete(plan));
		rw_plan_free(plan);
	}
	print_message("scale: %lld ms\n", rw_now_ms() - start);
	rw_timeline_free(tl);
	rw_image_set_free(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dates_group_images_by_day_across_repositories),
		cmocka_unit_test(as_of_fills_gaps_beyond_the_kept_images),
		cmocka_unit_test(keep_limits_the_dates_offered),
		cmocka_unit_test(complete_only_when_every_repository_has_an_image),
		cmocka_unit_test(zone_moves_images_between_days),
		cmocka_unit_test(one_digest_under_several_tags_is_one_image),
		cmocka_unit_test(merged_tags_keep_a_creation_time),
		cmocka_unit_test(undated_images_are_never_offered_nor_chosen),
		cmocka_unit_test(newest_image_of_a_day_wins),
		cmocka_unit_test(order_does_not_depend_on_adding_order),
		cmocka_unit_test(plans_before_and_after_every_image),
		cmocka_unit_test(plan_refuses_bad_days),
		cmocka_unit_test(adding_to_an_unknown_repository_fails),
		cmocka_unit_test(empty_sets_make_empty_timelines),
		cmocka_unit_test(as_of_survives_days_going_backwards),
		cmocka_unit_test(scales_to_many_repositories_and_images),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
