/*
 * Options: every one settable on the command line, in the environment and
 * in the configuration file; the command line wins, then the environment,
 * then the file. The file is git-config syntax, read with libgit2, and may
 * hold per-environment subsections ([registry "prod"]) that win over the
 * plain section for that environment. Unknown keys are errors with the
 * file and line.
 */
#ifndef REWIND_CONFIG_H
#define REWIND_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "rewind/util.h"

/* Which commands take an option (a bit mask). */
enum {
	RW_CMD_DATES = 1 << 0,
	RW_CMD_PLAN = 1 << 1,
	RW_CMD_GET = 1 << 2,
	RW_CMD_RUN = 1 << 3,
	RW_CMD_UNDO = 1 << 4,
	RW_CMD_HISTORY = 1 << 5,
	RW_CMD_READ = RW_CMD_DATES | RW_CMD_PLAN | RW_CMD_GET | RW_CMD_RUN, /* read the registry */
	RW_CMD_DEPLOY = RW_CMD_PLAN | RW_CMD_RUN | RW_CMD_UNDO,             /* talk to an orchestrator */
	RW_CMD_ALL = RW_CMD_READ | RW_CMD_UNDO | RW_CMD_HISTORY,
};

typedef struct {
	char *config_file; /* the file read, NULL when none */
	char *env;
	char *registry;
	char *username;
	char *password_file;
	char *ca_file;
	bool insecure;
	char *platform;
	long concurrency;
	long page_size;
	long connect_timeout;
	long stall_timeout;
	long retries;
	rw_strlist repos;
	char *tag_suffix;
	char *tag_pattern;
	long keep;
	char *timezone;
	char *cache_dir;
	bool no_cache;
	bool json;
	bool quiet;
	long verbose;
	char *dump;
	char *date;
	bool allow_partial;
	bool help;

	/* orchestrators (rewind run, undo, plan) */
	char *orchestrator;
	long timeout;
	bool yes;
	bool dry_run;
	long parallel;
	char *on_failure;
	char *user;
	bool force;
	char *state_dir;
	char *journal;
	rw_strlist order;
	bool pin_digest;
	char *marathon_url;
	char *marathon_app_prefix;
	char *marathon_auth;
	char *marathon_username;
	char *marathon_password_file;
	char *marathon_token_file;
	char *swarm_host;
	char *swarm_service_prefix;
	char *swarm_tls_ca;
	char *swarm_tls_cert;
	char *swarm_tls_key;
	char *swarm_ssh_key;
	char *swarm_known_hosts;
	char *git_url;
	char *git_branch;
	rw_strlist git_paths;
	char *git_ssh_key;
	char *git_known_hosts;
	char *git_token_file;
	char *git_workdir;
	char *git_author_name;
	char *git_author_email;
	/* [app "REPO"] id = ...: repository -> app id (values are char *) */
	struct rw_strmap *app_ids;
} rw_options;

/*
 * Reads the options of command `cmd` from argv (the words after the command
 * name), the environment and the configuration file (config_file from a
 * global --config, else $REWIND_CONFIG, else ./rewind.conf when present).
 * RW_ERR_USAGE or RW_ERR_CONFIG errors say which option, variable or
 * file:line is wrong.
 */
int rw_options_load(rw_options *out, unsigned cmd, const char *config_file, int argc, char **argv);
void rw_options_dispose(rw_options *o);

/* Prints the options of cmd, one per line with its help, for --help. */
void rw_options_usage(FILE *f, unsigned cmd);

/*
 * The registry password: --password-file, else $REWIND_REGISTRY_PASSWORD,
 * else (only when no username is configured) the entry for the registry in
 * ~/.docker/config.json "auths", which also gives the username.
 */
int rw_credentials_load(char **username, char **password, const rw_options *o);

/* Credentials `docker login` left for a registry (an entry of config.json's "auths"). */
typedef struct {
	char *server;         /* the "auths" key, as written ("https://index.docker.io/v1/") */
	char *username;
	char *password;
	char *identity_token; /* an OAuth refresh token ("identitytoken"), or NULL */
} rw_docker_auth;

/*
 * The entry for registry_host ("host[:port]") in the "auths" of
 * $DOCKER_CONFIG/config.json, else ~/.docker/config.json, with a password
 * or an identity token: RW_ENOTFOUND when there is none (no file, no
 * usable entry). Credential helpers are not used. Dispose of out either
 * way (it wipes the secrets).
 */
int rw_docker_config_auth(rw_docker_auth *out, const char *registry_host);
void rw_docker_auth_dispose(rw_docker_auth *a);

/*
 * Does an "auths" key ("https://host:5000/v1/", "host:5000") name the
 * registry host? The whole host must be the same (case aside); docker.io,
 * index.docker.io and registry-1.docker.io are one registry.
 */
bool rw_docker_auth_key_matches(const char *key, const char *registry_host);

/* Where the cache lives: --cache-dir, $XDG_CACHE_HOME/rewind or ~/.cache/rewind; NULL with --no-cache. */
char *rw_options_cache_dir(const rw_options *o);

#endif
