/*
 * rewind's one error facility, modelled on libgit2's git_error_last().
 *
 * A failing function sets the last error with rw_error_set() and returns a
 * negative code; callers that add context use rw_error_prefix(). The CLI
 * prints the last error as one line and maps its class to an exit code.
 */
#ifndef REWIND_ERRORS_H
#define REWIND_ERRORS_H

#include <stdarg.h>

/* Return codes of every rewind function. */
enum {
	RW_OK = 0,
	RW_ERROR = -1,     /* see rw_error_last() */
	RW_ENOTFOUND = -3, /* a looked-up thing does not exist (no error set) */
};

/* What failed: decides the exit code a user sees (docs/exit-codes). */
typedef enum {
	RW_ERR_NONE = 0,
	RW_ERR_INTERNAL,   /* a bug or the OS: exit 1 */
	RW_ERR_OS,         /* files, sockets, processes: exit 1 */
	RW_ERR_USAGE,      /* bad option or argument: exit 2 */
	RW_ERR_CONFIG,     /* bad configuration file or value: exit 3 */
	RW_ERR_NET,        /* connection, TLS, time-out: exit 4 */
	RW_ERR_REGISTRY,   /* the registry answered an error: exit 4 */
	RW_ERR_PROTOCOL,   /* an answer rewind cannot use: exit 4 */
	RW_ERR_AUTH,       /* credentials missing or refused: exit 5 */
	RW_ERR_DATE,       /* the chosen date cannot be rolled back to: exit 6 */
	RW_ERR_ORCHESTRATOR, /* an orchestrator refused or failed: exit 9 */
	RW_ERR_LOCKED,     /* another rollback of the environment runs: exit 10 */
} rw_error_class;

/* Exit codes, documented in the README. */
enum {
	RW_EXIT_OK = 0,
	RW_EXIT_FAILURE = 1,
	RW_EXIT_USAGE = 2,
	RW_EXIT_CONFIG = 3,
	RW_EXIT_REGISTRY = 4,
	RW_EXIT_AUTH = 5,
	RW_EXIT_DATE = 6,
	RW_EXIT_NOTHING = 7,  /* run: every service already runs its image */
	RW_EXIT_PARTIAL = 8,  /* run: some services changed, then one failed */
	RW_EXIT_TOTAL = 9,    /* run: nothing could be changed */
	RW_EXIT_LOCKED = 10,  /* run: another rollback holds the lock */
};

typedef struct {
	char *message;
	rw_error_class klass;
} rw_error;

/* Sets the last error; always returns RW_ERROR so callers can `return rw_error_set(...)`. */
int rw_error_set(rw_error_class klass, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int rw_error_vset(rw_error_class klass, const char *fmt, va_list ap);

/* Sets the last error from errno: "<what>: <strerror>". */
int rw_error_set_os(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Puts "<prefix>: " before the last error's message; returns RW_ERROR. */
int rw_error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The last error, or NULL when none is set. */
const rw_error *rw_error_last(void);

/* Moves the last error out (caller frees with rw_error_free) and clears it. */
rw_error *rw_error_steal(void);
void rw_error_restore(rw_error *err);
void rw_error_free(rw_error *err);

void rw_error_clear(void);

/* The exit code for a class of error. */
int rw_error_exit_code(rw_error_class klass);

#endif
