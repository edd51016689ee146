/*
 * rewind get: the command of the script rewind replaces, kept so the
 * pipelines that call it keep working: `get --repo=a,b --env=E --dump=DIR`.
 */
#include "cmd.h"

static const cmd_info get_info = {
	"get",
	"rewind get --repo=A,B --env=NAME [--dump=DIR] [options]",
	"The same as rewind dates, with the spelling of the original script:\n"
	"--repo for --repos, and --dump DIR writes DIR/rollback.json in the\n"
	"script's shape ({\"all\": [...], \"rollbacks\": {date: [{tag: repo}]}}).",
	RW_CMD_GET,
};

int cmd_get(int argc, char **argv)
{
	return dates_main(&get_info, argc, argv);
}
