/* rewind history: the rollbacks, newest first. */
#include "deploy.h"

#include "rewind/errors.h"
#include "rewind/log.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const cmd_info history_info = {
	"history",
	"rewind history [--env NAME] [--json] [options]",
	"Lists the rollbacks and undos recorded in the state directory, newest\n"
	"first: when, which environment and date, who, how it ended, and the\n"
	"journal (give it to rewind undo --journal).",
	RW_CMD_HISTORY,
};

static void counts(rw_journal *j, size_t *changed, size_t *total)
{
	*changed = *total = 0;
	for (size_t i = 0; i < rw_journal_count(j); i++) {
		(*total)++;
		*changed += rw_journal_entry_at(j, i)->changed;
	}
}

static void print_line(rw_journal *j)
{
	size_t changed, total;

	counts(j, &changed, &total);
	printf("%s  %-4s  %-8s  %-10s  %-10s  %-9s  %zu/%zu changed  %s%s\n",
		rw_journal_started(j) ? rw_journal_started(j) : "?", rw_journal_kind(j),
		rw_journal_env(j) ? rw_journal_env(j) : "-", !strcmp(rw_journal_kind(j), "run") ? rw_journal_target(j) : "undo",
		rw_journal_user(j) ? rw_journal_user(j) : "-", rw_journal_state(j), changed, total, rw_journal_path(j),
		rw_journal_undone_by(j) ? "  (undone)" : "");
}

static int history(cmd_session *s)
{
	char *dir = deploy_journal_dir(&s->opts);
	rw_strlist paths = RW_STRLIST_INIT;
	json_t *all = json_array();

	rw_journal_list(&paths, dir);
	for (size_t i = 0; i < paths.count; i++) {
		rw_journal *j;

		if (rw_journal_load(&j, paths.items[i]) < 0) {
			rw_warn("%s", rw_error_last()->message);
			rw_error_clear();
			continue;
		}
		if (!s->opts.env || (rw_journal_env(j) && !strcmp(rw_journal_env(j), s->opts.env))) {
			if (s->opts.json)
				json_array_append_new(all, json_load_file(paths.items[i], 0, NULL));
			else
				print_line(j);
		}
		rw_journal_free(j);
	}
	if (s->opts.json)
		print_json(all);
	else
		json_decref(all);
	if (!paths.count && !s->opts.json)
		fprintf(stderr, "rewind: no rollback recorded in %s\n", dir);
	rw_strlist_dispose(&paths);
	free(dir);
	return 0;
}

int cmd_history(int argc, char **argv)
{
	cmd_session s;
	int rc = session_options(&s, &history_info, argc, argv);

	if (rc < 0)
		rc = cmd_error();
	else if (rc == 0)
		rc = history(&s);
	else
		rc = 0;
	session_close(&s);
	return rc;
}
