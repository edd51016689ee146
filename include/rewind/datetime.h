/*
 * Instants and calendar days. Instants are int64 seconds since the Unix
 * epoch (UTC); a day is "YYYY-MM-DD" in a named IANA time zone.
 */
#ifndef REWIND_DATETIME_H
#define REWIND_DATETIME_H

#include <stdbool.h>
#include <stdint.h>

#define RW_DAY_MAX 11   /* "YYYY-MM-DD" + NUL */
#define RW_STAMP_MAX 32 /* "YYYY-MM-DDTHH:MM:SSZ" + NUL, with room */

/*
 * Parses an RFC 3339 date-time ("2026-11-19T10:01:02Z",
 * "2026-11-19T10:01:02.123456789+01:00", lower-case t/z accepted) into
 * seconds since the epoch (fractions dropped). RW_ERROR (error class
 * RW_ERR_PROTOCOL) when s is not one.
 */
int rw_time_parse_rfc3339(int64_t *out, const char *s);

/* Formats t as "YYYY-MM-DDTHH:MM:SSZ". */
void rw_time_format_utc(char out[RW_STAMP_MAX], int64_t t);

/* True when t is in the first day of 1970: the date reproducible builds stamp. */
bool rw_time_is_epoch(int64_t t);

/* Checks s is a real calendar day written YYYY-MM-DD (RW_ERR_USAGE otherwise). */
int rw_day_validate(const char *s);

/* A time zone, by IANA name ("UTC", "Europe/Berlin"). */
typedef struct rw_tz rw_tz;

/* RW_ERR_USAGE error naming the zone when it is not known on this machine. */
int rw_tz_new(rw_tz **out, const char *name);
const char *rw_tz_name(const rw_tz *tz);
/* The calendar day of instant t in tz. */
void rw_tz_day(char out[RW_DAY_MAX], const rw_tz *tz, int64_t t);
void rw_tz_free(rw_tz *tz);

#endif
