/* rewind dates: the dates a release can be rolled back to, newest first. */
#include "cmd.h"

#include "rewind/errors.h"
#include "rewind/log.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const cmd_info dates_info = {
	"dates",
	"rewind dates --registry URL --repos A,B,C [--env NAME] [options]",
	"Lists the days on which the repositories released, newest first: the days\n"
	"of the newest --keep images of each repository. A date is complete when\n"
	"every repository has an image on or before it; rewind plan tells what a\n"
	"rollback to a date deploys.",
	RW_CMD_DATES,
};

void *image_json(const char *repo, const rw_image *img)
{
	char stamp[RW_STAMP_MAX];

	rw_time_format_utc(stamp, img->created);
	return json_pack("{s:s, s:s, s:s, s:s}", "repo", repo, "tag", img->tag,
		"digest", img->digest, "created", stamp);
}

/* The repositories without an image as of day, comma-separated, or NULL. */
static char *missing_of(const rw_timeline *tl, const char *day)
{
	rw_plan *plan;
	rw_buf out = RW_BUF_INIT;

	if (rw_plan_new(&plan, tl, day) < 0) {
		rw_error_clear();
		return NULL;
	}
	for (size_t i = 0; i < rw_plan_count(plan); i++) {
		const rw_plan_entry *e = rw_plan_entry_at(plan, i);

		if (!e->image)
			rw_buf_printf(&out, "%s%s", out.size ? ", " : "", e->repo);
	}
	rw_plan_free(plan);
	return out.size ? rw_buf_detach(&out) : NULL;
}

static void print_text(const cmd_session *s)
{
	for (size_t i = 0; i < rw_timeline_date_count(s->tl); i++) {
		const rw_date *d = rw_timeline_date(s->tl, i);

		printf("%s ", d->day);
		for (size_t j = 0; j < d->changed_count; j++)
			printf("%s %s %s", j ? "," : "", d->changed[j].repo, d->changed[j].image->tag);
		if (!d->complete) {
			char *missing = missing_of(s->tl, d->day);

			printf("  (incomplete: no image yet for %s)", missing ? missing : "some repositories");
			free(missing);
		}
		putchar('\n');
	}
}

static json_t *repos_json(const rw_options *o)
{
	json_t *a = json_array();

	for (size_t i = 0; i < o->repos.count; i++)
		json_array_append_new(a, json_string(o->repos.items[i]));
	return a;
}

static json_t *changed_json(const rw_date *d)
{
	json_t *a = json_array();

	for (size_t j = 0; j < d->changed_count; j++)
		json_array_append_new(a, image_json(d->changed[j].repo, d->changed[j].image));
	return a;
}

static json_t *undated_json(const rw_image_set *set)
{
	json_t *a = json_array();

	for (size_t i = 0; i < rw_image_set_count(set); i++) {
		const rw_repo_images *r = rw_image_set_repo(set, i);

		for (size_t j = 0; j < r->count; j++)
			if (!r->images[j].dated)
				json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "repo", r->name,
					"tag", r->images[j].tag, "digest", r->images[j].digest));
	}
	return a;
}

static json_t *dates_json(const cmd_session *s)
{
	json_t *dates = json_array();

	for (size_t i = 0; i < rw_timeline_date_count(s->tl); i++) {
		const rw_date *d = rw_timeline_date(s->tl, i);

		json_array_append_new(dates, json_pack("{s:s, s:b, s:o}", "date", d->day,
			"complete", d->complete, "changed", changed_json(d)));
	}
	return json_pack("{s:s?, s:o, s:s, s:s, s:o, s:o}", "env", s->opts.env,
		"repos", repos_json(&s->opts), "timezone", s->opts.timezone,
		"filter", rw_tag_filter_describe(s->filter), "dates", dates, "undated", undated_json(s->set));
}

/* rollback.json keeps the original script's shape: date -> [{tag: repo}]. */
static json_t *rollback_json(const cmd_session *s)
{
	json_t *rollbacks = json_object(), *complete = json_object();

	for (size_t i = 0; i < rw_timeline_date_count(s->tl); i++) {
		const rw_date *d = rw_timeline_date(s->tl, i);
		json_t *list = json_array();

		for (size_t j = 0; j < d->changed_count; j++)
			json_array_append_new(list, json_pack("{s:s}", d->changed[j].image->tag, d->changed[j].repo));
		json_object_set_new(rollbacks, d->day, list);
		json_object_set_new(complete, d->day, json_boolean(d->complete));
	}
	return json_pack("{s:o, s:o, s:o, s:s?, s:s}", "all", repos_json(&s->opts),
		"rollbacks", rollbacks, "complete", complete, "env", s->opts.env,
		"timezone", s->opts.timezone);
}

static int write_dump(const cmd_session *s)
{
	json_t *j = rollback_json(s);
	char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	char *path = rw_printf("%s/rollback.json", s->opts.dump);
	int error = rw_mkdir_p(s->opts.dump, 0755);

	if (!error)
		error = rw_file_write_atomic(path, text, strlen(text));
	if (!error)
		rw_info("wrote %s", path);
	free(text);
	free(path);
	json_decref(j);
	return error;
}

int dates_main(const cmd_info *info, int argc, char **argv)
{
	cmd_session s;
	int rc = session_open(&s, info, argc, argv);

	if (rc == 0 && s.opts.dump)
		rc = write_dump(&s);
	if (rc == 0) {
		if (!rw_timeline_date_count(s.tl))
			rw_warn("no dated image of %s: no date to offer", rw_tag_filter_describe(s.filter));
		if (s.opts.json)
			print_json(dates_json(&s));
		else
			print_text(&s);
	}
	if (rc < 0)
		rc = cmd_error();
	else
		rc = 0;
	session_close(&s);
	return rc;
}

int cmd_dates(int argc, char **argv)
{
	return dates_main(&dates_info, argc, argv);
}
