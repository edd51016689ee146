/* datetime: RFC 3339 parsing, UTC formatting, day validation, zones and days. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "unit.h"
#include "rewind/datetime.h"

/* Parses s, failing the test when it is not accepted. */
static int64_t T(const char *s)
{
	int64_t t = 0;

	if (rw_time_parse_rfc3339(&t, s) != 0)
		fail_msg("'%s' rejected: %s", s, rw_error_last()->message);
	return t;
}

static void assert_rejected(const char *s)
{
	int64_t t = 12345;

	if (rw_time_parse_rfc3339(&t, s) != RW_ERROR)
		fail_msg("'%s' accepted as %lld", s, (long long)t);
	assert_int_equal(t, 12345);
	assert_int_equal(rw_error_last()->klass, RW_ERR_PROTOCOL);
	assert_error_contains("invalid RFC 3339 time");
	rw_error_clear();
}

static rw_tz *zone(const char *name)
{
	rw_tz *tz = NULL;

	if (rw_tz_new(&tz, name) != 0)
		fail_msg("zone '%s' rejected: %s", name, rw_error_last()->message);
	return tz;
}

/* The day of the instant `stamp` in zone `name`. */
static void assert_day(const char *name, const char *stamp, const char *want)
{
	rw_tz *tz = zone(name);
	char day[RW_DAY_MAX];

	rw_tz_day(day, tz, T(stamp));
	if (strcmp(day, want))
		fail_msg("%s in %s: got %s, want %s", stamp, name, day, want);
	rw_tz_free(tz);
}

static void parse_accepts_rfc3339_forms(void **state)
{
	(void)state;
	assert_int_equal(T("2026-11-19T10:01:02Z"), 1795082462);
	assert_int_equal(T("2026-11-19t10:01:02z"), 1795082462);
	/* Fractions of any length are dropped, never rounded. */
	assert_int_equal(T("2026-11-19T10:01:02.9Z"), 1795082462);
	assert_int_equal(T("2026-11-19T10:01:02.999999999999999999Z"), 1795082462);
	assert_int_equal(T("2026-11-19T10:01:02.123456789+01:00"), 1795078862);
	assert_int_equal(T("2026-11-19T10:01:02-05:30"), 1795102262);
	assert_int_equal(T("2026-11-19T10:01:02-00:00"), 1795082462);
	assert_int_equal(T("2026-11-19T10:01:02+00:00"), 1795082462);
	assert_int_equal(T("2024-02-29T12:00:00Z"), 1709208000);
	assert_int_equal(T("2000-02-29T00:00:00Z"), 951782400);
	assert_int_equal(T("9999-12-31T23:59:59Z"), 253402300799LL);
	/* A leap second is the first second of the next minute. */
	assert_int_equal(T("2016-12-31T23:59:60Z"), 1483228799 + 1);
}

static void parse_handles_the_epoch_and_before(void **state)
{
	(void)state;
	assert_int_equal(T("1970-01-01T00:00:00Z"), 0);
	assert_int_equal(T("1969-12-31T23:00:00Z"), -3600);
	assert_int_equal(T("1970-01-01T00:00:00+14:00"), -50400);
	assert_int_equal(T("1969-01-01T00:00:00Z"), -365 * 86400);
}

