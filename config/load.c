/*
 * Loading options: command line, then environment, then the configuration
 * file (libgit2 parses it; rewind checks every key it holds).
 */
#include "internal.h"

#include "rewind/datetime.h"
#include "rewind/manifest.h"
#include "rewind/reference.h"
#include "rewind/strmap.h"

#include <ctype.h>
#include <git2.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
	const option_def *def;
	const char *value; /* NULL for a flag without =value */
} cli_value;

typedef struct {
	cli_value *vals;
	size_t count;
	long verbose;
	const char *config;
} cli_args;

static int unknown_option(const char *arg, unsigned cmd)
{
	static const char *names[] = { "dates", "plan", "get", "run", "undo", "history" };
	const char *name = "rewind";

	for (size_t i = 0; i < RW_ARRAY_SIZE(names); i++)
		if (cmd == 1u << i)
			name = names[i];

	return rw_error_set(RW_ERR_USAGE, "unknown option '%s' for 'rewind %s' (see rewind %s --help)", arg, name, name);
}

static void cli_push(cli_args *a, const option_def *d, const char *value)
{
	a->vals = rw_realloc(a->vals, (a->count + 1) * sizeof(cli_value));
	a->vals[a->count].def = d;
	a->vals[a->count].value = value;
	a->count++;
}

/* -q, -v, -vv, -h */
static int parse_short(cli_args *a, const char *arg, unsigned cmd)
{
	for (const char *p = arg + 1; *p; p++) {
		const option_def *d = option_find(p, 1, cmd);

		if (!d)
			return unknown_option(arg, cmd);
		if (d->type == OPT_COUNT)
			a->verbose++;
		else
			cli_push(a, d, NULL);
	}
	return 0;
}

static int parse_argv(cli_args *a, unsigned cmd, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i], *eq, *value = NULL;
		const option_def *d;
		size_t len;

		if (arg[0] == '-' && arg[1] && arg[1] != '-') {
			if (parse_short(a, arg, cmd) < 0)
				return RW_ERROR;
			continue;
		}
		if (strncmp(arg, "--", 2) || !arg[2])
			return rw_error_set(RW_ERR_USAGE, "unexpected argument '%s' (options are written --name value)", arg);
		eq = strchr(arg, '=');
		len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
		if (len == 6 && !strncmp(arg + 2, "config", 6)) {
			if (!eq && i + 1 >= argc)
				return rw_error_set(RW_ERR_USAGE, "option '--config' needs a value: FILE");
			a->config = eq ? eq + 1 : argv[++i];
			continue;
		}
		d = option_find(arg + 2, len, cmd);
		if (!d)
			return unknown_option(arg, cmd);
		if (eq) {
			value = eq + 1;
		} else if (d->arg) {
			if (i + 1 >= argc)
				return rw_error_set(RW_ERR_USAGE, "option '--%s' needs a value: %s", d->name, d->arg);
			value = argv[++i];
		}
		if (d->type == OPT_COUNT && !value)
			a->verbose++;
		else
			cli_push(a, d, value);
	}
	return 0;
}

/* The line of `name` (section[.sub].key) in a git-config file, 0 if not found. */
static int config_line(const char *path, const char *name)
{
	char *data, *line, *section = rw_strdup("");
	int lineno = 0, found = 0;

	if (rw_file_read(&data, NULL, path, 16u << 20) < 0) {
		rw_error_clear();
		free(section);
		return 0;
	}
	for (line = data; line && !found; lineno++) {
		char *nl = strchr(line, '\n'), *p;

		if (nl)
			*nl = '\0';
		p = line + strspn(line, " \t");
		if (*p == '[') {
			char *sec = p + 1, *end = strchr(sec, ']'), *q = strchr(sec, '"'), *sub = NULL;
			size_t slen = strcspn(sec, " \t\".]");

			if (q && end && q < end) {
				sub = q + 1;
				*strchrnul(sub, '"') = '\0';
			}
			free(section);
			section = rw_printf("%.*s%s%s", (int)slen, sec, sub ? "." : "", sub ? sub : "");
			for (char *s = section; *s && *s != '.'; s++)
				*s = (char)tolower((unsigned char)*s);
		} else if (isalpha((unsigned char)*p)) {
			size_t klen = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-");
			char *full = rw_printf("%s.%.*s", section, (int)klen, p);

			for (char *s = strrchr(full, '.'); *s; s++)
				*s = (char)tolower((unsigned char)*s);
			if (!strcmp(full, name))
				found = lineno + 1;
			free(full);
		}
		line = nl ? nl + 1 : NULL;
	}
	free(section);
	free(data);
	return found;
}

