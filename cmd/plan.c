/* rewind plan: the image of every repository as of a date. */
#include "deploy.h"

#include "rewind/errors.h"
#include "rewind/log.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const cmd_info plan_info = {
	"plan",
	"rewind plan --date YYYY-MM-DD --registry URL --repos A,B,C [options]",
	"Shows, for every repository, the image it would run after a rollback to\n"
	"the date: its newest image built on or before that day. Repositories\n"
	"that did not release that day go back to their newest older image.\n"
	"Fails when a repository has no image as of the date, unless\n"
	"--allow-partial.",
	RW_CMD_PLAN,
};

static void add_deploy_fields(json_t *img, const deploy_item *it)
{
	json_object_set_new(img, "app", json_string(it->app));
	json_object_set_new(img, "current", json_string(it->current));
	json_object_set_new(img, "image", json_string(it->after));
	json_object_set_new(img, "change", json_boolean(it->change));
	if (it->warning)
		json_object_set_new(img, "warning", json_string(it->warning));
}

static json_t *plan_json(const rw_plan *plan, const rw_options *o, const deploy_plan *dp)
{
	json_t *images = json_array(), *missing = json_array();

	for (size_t i = 0; i < rw_plan_count(plan); i++) {
		const rw_plan_entry *e = rw_plan_entry_at(plan, i);
		json_t *img;

		if (!e->image) {
			json_array_append_new(missing, json_string(e->repo));
			continue;
		}
		img = image_json(e->repo, e->image);
		json_object_set_new(img, "same_day", json_boolean(e->same_day));
		if (dp)
			add_deploy_fields(img, &dp->items[i]);
		json_array_append_new(images, img);
	}
	return json_pack("{s:s, s:s?, s:s, s:b, s:o, s:o}", "date", rw_plan_day(plan),
		"env", o->env, "timezone", o->timezone, "complete", rw_plan_complete(plan),
		"images", images, "missing", missing);
}

static int incomplete_error(const rw_plan *plan)
{
	rw_buf names = RW_BUF_INIT;

	for (size_t i = 0; i < rw_plan_count(plan); i++) {
		const rw_plan_entry *e = rw_plan_entry_at(plan, i);

		if (!e->image)
			rw_buf_printf(&names, "%s%s", names.size ? ", " : "", e->repo);
	}
	rw_error_set(RW_ERR_DATE, "cannot roll back to %s: no image on or before that day for %s "
		"(use --allow-partial to plan the other repositories)", rw_plan_day(plan), names.ptr);
	rw_buf_dispose(&names);
	return RW_ERROR;
}

/* With an orchestrator configured, each repository's app and change too. */
static int with_apps(deploy_plan *dp, rw_orchestrator **orch, cmd_session *s, const rw_plan *plan)
{
	int rc = deploy_orchestrator(orch, &s->opts);

	if (rc == RW_ENOTFOUND)
		return 0;
	if (rc < 0 || deploy_plan_build(dp, *orch, plan, &s->opts) < 0)
		return RW_ERROR;
	return 1;
}

static int show_plan(cmd_session *s)
{
	rw_plan *plan;
	rw_orchestrator *orch = NULL;
	deploy_plan dp = { NULL, 0 };
	int error = 0, apps = 0;

	if (rw_plan_new(&plan, s->tl, s->opts.date) < 0)
		return RW_ERROR;
	if (!rw_plan_complete(plan) && !s->opts.allow_partial)
		error = incomplete_error(plan);
	else if ((apps = with_apps(&dp, &orch, s, plan)) < 0)
		error = RW_ERROR;
	else if (s->opts.json)
		print_json(plan_json(plan, &s->opts, apps ? &dp : NULL));
	else
		deploy_plan_print(apps ? &dp : NULL, plan, s->tz);
	deploy_plan_dispose(&dp);
	rw_orchestrator_free(orch);
	rw_plan_free(plan);
	return error;
}

int cmd_plan(int argc, char **argv)
{
	cmd_session s;
	int rc;

	/* check --date before asking the registry anything */
	rc = session_open(&s, &plan_info, argc, argv);
	if (rc == 0)
		rc = show_plan(&s);
	rc = rc < 0 ? cmd_error() : 0;
	session_close(&s);
	return rc;
}