static void parse_rejects_what_is_not_rfc3339(void **state)
{
	static const char *bad[] = {
		"", "garbage", "2026-11-19", "2026-11-19T10:01:02",
		"2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-01-00T00:00:00Z",
		"2026-02-30T00:00:00Z", "2026-02-29T00:00:00Z", "1900-02-29T00:00:00Z",
		"2026-04-31T00:00:00Z", "2026-11-19T24:00:00Z", "2026-11-19T10:60:00Z",
		"2026-11-19T10:01:61Z", "2026-11-19 10:01:02Z", "2026-11-19T10:01:02ZZ",
		"2026-11-19T10:01:02Z ", " 2026-11-19T10:01:02Z", "2026-11-19T10:01:02.Z",
		"2026-11-19T10:01:02+0100", "2026-11-19T10:01:02+01", "2026-11-19T10:01:02+24:00",
		"2026-11-19T10:01:02+01:60", "2026-11-19T10:01:02+01:00x", "26-11-19T10:01:02Z",
		"2026-1-19T10:01:02Z", "2026-11-19T1:01:02Z", "2026-11-19T10:01Z",
		"+2026-11-19T10:01:02Z", "2026-11-19T10:01:02,5Z", "2026-11-19X10:01:02Z",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_rejected(bad[i]);
}

static void parse_error_quotes_a_safe_excerpt(void **state)
{
	char long_s[200];
	int64_t t;

	(void)state;
	assert_int_equal(rw_time_parse_rfc3339(&t, "2026-02-30T00:00:00Z"), RW_ERROR);
	assert_string_equal(rw_error_last()->message,
		"invalid RFC 3339 time '2026-02-30T00:00:00Z'");
	assert_int_equal(rw_time_parse_rfc3339(&t, "bad\033[2J\n"), RW_ERROR);
	assert_string_equal(rw_error_last()->message, "invalid RFC 3339 time 'bad?[2J?'");
	memset(long_s, 'x', sizeof(long_s) - 1);
	long_s[sizeof(long_s) - 1] = '\0';
	assert_int_equal(rw_time_parse_rfc3339(&t, long_s), RW_ERROR);
	assert_true(strlen(rw_error_last()->message) < 100);
	assert_error_contains("xxx...'");
	rw_error_clear();
}

static void format_utc_known_instants(void **state)
{
	char s[RW_STAMP_MAX];

	(void)state;
	rw_time_format_utc(s, 0);
	assert_string_equal(s, "1970-01-01T00:00:00Z");
	rw_time_format_utc(s, -1);
	assert_string_equal(s, "1969-12-31T23:59:59Z");
	rw_time_format_utc(s, 1795082462);
	assert_string_equal(s, "2026-11-19T10:01:02Z");
	rw_time_format_utc(s, 951782400);
	assert_string_equal(s, "2000-02-29T00:00:00Z");
	rw_time_format_utc(s, 253402300799LL);
	assert_string_equal(s, "9999-12-31T23:59:59Z");
	/* Nonsense instants must not overflow the buffer. */
	rw_time_format_utc(s, INT64_MAX);
	assert_true(strlen(s) < RW_STAMP_MAX);
	rw_time_format_utc(s, INT64_MIN);
	assert_true(strlen(s) < RW_STAMP_MAX);
}

/* Our calendar arithmetic agrees with the C library's over 1900..9999. */
static void format_and_parse_agree_with_gmtime(void **state)
{
	const int64_t from = -2208988800LL, to = 253402300799LL;
	char ours[RW_STAMP_MAX], libc[RW_STAMP_MAX];

	(void)state;
	/* An odd step visits every time of day and every month over the run. */
	for (int64_t t = from; t <= to; t += 86400 * 7 + 3607) {
		time_t tt = (time_t)t;
		struct tm tm;

		assert_non_null(gmtime_r(&tt, &tm));
		strftime(libc, sizeof(libc), "%Y-%m-%dT%H:%M:%SZ", &tm);
		rw_time_format_utc(ours, t);
		if (strcmp(ours, libc))
			fail_msg("%lld: ours %s, libc %s", (long long)t, ours, libc);
		assert_int_equal(T(ours), t);
	}
}

static void epoch_is_the_first_day_of_1970(void **state)
{
	(void)state;
	assert_true(rw_time_is_epoch(0));
	assert_true(rw_time_is_epoch(86399));
	assert_true(rw_time_is_epoch(T("1970-01-01T12:00:00Z")));
	assert_false(rw_time_is_epoch(86400));
	assert_false(rw_time_is_epoch(-1));
	assert_false(rw_time_is_epoch(T("2026-11-19T10:01:02Z")));
}

static void day_validate_accepts_real_days_only(void **state)
{
	static const char *good[] = { "2026-11-19", "2024-02-29", "2000-02-29", "2026-12-31",
		"2026-01-01", "1969-12-31" };
	static const char *bad[] = { "2026-02-29", "2100-02-29", "2026-13-01", "2026-00-10",
		"2026-01-00", "2026-04-31", "2026-1-01", "2026-01-1", "26-01-01", "2026-01-01x",
		" 2026-01-01", "2026/01/01", "", "today", "2026-01-01T00:00:00Z" };

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (rw_day_validate(good[i]) != 0)
			fail_msg("'%s' rejected", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (rw_day_validate(bad[i]) != RW_ERROR)
			fail_msg("'%s' accepted", bad[i]);
		assert_int_equal(rw_error_last()->klass, RW_ERR_USAGE);
	}
	assert_int_equal(rw_day_validate("2026-02-30"), RW_ERROR);
	assert_string_equal(rw_error_last()->message,
		"invalid date '2026-02-30': expected YYYY-MM-DD");
	rw_error_clear();
}

static void tz_new_knows_utc_and_installed_zones(void **state)
{
	static const char *names[] = { "UTC", "Etc/UTC", "Europe/Berlin", "America/New_York",
		"Asia/Kolkata" };

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		rw_tz *tz = zone(names[i]);

		assert_string_equal(rw_tz_name(tz), names[i]);
		rw_tz_free(tz);
	}
	rw_tz_free(NULL);
}