static char *where(const char *path, const char *name)
{
	int line = config_line(path, name);

	return line ? rw_printf("%s:%d", path, line) : rw_strdup(path);
}

/* Checks one entry name against the known sections and keys. */
static int check_entry(const char *path, const char *name)
{
	const char *dot = strchr(name, '.'), *last = strrchr(name, '.');
	char *section = rw_strndup(name, (size_t)(dot - name));
	char *loc = NULL;
	int error = 0;

	if (!strcmp(section, "app")) {
		if (dot == last || strcmp(last + 1, "id")) {
			loc = where(path, name);
			error = rw_error_set(RW_ERR_CONFIG, "%s: [app \"REPOSITORY\"] takes one key, id", loc);
		}
	} else if (!option_known_section(section)) {
		loc = where(path, name);
		error = rw_error_set(RW_ERR_CONFIG, "%s: unknown section [%s] (known: registry, release, env, cache, output, state, app, marathon, swarm, git)", loc, section);
	} else if (!strcmp(section, "env") && dot == last) {
		loc = where(path, name);
		error = rw_error_set(RW_ERR_CONFIG, "%s: [env] needs the environment's name, e.g. [env \"prod\"]", loc);
	} else if (!option_known_key(section, last + 1)) {
		rw_buf keys = RW_BUF_INIT;

		option_keys_of(&keys, section);
		loc = where(path, name);
		error = rw_error_set(RW_ERR_CONFIG, "%s: unknown key '%s' in section [%s] (known: %s)", loc, last + 1, section, keys.ptr);
		rw_buf_dispose(&keys);
	}
	free(loc);
	free(section);
	return error;
}

static int libgit2_error(const char *path)
{
	const git_error *e = git_error_last();

	return rw_error_set(RW_ERR_CONFIG, "cannot read configuration '%s': %s", path, e ? e->message : "unknown error");
}

/* Reads every entry of the file into a map name -> value, checking each. */
static int read_config(rw_strmap **out, const char *path)
{
	git_config *cfg = NULL;
	git_config_iterator *it = NULL;
	git_config_entry *entry;
	rw_strmap *map = rw_strmap_new();
	int rc, error = 0;

	if (access(path, R_OK) < 0) {
		rw_strmap_free(map, free);
		return rw_error_set_os("cannot read configuration '%s'", path);
	}
	git_libgit2_init();
	if (git_config_open_ondisk(&cfg, path) < 0 || git_config_iterator_new(&it, cfg) < 0) {
		error = libgit2_error(path);
		goto done;
	}
	while (!error && (rc = git_config_next(&entry, it)) == 0) {
		error = check_entry(path, entry->name);
		if (!error)
			free(rw_strmap_put(map, entry->name, rw_strdup(entry->value ? entry->value : "true")));
	}
	if (!error && rc != GIT_ITEROVER)
		error = libgit2_error(path);
done:
	git_config_iterator_free(it);
	git_config_free(cfg);
	git_libgit2_shutdown();
	if (error) {
		rw_strmap_free(map, free);
		return error;
	}
	*out = map;
	return 0;
}

static const char *find_config_path(const cli_args *a, const char *global)
{
	const char *p = a->config ? a->config : global;

	if (p)
		return p;
	p = getenv("REWIND_CONFIG");
	if (p && *p)
		return p;
	return access("rewind.conf", F_OK) == 0 ? "rewind.conf" : NULL;
}

/* A value from the file: [section "env"] wins over [section]. */
static const char *config_value(char **name_out, const rw_strmap *map, const option_def *d, const char *env)
{
	char *name;
	const char *v = NULL;

	if (env) {
		name = rw_printf("%s.%s.%s", d->section, env, d->key);
		v = rw_strmap_get(map, name);
		if (v) {
			*name_out = name;
			return v;
		}
		free(name);
	}
	if (!strcmp(d->section, "env"))
		return NULL;
	name = rw_printf("%s.%s", d->section, d->key);
	v = rw_strmap_get(map, name);
	if (v)
		*name_out = name;
	else
		free(name);
	return v;
}

