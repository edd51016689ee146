/* The session every read command opens: options, registry, timeline. */
#include "cmd.h"

#include "rewind/errors.h"
#include "rewind/log.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int cmd_error(void)
{
	const rw_error *e = rw_error_last();

	rw_progress_end();
	fprintf(stderr, "rewind: error: %s\n", e ? e->message : "unknown error");
	return rw_error_exit_code(e ? e->klass : RW_ERR_INTERNAL);
}

static void print_help(const cmd_info *info)
{
	printf("usage: %s\n\n%s\n\nOptions:\n", info->synopsis, info->about);
	rw_options_usage(stdout, info->mask);
	printf("      %-30s %s\n", "--config FILE", "configuration file (default ./rewind.conf or $REWIND_CONFIG)");
}

static void warn_undated(const rw_image_set *set)
{
	for (size_t i = 0; i < rw_image_set_count(set); i++) {
		const rw_repo_images *r = rw_image_set_repo(set, i);

		for (size_t j = 0; j < r->count; j++)
			if (!r->images[j].dated)
				rw_warn("%s:%s (%s) has no creation time; it is listed as undated and offered on no date",
					r->name, r->images[j].tag, r->images[j].digest);
	}
}

static int open_registry(cmd_session *s)
{
	rw_registry_opts ro = { 0 };
	char *user = NULL, *pass = NULL, *cache_dir;
	int error;

	if (rw_credentials_load(&user, &pass, &s->opts) < 0)
		return RW_ERROR;
	cache_dir = rw_options_cache_dir(&s->opts);
	rw_cache_open(&s->cache, cache_dir);
	free(cache_dir);
	ro.url = s->opts.registry;
	ro.username = user;
	ro.password = pass;
	ro.platform = s->opts.platform;
	ro.page_size = (size_t)s->opts.page_size;
	ro.cache = s->cache;
	ro.http = (rw_http_opts)RW_HTTP_OPTS_INIT;
	ro.http.concurrency = (int)s->opts.concurrency;
	ro.http.ca_file = s->opts.ca_file;
	ro.http.insecure = s->opts.insecure;
	ro.http.connect_timeout_ms = s->opts.connect_timeout * 1000;
	ro.http.stall_timeout_ms = s->opts.stall_timeout * 1000;
	ro.http.max_retries = (int)s->opts.retries;
	ro.http.user_agent = "rewind/" REWIND_VERSION;
	error = rw_registry_new(&s->reg, &ro);
	free(user);
	if (pass) {
		memset(pass, 0, strlen(pass));
		free(pass);
	}
	return error;
}

static void log_stats(const cmd_session *s)
{
	const rw_registry_stats *st = rw_registry_stats_of(s->reg);

	rw_info("%zu requests: %zu tags, %zu HEADs, %zu manifests, %zu config blobs, %zu tokens; %zu dated from the cache",
		st->requests, st->tags, st->heads, st->manifests, st->blobs, st->tokens, st->cache_hits);
}

int session_options(cmd_session *s, const cmd_info *info, int argc, char **argv)
{
	memset(s, 0, sizeof(*s));
	if (rw_options_load(&s->opts, info->mask, cli_config_file, argc, argv) < 0)
		return RW_ERROR;
	if (s->opts.help) {
		print_help(info);
		return 1;
	}
	rw_log_set_level(s->opts.quiet ? RW_LOG_QUIET : RW_LOG_NORMAL + (int)s->opts.verbose);
	return 0;
}

int session_open(cmd_session *s, const cmd_info *info, int argc, char **argv)
{
	int rc = session_options(s, info, argc, argv);

	if (rc)
		return rc;
	if (s->opts.insecure)
		rw_warn("TLS verification of %s is off (--insecure)", s->opts.registry);
	if (rw_tz_new(&s->tz, s->opts.timezone) < 0 ||
	    rw_tag_filter_new(&s->filter, s->opts.tag_suffix, s->opts.tag_pattern) < 0 ||
	    open_registry(s) < 0)
		return RW_ERROR;
	s->set = rw_image_set_new();
	if (rw_registry_collect(s->set, s->reg, &s->opts.repos, s->filter) < 0)
		return RW_ERROR;
	log_stats(s);
	warn_undated(s->set);
	return rw_timeline_new(&s->tl, s->set, s->tz, (size_t)s->opts.keep);
}

void session_close(cmd_session *s)
{
	rw_timeline_free(s->tl);
	rw_image_set_free(s->set);
	rw_registry_free(s->reg);
	rw_cache_free(s->cache);
	rw_tag_filter_free(s->filter);
	rw_tz_free(s->tz);
	rw_options_dispose(&s->opts);
}

int print_json(void *json_value)
{
	int rc = json_dumpf(json_value, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	fputc('\n', stdout);
	json_decref(json_value);
	return rc;
}
