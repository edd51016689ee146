/* The last-error facility: one error at a time, like libgit2's. */
#include "rewind/errors.h"
#include "rewind/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static rw_error last_error;
static int has_error;

int rw_error_vset(rw_error_class klass, const char *fmt, va_list ap)
{
	rw_buf b = RW_BUF_INIT;

	rw_buf_vprintf(&b, fmt, ap);
	free(last_error.message);
	last_error.message = rw_buf_detach(&b);
	last_error.klass = klass;
	has_error = 1;
	return RW_ERROR;
}

int rw_error_set(rw_error_class klass, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rw_error_vset(klass, fmt, ap);
	va_end(ap);
	return RW_ERROR;
}

int rw_error_set_os(const char *fmt, ...)
{
	int saved = errno;
	rw_buf b = RW_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	rw_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	rw_error_set(RW_ERR_OS, "%s: %s", b.ptr, strerror(saved));
	rw_buf_dispose(&b);
	errno = saved;
	return RW_ERROR;
}

int rw_error_prefix(const char *fmt, ...)
{
	rw_buf b = RW_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	rw_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (has_error) {
		rw_buf_printf(&b, ": %s", last_error.message);
		free(last_error.message);
	} else {
		last_error.klass = RW_ERR_INTERNAL;
	}
	last_error.message = rw_buf_detach(&b);
	has_error = 1;
	return RW_ERROR;
}

const rw_error *rw_error_last(void)
{
	return has_error ? &last_error : NULL;
}

rw_error *rw_error_steal(void)
{
	rw_error *e;

	if (!has_error)
		return NULL;
	e = rw_malloc(sizeof(*e));
	*e = last_error;
	last_error.message = NULL;
	has_error = 0;
	return e;
}

void rw_error_restore(rw_error *err)
{
	if (!err)
		return;
	free(last_error.message);
	last_error = *err;
	has_error = 1;
	free(err);
}

void rw_error_free(rw_error *err)
{
	if (!err)
		return;
	free(err->message);
	free(err);
}

void rw_error_clear(void)
{
	free(last_error.message);
	last_error.message = NULL;
	last_error.klass = RW_ERR_NONE;
	has_error = 0;
}

int rw_error_exit_code(rw_error_class klass)
{
	switch (klass) {
	case RW_ERR_USAGE: return RW_EXIT_USAGE;
	case RW_ERR_CONFIG: return RW_EXIT_CONFIG;
	case RW_ERR_NET:
	case RW_ERR_REGISTRY:
	case RW_ERR_PROTOCOL: return RW_EXIT_REGISTRY;
	case RW_ERR_AUTH: return RW_EXIT_AUTH;
	case RW_ERR_DATE: return RW_EXIT_DATE;
	case RW_ERR_ORCHESTRATOR: return RW_EXIT_TOTAL;
	case RW_ERR_LOCKED: return RW_EXIT_LOCKED;
	default: return RW_EXIT_FAILURE;
	}
}
