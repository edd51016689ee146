/* Journals: JSON files in the state directory, rewritten at every step. */
#include "rewind/journal.h"
#include "rewind/datetime.h"
#include "rewind/errors.h"

#include <dirent.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define JOURNAL_MAX (16u * 1024 * 1024)

struct rw_journal {
	char *path;
	char *kind;
	char *env;
	char *target;
	char *orchestrator;
	char *user;
	char *state;
	char *started;
	char *finished;
	char *undone_by;
	rw_journal_entry *entries;
	size_t count;
};

static const char *state_names[] = {
	"pending", "unchanged", "deploying", "done", "failed", "reverted", "skipped",
};

const char *rw_svc_state_name(rw_svc_state s)
{
	return (size_t)s < RW_ARRAY_SIZE(state_names) ? state_names[s] : "unknown";
}

static rw_svc_state state_of(const char *name)
{
	for (size_t i = 0; name && i < RW_ARRAY_SIZE(state_names); i++)
		if (!strcmp(name, state_names[i]))
			return (rw_svc_state)i;
	return RW_SVC_FAILED; /* an unknown state is treated as the worst */
}

static char *dup_or_null(const char *s)
{
	return s ? rw_strdup(s) : NULL;
}

static void now_stamp(char out[RW_STAMP_MAX])
{
	rw_time_format_utc(out, (int64_t)time(NULL));
}

int rw_journal_new(rw_journal **out, const char *dir, const char *kind, const char *env,
	const char *target, const char *orchestrator, const char *user)
{
	rw_journal *j;
	char stamp[RW_STAMP_MAX], name[64];
	time_t t = time(NULL);
	struct tm tm;

	if (rw_mkdir_p(dir, 0700) < 0)
		return RW_ERROR;
	gmtime_r(&t, &tm);
	strftime(name, sizeof(name), "%Y%m%dT%H%M%SZ", &tm);
	j = rw_calloc(1, sizeof(*j));
	j->path = rw_printf("%s/%s-%s-%ld.json", dir, name, kind, (long)getpid());
	j->kind = rw_strdup(kind);
	j->env = dup_or_null(env);
	j->target = dup_or_null(target);
	j->orchestrator = dup_or_null(orchestrator);
	j->user = dup_or_null(user);
	j->state = rw_strdup("running");
	now_stamp(stamp);
	j->started = rw_strdup(stamp);
	*out = j;
	return 0;
}

rw_journal_entry *rw_journal_add(rw_journal *j, const char *repo, const char *app,
	const char *before, const char *after, const char *tag)
{
	rw_journal_entry *e;

	j->entries = rw_realloc(j->entries, (j->count + 1) * sizeof(*e));
	e = &j->entries[j->count++];
	memset(e, 0, sizeof(*e));
	e->repo = rw_strdup(repo);
	e->app = dup_or_null(app);
	e->before = dup_or_null(before);
	e->after = dup_or_null(after);
	e->tag = dup_or_null(tag);
	e->state = before && after && !strcmp(before, after) ? RW_SVC_UNCHANGED : RW_SVC_PENDING;
	return e;
}

void rw_journal_set_state(rw_journal *j, const char *state)
{
	char stamp[RW_STAMP_MAX];

	free(j->state);
	j->state = rw_strdup(state);
	if (strcmp(state, "running")) {
		now_stamp(stamp);
		free(j->finished);
		j->finished = rw_strdup(stamp);
	}
}

void rw_journal_set_undone_by(rw_journal *j, const char *path)
{
	free(j->undone_by);
	j->undone_by = rw_strdup(path);
}

static json_t *entry_json(const rw_journal_entry *e)
{
	return json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:s, s:b, s:s?, s:s?}",
		"repo", e->repo, "app", e->app, "before", e->before, "after", e->after,
		"tag", e->tag, "state", rw_svc_state_name(e->state), "changed", e->changed,
		"deploy_id", e->deploy_id, "detail", e->detail);
}

static json_t *journal_json(const rw_journal *j)
{
	json_t *services = json_array();

	for (size_t i = 0; i < j->count; i++)
		json_array_append_new(services, entry_json(&j->entries[i]));
	return json_pack("{s:i, s:s, s:s?, s:s?, s:s?, s:s?, s:s, s:s, s:s?, s:s?, s:o}",
		"version", 1, "kind", j->kind, "env", j->env, "target", j->target,
		"orchestrator", j->orchestrator, "user", j->user, "state", j->state,
		"started", j->started, "finished", j->finished, "undone_by", j->undone_by,
		"services", services);
}

int rw_journal_save(rw_journal *j)
{
	json_t *doc = journal_json(j);
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	int error = rw_file_write_atomic(j->path, text, strlen(text));

	free(text);
	json_decref(doc);
	if (error)
		return rw_error_prefix("cannot write the journal");
	return 0;
}

