/*
 * rewind: roll every service back to the images it ran on a chosen day.
 * The entry point: global options, then the command table.
 */
#include "cmd.h"

#include "rewind/errors.h"
#include "rewind/log.h"

#include <stdio.h>
#include <string.h>

const char *cli_config_file;

typedef struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} command;

static const command commands[] = {
	{ "dates", cmd_dates, "list the dates a release can be rolled back to, newest first" },
	{ "plan", cmd_plan, "show the image of every repository as of a date" },
	{ "get", cmd_get, "the same as dates, with the original script's options (--repo, --env, --dump)" },
	{ "run", cmd_run, "roll every service back to its image as of a date, and redeploy it" },
	{ "undo", cmd_undo, "put every service of the last (or a given) rollback back" },
	{ "history", cmd_history, "list the rollbacks, newest first" },
};

static void usage(FILE *f)
{
	fputs("usage: rewind [--config FILE] <command> [options]\n"
	      "       rewind <command> --help\n"
	      "       rewind --version\n\n"
	      "Commands:\n", f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fputs("\nEvery option may also be set in the environment (REWIND_*) or in the\n"
	      "configuration file (./rewind.conf, $REWIND_CONFIG or --config).\n"
	      "See the README for the file's format and the exit codes.\n", f);
}

static int run_command(const char *name, int argc, char **argv)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return commands[i].fn(argc, argv);
	rw_error_set(RW_ERR_USAGE, "unknown command '%s' (see rewind --help)", name);
	return cmd_error();
}

int main(int argc, char **argv)
{
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(a, "--version")) {
			printf("rewind %s\n", REWIND_VERSION);
			return 0;
		}
		if (!strncmp(a, "--config=", 9)) {
			cli_config_file = a + 9;
		} else if (!strcmp(a, "--config") && i + 1 < argc) {
			cli_config_file = argv[++i];
		} else {
			rw_error_set(RW_ERR_USAGE, "unknown option '%s' before the command (see rewind --help)", a);
			return cmd_error();
		}
		i++;
	}
	if (i >= argc) {
		usage(stderr);
		return RW_EXIT_USAGE;
	}
	return run_command(argv[i], argc - i - 1, argv + i + 1);
}
