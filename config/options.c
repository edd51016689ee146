/*
 * The option table: one row per option drives the command line, the
 * environment variable, the configuration key and --help, so the four can
 * never disagree.
 */
#include "rewind/config.h"
#include "rewind/errors.h"
#include "rewind/util.h"
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OFF(f) offsetof(rw_options, f)

const option_def option_table[] = {
	{ "registry", 0, "REWIND_REGISTRY", "registry", "url", OPT_STRING, OFF(registry), RW_CMD_ALL, "URL",
	  "registry to read (https:// unless a scheme is given)" },
	{ "repos", "repo", "REWIND_REPOS", "release", "repos", OPT_LIST, OFF(repos), RW_CMD_ALL, "A,B,C",
	  "repositories of the release (names may contain '/')" },
	{ "env", 0, "REWIND_ENV", "release", "env", OPT_STRING, OFF(env), RW_CMD_ALL, "NAME",
	  "environment: keeps the tags ending in its tag suffix (default: NAME)" },
	{ "tag-suffix", 0, "REWIND_TAG_SUFFIX", "env", "tag-suffix", OPT_STRING, OFF(tag_suffix), RW_CMD_ALL, "SUFFIX",
	  "tag suffix of the environment, when it differs from its name" },
	{ "tag-pattern", 0, "REWIND_TAG_PATTERN", "release", "tag-pattern", OPT_STRING, OFF(tag_pattern), RW_CMD_ALL, "REGEX",
	  "keep the tags matching this POSIX ERE instead of a suffix" },
	{ "keep", 0, "REWIND_KEEP", "release", "keep", OPT_INT, OFF(keep), RW_CMD_ALL, "N",
	  "dates come from the newest N images of each repository (0: all; default 10)" },
	{ "timezone", 0, "REWIND_TIMEZONE", "release", "timezone", OPT_STRING, OFF(timezone), RW_CMD_ALL, "TZ",
	  "time zone of the calendar days (default UTC; e.g. Europe/Berlin)" },
	{ "platform", 0, "REWIND_PLATFORM", "registry", "platform", OPT_STRING, OFF(platform), RW_CMD_ALL, "OS/ARCH[/VARIANT]",
	  "image of multi-arch lists to date (default linux/amd64)" },
	{ "username", 0, "REWIND_REGISTRY_USERNAME", "registry", "username", OPT_STRING, OFF(username), RW_CMD_ALL, "USER",
	  "registry user (password from --password-file or REWIND_REGISTRY_PASSWORD)" },
	{ "password-file", 0, "REWIND_REGISTRY_PASSWORD_FILE", "registry", "password-file", OPT_STRING, OFF(password_file), RW_CMD_ALL, "FILE",
	  "file holding the registry password" },
	{ "ca-file", 0, "REWIND_CA_FILE", "registry", "ca-file", OPT_STRING, OFF(ca_file), RW_CMD_ALL, "FILE",
	  "CA certificates to trust for the registry (PEM)" },
	{ "insecure", 0, "REWIND_INSECURE", "registry", "insecure", OPT_BOOL, OFF(insecure), RW_CMD_ALL, NULL,
	  "do not verify the registry's TLS certificate (dangerous)" },
	{ "concurrency", 0, "REWIND_CONCURRENCY", "registry", "concurrency", OPT_INT, OFF(concurrency), RW_CMD_ALL, "N",
	  "requests in flight (default 16)" },
	{ "page-size", 0, "REWIND_PAGE_SIZE", "registry", "page-size", OPT_INT, OFF(page_size), RW_CMD_ALL, "N",
	  "tags asked per page of a tag list (default 1000)" },
	{ "connect-timeout", 0, "REWIND_CONNECT_TIMEOUT", "registry", "connect-timeout", OPT_INT, OFF(connect_timeout), RW_CMD_ALL, "SECONDS",
	  "give up connecting after this long (default 10)" },
	{ "stall-timeout", 0, "REWIND_STALL_TIMEOUT", "registry", "stall-timeout", OPT_INT, OFF(stall_timeout), RW_CMD_ALL, "SECONDS",
	  "give up on a transfer that receives nothing for this long (default 30)" },
	{ "retries", 0, "REWIND_RETRIES", "registry", "retries", OPT_INT, OFF(retries), RW_CMD_ALL, "N",
	  "retries of a request on 429, 5xx or a dropped connection (default 3)" },
	{ "cache-dir", 0, "REWIND_CACHE_DIR", "cache", "dir", OPT_STRING, OFF(cache_dir), RW_CMD_ALL, "DIR",
	  "cache directory (default $XDG_CACHE_HOME/rewind or ~/.cache/rewind)" },
	{ "no-cache", 0, "REWIND_NO_CACHE", "cache", "disabled", OPT_BOOL, OFF(no_cache), RW_CMD_ALL, NULL,
	  "neither read nor write the cache" },
	{ "json", 0, "REWIND_JSON", "output", "json", OPT_BOOL, OFF(json), RW_CMD_ALL, NULL,
	  "machine-readable JSON on stdout" },
	{ "quiet", "q", "REWIND_QUIET", "output", "quiet", OPT_BOOL, OFF(quiet), RW_CMD_ALL, NULL,
	  "print errors only" },
	{ "verbose", "v", "REWIND_VERBOSE", "output", "verbose", OPT_COUNT, OFF(verbose), RW_CMD_ALL, NULL,
	  "say what rewind does (-vv: every request)" },
	{ "dump", 0, "REWIND_DUMP", "output", "dump", OPT_STRING, OFF(dump), RW_CMD_DATES | RW_CMD_GET, "DIR",
	  "also write DIR/rollback.json" },
	{ "date", 0, "REWIND_DATE", NULL, NULL, OPT_STRING, OFF(date), RW_CMD_PLAN, "YYYY-MM-DD",
	  "the day to roll back to (required)" },
	{ "allow-partial", 0, "REWIND_ALLOW_PARTIAL", "release", "allow-partial", OPT_BOOL, OFF(allow_partial), RW_CMD_PLAN, NULL,
	  "plan a date even when some repositories have no image as of it" },
	{ "help", "h", NULL, NULL, NULL, OPT_BOOL, OFF(help), RW_CMD_ALL, NULL,
	  "show this help" },
	{ NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
};

const option_def *option_find(const char *name, size_t len, unsigned cmd)
{
	for (const option_def *d = option_table; d->name; d++) {
		if (!(d->commands & cmd))
			continue;
		if (strlen(d->name) == len && !strncmp(d->name, name, len))
			return d;
		/* `get` keeps the original script's --repo spelling; -q, -v, -h */
		if (d->alias && strlen(d->alias) == len && !strncmp(d->alias, name, len))
			return d;
	}
	return NULL;
}

bool option_known_key(const char *section, const char *key)
{
	for (const option_def *d = option_table; d->name; d++)
		if (d->section && !strcmp(d->section, section) && !strcmp(d->key, key))
			return true;
	return false;
}

bool option_known_section(const char *section)
{
	for (const option_def *d = option_table; d->name; d++)
		if (d->section && !strcmp(d->section, section))
			return true;
	return false;
}

void option_keys_of(rw_buf *out, const char *section)
{
	for (const option_def *d = option_table; d->name; d++) {
		if (!d->section || strcmp(d->section, section))
			continue;
		if (out->size)
			rw_buf_puts(out, ", ");
		rw_buf_puts(out, d->key);
	}
}

static int parse_bool(bool *out, const char *v)
{
	static const char *yes[] = { "1", "true", "yes", "on" }, *no[] = { "0", "false", "no", "off", "" };

	for (size_t i = 0; i < RW_ARRAY_SIZE(yes); i++)
		if (!strcasecmp(v, yes[i])) {
			*out = true;
			return 0;
		}
	for (size_t i = 0; i < RW_ARRAY_SIZE(no); i++)
		if (!strcasecmp(v, no[i])) {
			*out = false;
			return 0;
		}
	return RW_ERROR;
}

int option_set(rw_options *o, const option_def *d, const char *value, const char *source, rw_error_class klass)
{
	void *field = (char *)o + d->offset;
	char *end;
	long n;

	switch (d->type) {
	case OPT_STRING:
		free(*(char **)field);
		*(char **)field = rw_strdup(value);
		return 0;
	case OPT_LIST:
		rw_strlist_dispose(field);
		rw_strlist_split(field, value);
		return 0;
	case OPT_BOOL:
		if (parse_bool(field, value) < 0)
			return rw_error_set(klass, "%s: invalid value '%s' for %s: expected true or false", source, value, d->name);
		return 0;
	case OPT_INT:
	case OPT_COUNT:
		errno = 0;
		n = strtol(value, &end, 10);
		if (!*value || *end || errno || n < 0 || n > INT_MAX)
			return rw_error_set(klass, "%s: invalid value '%s' for %s: expected a whole number, 0 or more", source, value, d->name);
		*(long *)field = n;
		return 0;
	}
	return 0;
}

static void usage_line(FILE *f, const option_def *d)
{
	char left[64];

	if (d->arg)
		snprintf(left, sizeof(left), "--%s %s", d->name, d->arg);
	else
		snprintf(left, sizeof(left), "--%s", d->name);
	if (d->alias && strlen(d->alias) == 1)
		fprintf(f, "  -%s, %-30s %s\n", d->alias, left, d->help);
	else
		fprintf(f, "      %-30s %s\n", left, d->help);
}

void rw_options_usage(FILE *f, unsigned cmd)
{
	for (const option_def *d = option_table; d->name; d++)
		if (d->commands & cmd)
			usage_line(f, d);
}