static void tz_new_rejects_unknown_and_unsafe_names(void **state)
{
	/* A directory, a non-TZif file of the database, escapes and junk. */
	static const char *bad[] = { "Mars/Olympus", "", "Europe", "zone.tab",
		"../../../etc/passwd", "Europe/../Europe/Berlin", "/usr/share/zoneinfo/UTC",
		"Z", "utc" };
	rw_tz *tz = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (rw_tz_new(&tz, bad[i]) != RW_ERROR)
			fail_msg("zone '%s' accepted", bad[i]);
		assert_int_equal(rw_error_last()->klass, RW_ERR_USAGE);
	}
	assert_null(tz);
	assert_int_equal(rw_tz_new(&tz, "Mars/Olympus"), RW_ERROR);
	assert_string_equal(rw_error_last()->message,
		"unknown time zone 'Mars/Olympus' (see /usr/share/zoneinfo)");
	rw_error_clear();
}

static void tz_new_looks_in_tzdir(void **state)
{
	rw_tz *utc = NULL, *etc_utc = NULL, *rel = NULL, *abs = NULL, *berlin = NULL;
	int rc_berlin, rc_utc, rc_etc_utc, rc_rel, rc_abs;
	char *msg;

	(void)state;
	/* Results first, then TZDIR back: a failed assert must not leave it set. */
	setenv("TZDIR", "/nonexistent", 1);
	rc_berlin = rw_tz_new(&berlin, "Europe/Berlin");
	msg = strdup(rw_error_last() ? rw_error_last()->message : "");
	/* UTC needs no zone database at all. */
	rc_utc = rw_tz_new(&utc, "UTC");
	rc_etc_utc = rw_tz_new(&etc_utc, "Etc/UTC");
	/* Absolute names are refused even where they would resolve. */
	setenv("TZDIR", "/", 1);
	rc_rel = rw_tz_new(&rel, "usr/share/zoneinfo/Europe/Berlin");
	rc_abs = rw_tz_new(&abs, "/usr/share/zoneinfo/Europe/Berlin");
	unsetenv("TZDIR");
	rw_error_clear();

	assert_int_equal(rc_berlin, RW_ERROR);
	assert_null(berlin);
	assert_string_equal(msg, "unknown time zone 'Europe/Berlin' (see /nonexistent)");
	assert_int_equal(rc_utc, 0);
	assert_int_equal(rc_etc_utc, 0);
	assert_int_equal(rc_rel, 0);
	assert_int_equal(rc_abs, RW_ERROR);
	assert_null(abs);
	free(msg);
	rw_tz_free(utc);
	rw_tz_free(etc_utc);
	rw_tz_free(rel);
}

