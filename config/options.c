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
	{ "registry", 0, "REWIND_REGISTRY", "registry", "url", OPT_STRING, OFF(registry), RW_CMD_READ, "URL",
	  "registry to read (https:// unless a scheme is given)" },
	{ "repos", "repo", "REWIND_REPOS", "release", "repos", OPT_LIST, OFF(repos), RW_CMD_READ, "A,B,C",
	  "repositories of the release (names may contain '/')" },
	{ "env", 0, "REWIND_ENV", "release", "env", OPT_STRING, OFF(env), RW_CMD_ALL, "NAME",
	  "environment: keeps the tags ending in its tag suffix (default: NAME)" },
	{ "tag-suffix", 0, "REWIND_TAG_SUFFIX", "env", "tag-suffix", OPT_STRING, OFF(tag_suffix), RW_CMD_READ, "SUFFIX",
	  "tag suffix of the environment, when it differs from its name" },
	{ "tag-pattern", 0, "REWIND_TAG_PATTERN", "release", "tag-pattern", OPT_STRING, OFF(tag_pattern), RW_CMD_READ, "REGEX",
	  "keep the tags matching this POSIX ERE instead of a suffix" },
	{ "keep", 0, "REWIND_KEEP", "release", "keep", OPT_INT, OFF(keep), RW_CMD_READ, "N",
	  "dates come from the newest N images of each repository (0: all; default 10)" },
	{ "timezone", 0, "REWIND_TIMEZONE", "release", "timezone", OPT_STRING, OFF(timezone), RW_CMD_READ, "TZ",
	  "time zone of the calendar days (default UTC; e.g. Europe/Berlin)" },
	{ "platform", 0, "REWIND_PLATFORM", "registry", "platform", OPT_STRING, OFF(platform), RW_CMD_READ, "OS/ARCH[/VARIANT]",
	  "image of multi-arch lists to date (default linux/amd64)" },
	{ "username", 0, "REWIND_REGISTRY_USERNAME", "registry", "username", OPT_STRING, OFF(username), RW_CMD_READ, "USER",
	  "registry user (password from --password-file or REWIND_REGISTRY_PASSWORD)" },
	{ "password-file", 0, "REWIND_REGISTRY_PASSWORD_FILE", "registry", "password-file", OPT_STRING, OFF(password_file), RW_CMD_READ, "FILE",
	  "file holding the registry password" },
	{ "ca-file", 0, "REWIND_CA_FILE", "registry", "ca-file", OPT_STRING, OFF(ca_file), RW_CMD_ALL, "FILE",
	  "CA certificates to trust for the registry (PEM)" },
	{ "insecure", 0, "REWIND_INSECURE", "registry", "insecure", OPT_BOOL, OFF(insecure), RW_CMD_ALL, NULL,
	  "do not verify the registry's TLS certificate (dangerous)" },
	{ "concurrency", 0, "REWIND_CONCURRENCY", "registry", "concurrency", OPT_INT, OFF(concurrency), RW_CMD_READ, "N",
	  "requests in flight (default 16)" },
	{ "page-size", 0, "REWIND_PAGE_SIZE", "registry", "page-size", OPT_INT, OFF(page_size), RW_CMD_READ, "N",
	  "tags asked per page of a tag list (default 1000)" },
	{ "connect-timeout", 0, "REWIND_CONNECT_TIMEOUT", "registry", "connect-timeout", OPT_INT, OFF(connect_timeout), RW_CMD_ALL, "SECONDS",
	  "give up connecting after this long (default 10)" },
	{ "stall-timeout", 0, "REWIND_STALL_TIMEOUT", "registry", "stall-timeout", OPT_INT, OFF(stall_timeout), RW_CMD_ALL, "SECONDS",
	  "give up on a transfer that receives nothing for this long (default 30)" },
	{ "retries", 0, "REWIND_RETRIES", "registry", "retries", OPT_INT, OFF(retries), RW_CMD_ALL, "N",
	  "retries of a request on 429, 5xx or a dropped connection (default 3)" },
	{ "cache-dir", 0, "REWIND_CACHE_DIR", "cache", "dir", OPT_STRING, OFF(cache_dir), RW_CMD_ALL, "DIR",
	  "cache directory (default $XDG_CACHE_HOME/rewind or ~/.cache/rewind)" },
	{ "no-cache", 0, "REWIND_NO_CACHE", "cache", "disabled", OPT_BOOL, OFF(no_cache), RW_CMD_READ, NULL,
	  "neither read nor write the cache" },
	{ "json", 0, "REWIND_JSON", "output", "json", OPT_BOOL, OFF(json), RW_CMD_ALL, NULL,
	  "machine-readable JSON on stdout" },
	{ "quiet", "q", "REWIND_QUIET", "output", "quiet", OPT_BOOL, OFF(quiet), RW_CMD_ALL, NULL,
	  "print errors only" },
	{ "verbose", "v", "REWIND_VERBOSE", "output", "verbose", OPT_COUNT, OFF(verbose), RW_CMD_ALL, NULL,
	  "say what rewind does (-vv: every request)" },
	{ "dump", 0, "REWIND_DUMP", "output", "dump", OPT_STRING, OFF(dump), RW_CMD_DATES | RW_CMD_GET, "DIR",
	  "also write DIR/rollback.json" },
	{ "date", 0, "REWIND_DATE", NULL, NULL, OPT_STRING, OFF(date), RW_CMD_PLAN | RW_CMD_RUN, "YYYY-MM-DD",
	  "the day to roll back to (required)" },
	{ "allow-partial", 0, "REWIND_ALLOW_PARTIAL", "release", "allow-partial", OPT_BOOL, OFF(allow_partial), RW_CMD_PLAN | RW_CMD_RUN, NULL,
	  "plan a date even when some repositories have no image as of it" },
	{ "orchestrator", 0, "REWIND_ORCHESTRATOR", "env", "orchestrator", OPT_STRING, OFF(orchestrator), RW_CMD_DEPLOY, "NAME",
	  "where the services run: marathon, swarm or git" },
	{ "order", 0, "REWIND_ORDER", "release", "order", OPT_LIST, OFF(order), RW_CMD_RUN, "A,B,C",
	  "deploy order (default: the order of --repos; others follow)" },
	{ "pin-digest", 0, "REWIND_PIN_DIGEST", "release", "pin-digest", OPT_BOOL, OFF(pin_digest), RW_CMD_DEPLOY, NULL,
	  "write tag@digest even where the app names a tag only (swarm always pins)" },
	{ "yes", "y", "REWIND_YES", NULL, NULL, OPT_BOOL, OFF(yes), RW_CMD_RUN | RW_CMD_UNDO, NULL,
	  "do not ask for confirmation (scripts)" },
	{ "dry-run", "n", "REWIND_DRY_RUN", NULL, NULL, OPT_BOOL, OFF(dry_run), RW_CMD_RUN | RW_CMD_UNDO, NULL,
	  "show what would be done, change nothing" },
	{ "parallel", 0, "REWIND_PARALLEL", "release", "parallel", OPT_INT, OFF(parallel), RW_CMD_RUN | RW_CMD_UNDO, "N",
	  "deploy up to N services at once (default 1)" },
	{ "on-failure", 0, "REWIND_ON_FAILURE", "release", "on-failure", OPT_STRING, OFF(on_failure), RW_CMD_RUN, "stop|revert",
	  "after a failed deploy: stop, or put the changed services back (default stop)" },
	{ "timeout", 0, "REWIND_TIMEOUT", "release", "timeout", OPT_INT, OFF(timeout), RW_CMD_RUN | RW_CMD_UNDO, "SECONDS",
	  "longest wait for one deploy to finish (default 600)" },
	{ "force", 0, "REWIND_FORCE", NULL, NULL, OPT_BOOL, OFF(force), RW_CMD_RUN | RW_CMD_UNDO, NULL,
	  "override an orchestrator's lock (Marathon: a running deployment)" },
	{ "user", 0, "REWIND_USER", NULL, NULL, OPT_STRING, OFF(user), RW_CMD_RUN | RW_CMD_UNDO, "NAME",
	  "who runs the rollback (default $BUILD_USER_ID or $USER)" },
	{ "state-dir", 0, "REWIND_STATE_DIR", "state", "dir", OPT_STRING, OFF(state_dir), RW_CMD_RUN | RW_CMD_UNDO | RW_CMD_HISTORY, "DIR",
	  "journals and locks (default $XDG_STATE_HOME/rewind or ~/.local/state/rewind)" },
	{ "journal", 0, "REWIND_JOURNAL", NULL, NULL, OPT_STRING, OFF(journal), RW_CMD_UNDO, "FILE",
	  "the rollback to undo (default: the last one of the environment)" },
	{ "marathon-url", 0, "REWIND_MARATHON_URL", "marathon", "url", OPT_STRING, OFF(marathon_url), RW_CMD_DEPLOY, "URL",
	  "Marathon's API (https://dcos.example.com/service/marathon)" },
	{ "marathon-app-prefix", 0, "REWIND_MARATHON_APP_PREFIX", "marathon", "app-prefix", OPT_STRING, OFF(marathon_app_prefix), RW_CMD_DEPLOY, "PREFIX",
	  "apps of the environment live under this id (e.g. /ds/prod)" },
	{ "marathon-auth", 0, "REWIND_MARATHON_AUTH", "marathon", "auth", OPT_STRING, OFF(marathon_auth), RW_CMD_DEPLOY, "none|basic|dcos|token",
	  "how to authenticate to Marathon (default none)" },
	{ "marathon-username", 0, "REWIND_MARATHON_USERNAME", "marathon", "username", OPT_STRING, OFF(marathon_username), RW_CMD_DEPLOY, "USER",
	  "Marathon/DC/OS user (password from --marathon-password-file or REWIND_MARATHON_PASSWORD)" },
	{ "marathon-password-file", 0, "REWIND_MARATHON_PASSWORD_FILE", "marathon", "password-file", OPT_STRING, OFF(marathon_password_file), RW_CMD_DEPLOY, "FILE",
	  "file holding the Marathon/DC/OS password" },
	{ "marathon-token-file", 0, "REWIND_MARATHON_TOKEN_FILE", "marathon", "token-file", OPT_STRING, OFF(marathon_token_file), RW_CMD_DEPLOY, "FILE",
	  "file holding a DC/OS token (auth = token)" },
	{ "swarm-host", 0, "REWIND_SWARM_HOST", "swarm", "host", OPT_STRING, OFF(swarm_host), RW_CMD_DEPLOY, "URL",
	  "Docker engine: unix:///var/run/docker.sock, tcp://host:2376, ssh://user@host" },
	{ "swarm-service-prefix", 0, "REWIND_SWARM_SERVICE_PREFIX", "swarm", "service-prefix", OPT_STRING, OFF(swarm_service_prefix), RW_CMD_DEPLOY, "PREFIX",
	  "services of the environment are named with this prefix (e.g. prod_)" },
	{ "swarm-tls-ca", 0, "REWIND_SWARM_TLS_CA", "swarm", "tls-ca", OPT_STRING, OFF(swarm_tls_ca), RW_CMD_DEPLOY, "FILE",
	  "CA of a tcp:// engine" },
	{ "swarm-tls-cert", 0, "REWIND_SWARM_TLS_CERT", "swarm", "tls-cert", OPT_STRING, OFF(swarm_tls_cert), RW_CMD_DEPLOY, "FILE",
	  "client certificate for a tcp:// engine" },
	{ "swarm-tls-key", 0, "REWIND_SWARM_TLS_KEY", "swarm", "tls-key", OPT_STRING, OFF(swarm_tls_key), RW_CMD_DEPLOY, "FILE",
	  "client key for a tcp:// engine" },
	{ "swarm-ssh-key", 0, "REWIND_SWARM_SSH_KEY", "swarm", "ssh-key", OPT_STRING, OFF(swarm_ssh_key), RW_CMD_DEPLOY, "FILE",
	  "SSH key for an ssh:// engine (default: the SSH agent)" },
	{ "swarm-known-hosts", 0, "REWIND_SWARM_KNOWN_HOSTS", "swarm", "known-hosts", OPT_STRING, OFF(swarm_known_hosts), RW_CMD_DEPLOY, "FILE",
	  "known_hosts to check an ssh:// engine against (default ~/.ssh/known_hosts)" },
	{ "git-url", 0, "REWIND_GIT_URL", "git", "url", OPT_STRING, OFF(git_url), RW_CMD_DEPLOY, "URL",
	  "repository of manifests: ssh://, https:// or a path" },
	{ "git-branch", 0, "REWIND_GIT_BRANCH", "git", "branch", OPT_STRING, OFF(git_branch), RW_CMD_DEPLOY, "BRANCH",
	  "branch to commit to (default main)" },
	{ "git-paths", 0, "REWIND_GIT_PATHS", "git", "paths", OPT_LIST, OFF(git_paths), RW_CMD_DEPLOY, "GLOB,GLOB",
	  "files holding image references (e.g. k8s/*.yaml, compose/*.yml)" },
	{ "git-ssh-key", 0, "REWIND_GIT_SSH_KEY", "git", "ssh-key", OPT_STRING, OFF(git_ssh_key), RW_CMD_DEPLOY, "FILE",
	  "SSH key for ssh:// (default: the SSH agent)" },
	{ "git-known-hosts", 0, "REWIND_GIT_KNOWN_HOSTS", "git", "known-hosts", OPT_STRING, OFF(git_known_hosts), RW_CMD_DEPLOY, "FILE",
	  "known_hosts for ssh:// (default ~/.ssh/known_hosts)" },
	{ "git-token-file", 0, "REWIND_GIT_TOKEN_FILE", "git", "token-file", OPT_STRING, OFF(git_token_file), RW_CMD_DEPLOY, "FILE",
	  "file holding a token for https:// remotes" },
	{ "git-workdir", 0, "REWIND_GIT_WORKDIR", "git", "workdir", OPT_STRING, OFF(git_workdir), RW_CMD_DEPLOY, "DIR",
	  "where to keep the clone (default: in the cache directory)" },
	{ "git-author-name", 0, "REWIND_GIT_AUTHOR_NAME", "git", "author-name", OPT_STRING, OFF(git_author_name), RW_CMD_DEPLOY, "NAME",
	  "commit author (default: rewind)" },
	{ "git-author-email", 0, "REWIND_GIT_AUTHOR_EMAIL", "git", "author-email", OPT_STRING, OFF(git_author_email), RW_CMD_DEPLOY, "EMAIL",
	  "commit author e-mail (default: rewind@localhost)" },
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
