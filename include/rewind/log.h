/*
 * Messages for people, on stderr: warnings, -v details, and a progress line
 * that is drawn only when stderr is a terminal. stdout stays for results.
 */
#ifndef REWIND_LOG_H
#define REWIND_LOG_H

enum {
	RW_LOG_QUIET = 0,   /* -q: errors only */
	RW_LOG_NORMAL = 1,  /* warnings */
	RW_LOG_VERBOSE = 2, /* -v: what rewind does */
	RW_LOG_DEBUG = 3,   /* -vv: every request */
};

void rw_log_set_level(int level);
int rw_log_level(void);

void rw_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rw_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rw_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Redraws the progress line (terminal only, not with -q). */
void rw_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Clears the progress line if one is drawn. */
void rw_progress_end(void);

#endif