static void tz_day_buckets_across_zones(void **state)
{
	(void)state;
	assert_day("UTC", "2026-11-19T23:30:00Z", "2026-11-19");
	assert_day("Etc/UTC", "2026-11-19T23:30:00Z", "2026-11-19");
	assert_day("Europe/Berlin", "2026-11-19T23:30:00Z", "2026-11-20");
	assert_day("Europe/Berlin", "2026-11-19T22:59:59Z", "2026-11-19");
	assert_day("Asia/Kolkata", "2026-11-19T18:29:59Z", "2026-11-19");
	assert_day("Asia/Kolkata", "2026-11-19T18:30:00Z", "2026-11-20");
	assert_day("Pacific/Kiritimati", "2026-11-19T09:59:59Z", "2026-11-19");
	assert_day("Pacific/Kiritimati", "2026-11-19T10:00:00Z", "2026-11-20");
	assert_day("America/Los_Angeles", "2026-11-20T07:59:59Z", "2026-11-19");
	assert_day("America/Los_Angeles", "2026-11-20T08:00:00Z", "2026-11-20");
	assert_day("America/Los_Angeles", "2026-07-20T06:59:59Z", "2026-07-19");
	assert_day("America/Los_Angeles", "2026-07-20T07:00:00Z", "2026-07-20");
	assert_day("America/New_York", "1970-01-01T00:00:00Z", "1969-12-31");
	assert_day("UTC", "1969-12-31T23:59:59Z", "1969-12-31");
}

/* Summer time starts 2026-03-29 in Europe, 2026-03-08 in New York. */
static void tz_day_follows_daylight_saving_changes(void **state)
{
	(void)state;
	assert_day("Europe/Berlin", "2026-03-28T23:30:00Z", "2026-03-29");  /* CET */
	assert_day("Europe/Berlin", "2026-03-29T01:00:00Z", "2026-03-29");  /* first CEST second */
	assert_day("Europe/Berlin", "2026-03-29T21:59:59Z", "2026-03-29");
	assert_day("Europe/Berlin", "2026-03-29T22:00:00Z", "2026-03-30");  /* +2 now */
	assert_day("America/New_York", "2026-03-08T07:00:00Z", "2026-03-08");
	assert_day("America/New_York", "2026-03-09T03:59:59Z", "2026-03-08");
	assert_day("America/New_York", "2026-03-09T04:00:00Z", "2026-03-09");  /* -4 now */
	assert_day("America/New_York", "2026-03-08T04:59:59Z", "2026-03-07");  /* -5 before */
}

/* Switching back and forth between zones never reuses a stale zone. */
static void tz_day_interleaves_zones(void **state)
{
	rw_tz *berlin = zone("Europe/Berlin"), *utc = zone("UTC"), *ny = zone("America/New_York");
	rw_tz *berlin2 = zone("Europe/Berlin");
	int64_t t = T("2026-11-19T23:30:00Z");
	char day[RW_DAY_MAX];

	(void)state;
	for (int i = 0; i < 3; i++) {
		rw_tz_day(day, berlin, t);
		assert_string_equal(day, "2026-11-20");
		rw_tz_day(day, utc, t);
		assert_string_equal(day, "2026-11-19");
		rw_tz_day(day, berlin2, t);
		assert_string_equal(day, "2026-11-20");
		rw_tz_day(day, ny, t);
		assert_string_equal(day, "2026-11-19");
	}
	rw_tz_free(berlin);
	rw_tz_free(berlin2);
	rw_tz_free(utc);
	rw_tz_free(ny);
}

/*
 * St. John's ended summer time at 00:01 until 2011, going back to 23:01 the
 * day before: a newer instant can fall on an earlier day.
 */
static void tz_day_can_go_back_a_day(void **state)
{
	(void)state;
	assert_day("America/St_Johns", "2010-11-07T02:30:30Z", "2010-11-07");
	assert_day("America/St_Johns", "2010-11-07T02:31:00Z", "2010-11-06");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_accepts_rfc3339_forms),
		cmocka_unit_test(parse_handles_the_epoch_and_before),
		cmocka_unit_test(parse_rejects_what_is_not_rfc3339),
		cmocka_unit_test(parse_error_quotes_a_safe_excerpt),
		cmocka_unit_test(format_utc_known_instants),
		cmocka_unit_test(format_and_parse_agree_with_gmtime),
		cmocka_unit_test(epoch_is_the_first_day_of_1970),
		cmocka_unit_test(day_validate_accepts_real_days_only),
		cmocka_unit_test(tz_new_knows_utc_and_installed_zones),
		cmocka_unit_test(tz_new_rejects_unknown_and_unsafe_names),
		cmocka_unit_test(tz_new_looks_in_tzdir),
		cmocka_unit_test(tz_day_buckets_across_zones),
		cmocka_unit_test(tz_day_follows_daylight_saving_changes),
		cmocka_unit_test(tz_day_interleaves_zones),
		cmocka_unit_test(tz_day_can_go_back_a_day),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
