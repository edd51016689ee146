/* Instants, calendar days and time zones. */
#include "rewind/datetime.h"
#include "rewind/errors.h"
#include "rewind/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SECS_PER_DAY 86400
#define DEFAULT_TZDIR "/usr/share/zoneinfo"
/* Longest part of an untrusted string quoted in an error message. */
#define QUOTE_MAX 64

/*
 * Calendar arithmetic on the proleptic Gregorian calendar (H. Hinnant's
 * days_from_civil/civil_from_days): exact for any int64 day count, unlike
 * mktime it neither reads the process's zone nor normalises bad fields.
 */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t *y, int *m, int *d, int64_t z)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Splits t into whole days and seconds into the day, rounding down (t < 0 too). */
static void split_days(int64_t *days, int *secs, int64_t t)
{
	int64_t r = t % SECS_PER_DAY;

	*days = t / SECS_PER_DAY;
	if (r < 0) {
		r += SECS_PER_DAY;
		(*days)--;
	}
	*secs = (int)r;
}

/* Reads exactly n digits; false when one is not a digit. */
static bool read_digits(int *out, const char **p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*out = v;
	*p += n;
	return true;
}

static bool expect(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

/* "YYYY-MM-DD" naming a real day; leaves *p after it. */
static bool parse_date(int *y, int *m, int *d, const char **p)
{
	if (!read_digits(y, p, 4) || !expect(p, '-') || !read_digits(m, p, 2) ||
	    !expect(p, '-') || !read_digits(d, p, 2))
		return false;
	return *m >= 1 && *m <= 12 && *d >= 1 && *d <= days_in_month(*y, *m);
}

/* "HH:MM:SS" with an optional fraction of any length (dropped). */
static bool parse_time(int *secs, const char **p)
{
	int h, mi, s;

	if (!read_digits(&h, p, 2) || !expect(p, ':') || !read_digits(&mi, p, 2) ||
	    !expect(p, ':') || !read_digits(&s, p, 2))
		return false;
	/* RFC 3339 allows second 60 for a leap second; POSIX time has none,
	 * so it counts as the first second of the next minute. */
	if (h > 23 || mi > 59 || s > 60)
		return false;
	if (**p == '.') {
		(*p)++;
		if (!isdigit((unsigned char)**p))
			return false;
		while (isdigit((unsigned char)**p))
			(*p)++;
	}
	*secs = h * 3600 + mi * 60 + s;
	return true;
}

/* "Z", "z" or "+HH:MM"/"-HH:MM": seconds east of UTC. */
static bool parse_offset(int *off, const char **p)
{
	int sign, h, m;

	if (**p == 'Z' || **p == 'z') {
		(*p)++;
		*off = 0;
		return true;
	}
	if (**p != '+' && **p != '-')
		return false;
	sign = **p == '-' ? -1 : 1;
	(*p)++;
	if (!read_digits(&h, p, 2) || !expect(p, ':') || !read_digits(&m, p, 2))
		return false;
	if (h > 23 || m > 59)
		return false;
	*off = sign * (h * 3600 + m * 60);
	return true;
}

/* Registry answers are untrusted: quote a bounded, printable excerpt. */
static char *quote_excerpt(const char *s)
{
	size_t n = strnlen(s, QUOTE_MAX + 1);
	char *q = rw_strndup(s, n > QUOTE_MAX ? QUOTE_MAX : n);

	for (char *c = q; *c; c++)
		if (!isprint((unsigned char)*c))
			*c = '?';
	if (n > QUOTE_MAX) {
		char *long_q = rw_printf("%s...", q);

		free(q);
		q = long_q;
	}
	return q;
}

static bool parse_rfc3339(int64_t *out, const char *p)
{
	int y, m, d, secs, off;

	if (!parse_date(&y, &m, &d, &p) || (*p != 'T' && *p != 't'))
		return false;
	p++;
	if (!parse_time(&secs, &p) || !parse_offset(&off, &p) || *p != '\0')
		return false;
	*out = days_from_civil(y, m, d) * SECS_PER_DAY + secs - off;
	return true;
}

int rw_time_parse_rfc3339(int64_t *out, const char *s)
{
	char *q;

	if (parse_rfc3339(out, s))
		return 0;
	q = quote_excerpt(s);
	rw_error_set(RW_ERR_PROTOCOL, "invalid RFC 3339 time '%s'", q);
	free(q);
	return RW_ERROR;
}

/*
 * Years outside 0..9999 cannot come from a parsed time; clamping them keeps
 * the output within the fixed-size buffers.
 */
static int clamp_year(int64_t y)
{
	return y < 0 ? 0 : y > 9999 ? 9999 : (int)y;
}

/* Writes v, which fits, as exactly n digits. */
static void put_digits(char *p, int v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

static void format_day(char out[RW_DAY_MAX], int64_t y, int m, int d)
{
	put_digits(out, clamp_year(y), 4);
	out[4] = '-';
	put_digits(out + 5, m, 2);
	out[7] = '-';
	put_digits(out + 8, d, 2);
	out[10] = '\0';
}

void rw_time_format_utc(char out[RW_STAMP_MAX], int64_t t)
{
	int64_t days, y;
	int secs, m, d;

	split_days(&days, &secs, t);
	civil_from_days(&y, &m, &d, days);
	format_day(out, y, m, d);
	out[10] = 'T';
	put_digits(out + 11, secs / 3600, 2);
	out[13] = ':';
	put_digits(out + 14, secs / 60 % 60, 2);
	out[16] = ':';
	put_digits(out + 17, secs % 60, 2);
	out[19] = 'Z';
	out[20] = '\0';
}

bool rw_time_is_epoch(int64_t t)
{
	return t >= 0 && t < SECS_PER_DAY;
}

int rw_day_validate(const char *s)
{
	const char *p = s;
	int y, m, d;

	if (parse_date(&y, &m, &d, &p) && *p == '\0')
		return 0;
	return rw_error_set(RW_ERR_USAGE, "invalid date '%s': expected YYYY-MM-DD", s);
}

struct rw_tz {
	char *name;
	/* UTC needs no zone file and no TZ switching: days come from arithmetic. */
	bool utc;
};

static const char *tzdir(void)
{
	const char *dir = getenv("TZDIR");

	return dir && *dir ? dir : DEFAULT_TZDIR;
}

/* True when dir/name is a TZif file (what glibc will load for TZ=name). */
static bool zone_file_ok(const char *dir, const char *name)
{
	char *path = rw_printf("%s/%s", dir, name);
	FILE *f = fopen(path, "rb");
	char magic[4];
	bool ok;

	free(path);
	if (!f)
		return false;
	ok = fread(magic, 1, sizeof(magic), f) == sizeof(magic) &&
		!memcmp(magic, "TZif", sizeof(magic));
	fclose(f);
	return ok;
}

int rw_tz_new(rw_tz **out, const char *name)
{
	rw_tz *tz;
	bool utc = !strcmp(name, "UTC") || !strcmp(name, "Etc/UTC");

	/* ".." and absolute paths would let TZ read files outside the zone database. */
	if (!utc && (!*name || name[0] == '/' || strstr(name, "..") ||
		     !zone_file_ok(tzdir(), name)))
		return rw_error_set(RW_ERR_USAGE, "unknown time zone '%s' (see %s)", name, tzdir());
	tz = rw_malloc(sizeof(*tz));
	tz->name = rw_strdup(name);
	tz->utc = utc;
	*out = tz;
	return 0;
}

const char *rw_tz_name(const rw_tz *tz)
{
	return tz->name;
}

static void utc_day(char out[RW_DAY_MAX], int64_t t)
{
	int64_t days, y;
	int secs, m, d;

	split_days(&days, &secs, t);
	civil_from_days(&y, &m, &d, days);
	format_day(out, y, m, d);
}

/*
 * Makes name the process's zone. tzset() re-reads TZ and takes glibc's
 * lock; days are computed for every image of every repository, so remember
 * which zone is set and only switch when it changes. setenv() is not safe
 * while another thread reads the environment: the one zone of a run is set
 * while the timeline is built, before any thread exists (the Swarm SSH
 * bridge's comes later), and later calls find it set. Nothing else in
 * rewind writes TZ. The zone stays set afterwards: local time in the rest
 * of the process is the chosen zone's.
 */
static void use_zone(const char *name)
{
	static char current[256];

	if (!strcmp(current, name))
		return;
	setenv("TZ", name, 1);
	tzset();
	if (strlen(name) < sizeof(current))
		strcpy(current, name);
	else
		current[0] = '\0';
}

void rw_tz_day(char out[RW_DAY_MAX], const rw_tz *tz, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (tz->utc) {
		utc_day(out, t);
		return;
	}
	use_zone(tz->name);
	/* Out of the C library's range: the UTC day is the best answer left. */
	if (!localtime_r(&tt, &tm)) {
		utc_day(out, t);
		return;
	}
	format_day(out, (int64_t)tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

void rw_tz_free(rw_tz *tz)
{
	if (!tz)
		return;
	free(tz->name);
	free(tz);
}