static const cli_value *cli_find(const cli_args *a, const option_def *d)
{
	const cli_value *found = NULL;

	for (size_t i = 0; i < a->count; i++)
		if (a->vals[i].def == d)
			found = &a->vals[i]; /* the last one wins, as with git */
	return found;
}

static int apply_one(rw_options *o, const option_def *d, const cli_args *a, const rw_strmap *map, const char *path)
{
	const cli_value *cv = cli_find(a, d);
	const char *v;
	char *name = NULL, *source;
	int error;

	if (cv) {
		source = rw_printf("--%s", d->name);
		error = option_set(o, d, cv->value ? cv->value : "true", source, RW_ERR_USAGE);
		free(source);
		return error;
	}
	if (d->env && (v = getenv(d->env)) && *v)
		return option_set(o, d, v, d->env, RW_ERR_USAGE);
	if (!map || !d->section || !(v = config_value(&name, map, d, o->env)))
		return 0;
	source = where(path, name);
	error = option_set(o, d, v, source, RW_ERR_CONFIG);
	free(source);
	free(name);
	return error;
}

/* [app "web"] id = /ds/prod/shop/web: the explicit repository -> app map */
static void load_app_ids(rw_options *o, const rw_strmap *map)
{
	const char *key;
	void *value;
	size_t it = 0;

	o->app_ids = rw_strmap_new();
	while (map && rw_strmap_next(&key, &value, map, &it)) {
		const char *last = strrchr(key, '.');

		if (rw_str_startswith(key, "app.") && last > key + 3) {
			char *repo = rw_strndup(key + 4, (size_t)(last - key - 4));

			free(rw_strmap_put(o->app_ids, repo, rw_strdup(value)));
			free(repo);
		}
	}
}

static void set_defaults(rw_options *o)
{
	memset(o, 0, sizeof(*o));
	o->keep = 10;
	o->parallel = 1;
	o->timeout = 600;
	o->concurrency = 16;
	o->page_size = 1000;
	o->connect_timeout = 10;
	o->stall_timeout = 30;
	o->retries = 3;
}

static int apply_all(rw_options *o, unsigned cmd, const cli_args *a, const rw_strmap *map, const char *path)
{
	const option_def *env_def = option_find("env", 3, cmd);

	/* the environment first: it picks the subsections of the file */
	if (apply_one(o, env_def, a, map, path) < 0)
		return RW_ERROR;
	for (const option_def *d = option_table; d->name; d++) {
		if (d == env_def || !(d->commands & cmd))
			continue;
		if (apply_one(o, d, a, map, path) < 0)
			return RW_ERROR;
	}
	o->verbose += a->verbose;
	return 0;
}

static int check_repos(rw_options *o)
{
	if (!o->repos.count)
		return rw_error_set(RW_ERR_USAGE, "no repositories given: use --repos a,b,c, REWIND_REPOS or [release] repos in rewind.conf");
	for (size_t i = 0; i < o->repos.count; i++) {
		if (!rw_repository_name_valid(o->repos.items[i]))
			return rw_error_set(RW_ERR_USAGE, "invalid repository name '%s' in --repos (lowercase letters, digits, '.', '_', '-' and '/')", o->repos.items[i]);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(o->repos.items[i], o->repos.items[j]))
				return rw_error_set(RW_ERR_USAGE, "repository '%s' is given twice in --repos", o->repos.items[i]);
	}
	return 0;
}

static int check_registry(rw_options *o)
{
	if (!o->registry || !*o->registry)
		return rw_error_set(RW_ERR_USAGE, "no registry given: use --registry URL, REWIND_REGISTRY or [registry] url in rewind.conf");
	if (!strstr(o->registry, "://")) {
		char *url = rw_printf("https://%s", o->registry);

		free(o->registry);
		o->registry = url;
	}
	if (!rw_str_startswith(o->registry, "https://") && !rw_str_startswith(o->registry, "http://"))
		return rw_error_set(RW_ERR_USAGE, "invalid registry URL '%s': only http:// and https:// are supported", o->registry);
	return 0;
}

/*
 * A password or token in a URL would sit on the command line, in shell
 * history and in every message that names the URL: refuse it and say where
 * secrets go instead. (ssh://git@host names a user, not a secret.)
 */
