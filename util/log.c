/* Messages on stderr, with a progress line only on terminals. */
#include "rewind/log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

static int log_level = RW_LOG_NORMAL;
static bool progress_drawn;

void rw_log_set_level(int level)
{
	log_level = level;
}

int rw_log_level(void)
{
	return log_level;
}

static void vlog(int level, const char *prefix, const char *fmt, va_list ap)
{
	if (log_level < level)
		return;
	rw_progress_end();
	fputs(prefix, stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void rw_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(RW_LOG_NORMAL, "rewind: warning: ", fmt, ap);
	va_end(ap);
}

void rw_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(RW_LOG_VERBOSE, "rewind: ", fmt, ap);
	va_end(ap);
}

void rw_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(RW_LOG_DEBUG, "rewind: ", fmt, ap);
	va_end(ap);
}

void rw_progress(const char *fmt, ...)
{
	va_list ap;

	if (log_level < RW_LOG_NORMAL || !isatty(STDERR_FILENO))
		return;
	fputs("\r\033[K", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fflush(stderr);
	progress_drawn = true;
}

void rw_progress_end(void)
{
	if (!progress_drawn)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	progress_drawn = false;
}