static char *get_str(json_t *obj, const char *key)
{
	return dup_or_null(json_string_value(json_object_get(obj, key)));
}

static int load_entries(rw_journal *j, json_t *services)
{
	json_t *s;
	size_t i;

	if (!json_is_array(services))
		return rw_error_set(RW_ERR_USAGE, "journal '%s' has no \"services\" list", j->path);
	json_array_foreach(services, i, s) {
		rw_journal_entry *e;
		const char *repo = json_string_value(json_object_get(s, "repo"));

		if (!repo)
			return rw_error_set(RW_ERR_USAGE, "journal '%s': service %zu has no \"repo\"", j->path, i + 1);
		e = rw_journal_add(j, repo, NULL, NULL, NULL, NULL);
		e->app = get_str(s, "app");
		e->before = get_str(s, "before");
		e->after = get_str(s, "after");
		e->tag = get_str(s, "tag");
		e->deploy_id = get_str(s, "deploy_id");
		e->detail = get_str(s, "detail");
		e->state = state_of(json_string_value(json_object_get(s, "state")));
		e->changed = json_is_true(json_object_get(s, "changed"));
	}
	return 0;
}

int rw_journal_load(rw_journal **out, const char *path)
{
	char *data;
	json_error_t jerr;
	json_t *doc;
	rw_journal *j;

	if (rw_file_read(&data, NULL, path, JOURNAL_MAX) < 0)
		return rw_error_prefix("cannot read the journal");
	doc = json_loads(data, 0, &jerr);
	free(data);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return rw_error_set(RW_ERR_USAGE, "journal '%s' is not valid JSON: %s (line %d)", path, jerr.text, jerr.line);
	}
	j = rw_calloc(1, sizeof(*j));
	j->path = rw_strdup(path);
	j->kind = get_str(doc, "kind");
	j->env = get_str(doc, "env");
	j->target = get_str(doc, "target");
	j->orchestrator = get_str(doc, "orchestrator");
	j->user = get_str(doc, "user");
	j->state = get_str(doc, "state");
	j->started = get_str(doc, "started");
	j->finished = get_str(doc, "finished");
	j->undone_by = get_str(doc, "undone_by");
	if (!j->kind)
		j->kind = rw_strdup("run");
	if (!j->state)
		j->state = rw_strdup("running");
	if (load_entries(j, json_object_get(doc, "services")) < 0) {
		json_decref(doc);
		rw_journal_free(j);
		return RW_ERROR;
	}
	json_decref(doc);
	*out = j;
	return 0;
}

void rw_journal_free(rw_journal *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->count; i++) {
		rw_journal_entry *e = &j->entries[i];

		free(e->repo);
		free(e->app);
		free(e->before);
		free(e->after);
		free(e->tag);
		free(e->deploy_id);
		free(e->detail);
	}
	free(j->entries);
	free(j->path);
	free(j->kind);
	free(j->env);
	free(j->target);
	free(j->orchestrator);
	free(j->user);
	free(j->state);
	free(j->started);
	free(j->finished);
	free(j->undone_by);
	free(j);
}

const char *rw_journal_path(const rw_journal *j) { return j->path; }
const char *rw_journal_kind(const rw_journal *j) { return j->kind; }
const char *rw_journal_env(const rw_journal *j) { return j->env; }
const char *rw_journal_target(const rw_journal *j) { return j->target; }
const char *rw_journal_orchestrator(const rw_journal *j) { return j->orchestrator; }
const char *rw_journal_user(const rw_journal *j) { return j->user; }
const char *rw_journal_state(const rw_journal *j) { return j->state; }
const char *rw_journal_started(const rw_journal *j) { return j->started; }
const char *rw_journal_undone_by(const rw_journal *j) { return j->undone_by; }
size_t rw_journal_count(const rw_journal *j) { return j->count; }

rw_journal_entry *rw_journal_entry_at(rw_journal *j, size_t i)
{
	return i < j->count ? &j->entries[i] : NULL;
}

static int newest_first(const void *a, const void *b)
{
	/* names start with a UTC time stamp: reverse string order is newest first */
	return strcmp(*(char *const *)b, *(char *const *)a);
}

int rw_journal_list(rw_strlist *paths, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	rw_strlist names = RW_STRLIST_INIT;

	if (!d)
		return 0; /* no journal yet */
	while ((de = readdir(d))) {
		if (rw_str_endswith(de->d_name, ".json") && de->d_name[0] != '.')
			rw_strlist_push(&names, de->d_name);
	}
	closedir(d);
	if (names.count)
		qsort(names.items, names.count, sizeof(char *), newest_first);
	for (size_t i = 0; i < names.count; i++)
		rw_strlist_push_owned(paths, rw_printf("%s/%s", dir, names.items[i]));
	rw_strlist_dispose(&names);
	return 0;
}