static int check_url_secret(const char *option, const char *url)
{
	const char *auth = url ? strstr(url, "://") : NULL;
	size_t n;
	const char *at;

	if (!auth)
		return 0;
	auth += 3;
	n = strcspn(auth, "/?#");
	at = memchr(auth, '@', n);
	if (!at)
		return 0;
	if (rw_str_startswith(url, "ssh://") && !memchr(auth, ':', (size_t)(at - auth)))
		return 0;
	return rw_error_set(RW_ERR_USAGE, "%s: credentials in the URL are refused: give them with the "
		"username and password-file (or token-file) settings", option);
}

static int check_urls(const rw_options *o)
{
	if (check_url_secret("--registry", o->registry) < 0 ||
	    check_url_secret("--marathon-url", o->marathon_url) < 0 ||
	    check_url_secret("--swarm-host", o->swarm_host) < 0 ||
	    check_url_secret("--git-url", o->git_url) < 0)
		return RW_ERROR;
	return 0;
}

static int check_run_options(rw_options *o)
{
	if (o->on_failure && strcmp(o->on_failure, "stop") && strcmp(o->on_failure, "revert"))
		return rw_error_set(RW_ERR_USAGE, "invalid --on-failure '%s': expected stop or revert", o->on_failure);
	if (o->parallel < 1 || o->parallel > 64)
		return rw_error_set(RW_ERR_USAGE, "--parallel must be between 1 and 64 (got %ld)", o->parallel);
	if (o->timeout < 1)
		return rw_error_set(RW_ERR_USAGE, "--timeout must be at least 1 second");
	if (!o->on_failure)
		o->on_failure = rw_strdup("stop");
	return 0;
}

static int validate(rw_options *o, unsigned cmd)
{
	if (!o->tag_suffix && o->env)
		o->tag_suffix = rw_strdup(o->env);
	if (!o->timezone)
		o->timezone = rw_strdup("UTC");
	if (!o->platform)
		o->platform = rw_strdup("linux/amd64");
	if (o->concurrency < 1 || o->concurrency > 256)
		return rw_error_set(RW_ERR_USAGE, "--concurrency must be between 1 and 256 (got %ld)", o->concurrency);
	if (o->page_size < 1)
		return rw_error_set(RW_ERR_USAGE, "--page-size must be at least 1");
	if (o->connect_timeout < 1 || o->stall_timeout < 1)
		return rw_error_set(RW_ERR_USAGE, "time-outs must be at least 1 second");
	if (o->retries > 10)
		return rw_error_set(RW_ERR_USAGE, "--retries must be at most 10 (got %ld)", o->retries);
	if (rw_platform_validate(o->platform) < 0)
		return RW_ERROR;
	if ((cmd == RW_CMD_PLAN || cmd == RW_CMD_RUN) && !o->date)
		return rw_error_set(RW_ERR_USAGE, "%s needs --date YYYY-MM-DD (rewind dates lists the dates offered)",
			cmd == RW_CMD_PLAN ? "plan" : "run");
	if (o->date && rw_day_validate(o->date) < 0)
		return RW_ERROR;
	if (check_run_options(o) < 0 || check_urls(o) < 0)
		return RW_ERROR;
	if (!(cmd & RW_CMD_READ))
		return 0;
	if (check_registry(o) < 0)
		return RW_ERROR;
	return check_repos(o);
}

int rw_options_load(rw_options *o, unsigned cmd, const char *config_file, int argc, char **argv)
{
	cli_args a = { 0 };
	rw_strmap *map = NULL;
	const char *path;
	int error;

	set_defaults(o);
	error = parse_argv(&a, cmd, argc, argv);
	if (error)
		goto done;
	if (cli_find(&a, option_find("help", 4, cmd))) {
		o->help = true;
		goto done;
	}
	path = find_config_path(&a, config_file);
	if (path) {
		error = read_config(&map, path);
		if (error)
			goto done;
		o->config_file = rw_strdup(path);
	}
	error = apply_all(o, cmd, &a, map, path);
	load_app_ids(o, map);
	if (!error)
		error = validate(o, cmd);
done:
	rw_strmap_free(map, free);
	free(a.vals);
	return error;
}

void rw_options_dispose(rw_options *o)
{
	for (const option_def *d = option_table; d->name; d++) {
		void *field = (char *)o + d->offset;

		if (d->type == OPT_STRING) {
			free(*(char **)field);
			*(char **)field = NULL;
		} else if (d->type == OPT_LIST) {
			rw_strlist_dispose(field);
		}
	}
	free(o->config_file);
	o->config_file = NULL;
	rw_strmap_free(o->app_ids, free);
	o->app_ids = NULL;
}
