/* What the subcommands share: the table's signature and a session that
 * turns options into a timeline. */
#ifndef REWIND_CMD_H
#define REWIND_CMD_H

#include <stdio.h>

#include "rewind/cache.h"
#include "rewind/config.h"
#include "rewind/datetime.h"
#include "rewind/filter.h"
#include "rewind/registry.h"
#include "rewind/timeline.h"

#define REWIND_VERSION "0.1.0"

/* The global --config FILE given before the command, or NULL. */
extern const char *cli_config_file;

int cmd_dates(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_undo(int argc, char **argv);
int cmd_history(int argc, char **argv);

typedef struct {
	const char *name;     /* "dates" */
	const char *synopsis; /* "rewind dates [options]" */
	const char *about;    /* a paragraph for --help */
	unsigned mask;        /* RW_CMD_* */
} cmd_info;

typedef struct {
	rw_options opts;
	rw_cache *cache;
	rw_registry *reg;
	rw_tag_filter *filter;
	rw_image_set *set;
	rw_tz *tz;
	rw_timeline *tl;
} cmd_session;

/*
 * Loads the options and, unless --help was asked (then prints the help and
 * returns 1), reads the registry into s->set and builds s->tl.
 */
int session_open(cmd_session *s, const cmd_info *info, int argc, char **argv);
/* Only the options (for commands that do not read the registry); 1 after --help. */
int session_options(cmd_session *s, const cmd_info *info, int argc, char **argv);
void session_close(cmd_session *s);

/* Prints the last error as one line and returns its exit code. */
int cmd_error(void);

/* Shared by dates and get (get is dates with the original script's spelling). */
int dates_main(const cmd_info *info, int argc, char **argv);

/* {"repo", "tag", "digest", "created"} of an image (a jansson json_t *). */
void *image_json(const char *repo, const rw_image *img);

/* Prints a JSON value on stdout (sorted as built), newline-terminated. */
int print_json(void *json_value);

#endif
