/*
 * What every backend shares: construction by name, the repository -> app
 * mapping rule, and the computation of an app's new image.
 */
#include "internal.h"

#include "rewind/errors.h"
#include "rewind/reference.h"
#include "rewind/rewrite.h"

#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	int (*new_fn)(rw_orchestrator **out, const rw_orchestrator_opts *opts);
} backends[] = {
	{ "marathon", rw_marathon_new },
	{ "swarm", rw_swarm_new },
	{ "git", rw_git_new },
};

int rw_orchestrator_new(rw_orchestrator **out, const char *name, const rw_orchestrator_opts *opts)
{
	for (size_t i = 0; i < RW_ARRAY_SIZE(backends); i++)
		if (!strcmp(backends[i].name, name))
			return backends[i].new_fn(out, opts);
	return rw_error_set(RW_ERR_CONFIG, "unknown orchestrator '%s' (known: marathon, swarm, git)", name);
}

void rw_orchestrator_free(rw_orchestrator *o)
{
	if (o)
		o->free(o);
}

rw_strmap *rw_orchestrator_copy_ids(const rw_strmap *app_ids)
{
	rw_strmap *out = rw_strmap_new();
	const char *key;
	void *value;
	size_t iter = 0;

	while (app_ids && rw_strmap_next(&key, &value, app_ids, &iter))
		rw_strmap_put(out, key, rw_strdup(value));
	return out;
}

/* name ends with suffix right after a separator (or is it) */
static bool ends_with_part(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);

	if (n < s || strcmp(name + n - s, suffix))
		return false;
	return n == s || strchr("/_-", name[n - s - 1]);
}

/* "/ds/prod" is a prefix of "/ds/prod/web" but not of "/ds/prod-old/web" */
static bool under_prefix(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);

	if (!n)
		return true;
	if (strncmp(name, prefix, n))
		return false;
	return strchr("/_-", prefix[n - 1]) || name[n] == '/' || name[n] == '_';
}

static void collect(rw_strlist *out, const rw_strlist *candidates, const char *prefix, const char *suffix)
{
	for (size_t i = 0; i < candidates->count; i++) {
		const char *c = candidates->items[i];

		if (prefix && !under_prefix(c, prefix))
			continue;
		if (ends_with_part(c, suffix))
			rw_strlist_push(out, c);
	}
}

static void join(rw_buf *b, const rw_strlist *l)
{
	for (size_t i = 0; i < l->count; i++)
		rw_buf_printf(b, "%s%s", i ? ", " : "", l->items[i]);
}

int rw_orchestrator_match(char **app_id, const rw_orchestrator_opts *opts,
	const rw_strlist *candidates, const char *prefix, const char *repo)
{
	const char *explicit_id = opts && opts->app_ids ? rw_strmap_get(opts->app_ids, repo) : NULL;
	const char *base = strrchr(repo, '/');
	rw_strlist found = RW_STRLIST_INIT;
	rw_buf names = RW_BUF_INIT;
	int error = 0;

	if (explicit_id) {
		*app_id = rw_strdup(explicit_id);
		return 0;
	}
	collect(&found, candidates, prefix, repo);
	if (!found.count && base)
		collect(&found, candidates, prefix, base + 1);
	if (found.count == 1) {
		*app_id = rw_strdup(found.items[0]);
	} else if (!found.count) {
		error = rw_error_set(RW_ERR_ORCHESTRATOR, "no app for repository '%s'%s%s%s: map it with [app \"%s\"] id = ...",
			repo, prefix && *prefix ? " under '" : "", prefix && *prefix ? prefix : "",
			prefix && *prefix ? "'" : "", repo);
	} else {
		join(&names, &found);
		error = rw_error_set(RW_ERR_ORCHESTRATOR, "repository '%s' matches %zu apps (%s): map it with [app \"%s\"] id = ...",
			repo, found.count, names.ptr, repo);
	}
	rw_buf_dispose(&names);
	rw_strlist_dispose(&found);
	return error;
}

int rw_orchestrator_image_for(char **out, const char *current, const char *repo,
	const char *tag, const char *digest, bool pin)
{
	rw_reference ref;
	const char *base = strrchr(repo, '/');
	bool had_digest;

	if (rw_reference_parse(&ref, current) < 0)
		return rw_error_set(RW_ERR_ORCHESTRATOR, "%s", rw_error_last()->message);
	if (!rw_rewrite_path_matches(ref.path, repo) && !(base && rw_rewrite_path_matches(ref.path, base + 1))) {
		rw_error_set(RW_ERR_ORCHESTRATOR, "runs image '%s', which is not of repository '%s'", current, repo);
		rw_reference_dispose(&ref);
		return RW_ERROR;
	}
	had_digest = ref.digest != NULL;
	free(ref.tag);
	ref.tag = rw_strdup(tag);
	free(ref.digest);
	ref.digest = (had_digest || pin) && digest ? rw_strdup(digest) : NULL;
	*out = rw_reference_format(&ref);
	rw_reference_dispose(&ref);
	return 0;
}
