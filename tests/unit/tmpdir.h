/*
 * A scratch directory for the tests of one file, for the code that reads
 * files (secrets, known_hosts, docker's config.json, clones): made by the
 * group's setup, removed with all it holds by its teardown.
 */
#ifndef REWIND_TESTS_UNIT_TMPDIR_H
#define REWIND_TESTS_UNIT_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

#include "rewind/util.h"

static char unit_dir[] = "/tmp/rw-unit-XXXXXX";

static inline int unit_dir_setup(void **state)
{
	(void)state;
	return mkdtemp(unit_dir) ? 0 : -1;
}

static inline int unit_remove(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline int unit_dir_teardown(void **state)
{
	(void)state;
	return nftw(unit_dir, unit_remove, 16, FTW_DEPTH | FTW_PHYS);
}

/* unit_dir/name holding len bytes of data; the caller frees the path. */
static inline char *unit_file(const char *name, const void *data, size_t len)
{
	char *path = rw_printf("%s/%s", unit_dir, name);
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(data, 1, len, f) != len)
		fail_msg("cannot write %s", path);
	fclose(f);
	return path;
}

#endif
