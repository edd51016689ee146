/*
 * Orchestrators: where services run, and how rewind redeploys them.
 *
 * One interface, one backend per file (orchestrator/marathon.c, swarm.c,
 * git.c), modelled on libgit2's git_odb_backend: a struct of function
 * pointers filled in by the backend's constructor and released by its
 * `free`. The run loop (run/) drives every backend the same way:
 *
 *   open -> find_app (per repository) -> current_image
 *        -> update (write the image, start the deploy)
 *        -> poll until RW_DEPLOY_DONE / RW_DEPLOY_FAILED (or the time-out)
 *        -> publish (backends that deploy all at once: git commits and pushes)
 *
 * Images are full references as the orchestrator writes them
 * ("registry.example.com/web:1.7.9-master@sha256:..."); rewind computes the
 * new one from the current one (rw_orchestrator_image_for), changing only
 * the tag and digest.
 */
#ifndef REWIND_ORCHESTRATOR_H
#define REWIND_ORCHESTRATOR_H

#include <stdbool.h>

#include "rewind/http.h"
#include "rewind/strmap.h"
#include "rewind/util.h"

typedef enum {
	RW_DEPLOY_RUNNING,
	RW_DEPLOY_DONE,
	RW_DEPLOY_FAILED,
} rw_deploy_state;

typedef struct rw_orchestrator rw_orchestrator;

struct rw_orchestrator {
	const char *name; /* "marathon", "swarm", "git" */

	/* Connects and reads what find_app needs (lists apps, clones). */
	int (*open)(rw_orchestrator *o);

	/*
	 * The app of a repository: the explicit mapping when there is one,
	 * else the one app whose id/name ends with the repository name under
	 * the configured prefix. None or several: RW_ERR_ORCHESTRATOR error
	 * naming them (rw_orchestrator_match does the rule).
	 */
	int (*find_app)(char **app_id, rw_orchestrator *o, const char *repo);

	/* The image reference the app runs (is configured with) now. */
	int (*current_image)(char **image, rw_orchestrator *o, const char *app_id);

	/*
	 * Writes image into the app's configuration, every other field kept as
	 * it was, and starts the deploy. *deploy_id (may stay NULL) is handed
	 * back to poll. force: override a lock (Marathon's force=true).
	 */
	int (*update)(char **deploy_id, rw_orchestrator *o, const char *app_id,
		const char *image, bool force);

	/*
	 * Where a deploy stands, without blocking long. *detail (may stay NULL)
	 * says why it failed or what it waits for. RW_ERROR only when the
	 * orchestrator cannot be asked.
	 */
	int (*poll)(rw_deploy_state *state, char **detail, rw_orchestrator *o,
		const char *app_id, const char *deploy_id);

	/*
	 * Backends that deploy everything at once (git: commit and push) do it
	 * here, after every update; NULL for the others. message: the commit
	 * message. *detail: what was published (e.g. the commit id).
	 */
	int (*publish)(char **detail, rw_orchestrator *o, const char *message);

	/* Warnings about an app the operator must see (image automation). NULL: none. */
	char *(*warning)(rw_orchestrator *o, const char *app_id);

	/* What update would do, in words, for plan and --dry-run. */
	char *(*describe)(rw_orchestrator *o, const char *app_id, const char *image);

	void (*free)(rw_orchestrator *o);
};

/* Everything a backend may be configured with (config sections of its name). */
typedef struct {
	const char *env;
	const rw_strmap *app_ids;  /* repository -> explicit app id ([app "web"] id) */
	rw_http_opts http;         /* TLS and time-outs for HTTP backends */
	const char *user;          /* who runs the rollback, for commit messages */

	const char *marathon_url;
	const char *marathon_app_prefix;
	const char *marathon_auth; /* none | basic | dcos | token */
	const char *marathon_username;
	const char *marathon_password_file;
	const char *marathon_token_file;

	const char *swarm_host;    /* unix:///var/run/docker.sock, tcp://h:2376, ssh://user@h */
	const char *swarm_service_prefix;
	const char *swarm_tls_ca;
	const char *swarm_tls_cert;
	const char *swarm_tls_key;
	const char *swarm_ssh_key;
	const char *swarm_known_hosts;

	const char *git_url;
	const char *git_branch;
	const rw_strlist *git_paths;
	const char *git_ssh_key;
	const char *git_known_hosts;
	const char *git_token_file;
	const char *git_workdir;   /* where to keep the clone (default: under cache_dir) */
	const char *cache_dir;     /* rewind's cache directory (--cache-dir), NULL: --no-cache */
	const char *git_author_name;
	const char *git_author_email;
} rw_orchestrator_opts;

/* A backend by name: RW_ERR_CONFIG error for an unknown name or missing setting. */
int rw_orchestrator_new(rw_orchestrator **out, const char *name, const rw_orchestrator_opts *opts);
void rw_orchestrator_free(rw_orchestrator *o);

/*
 * The mapping rule shared by the backends: the explicit id when opts maps
 * the repository; else among candidates (ids or names) under prefix (may be
 * NULL), the one that ends with the repository name ("/ds/prod/shop/cart"
 * for "shop/cart") after '/', '_' or '-', else with its last component.
 * None or several: RW_ERR_ORCHESTRATOR error naming them.
 */
int rw_orchestrator_match(char **app_id, const rw_orchestrator_opts *opts,
	const rw_strlist *candidates, const char *prefix, const char *repo);

/*
 * The new image for an app: current with its tag replaced by tag and its
 * digest by digest (a digest is added when current had one or pin is set).
 * RW_ERR_ORCHESTRATOR error when current is not an image of repo.
 */
int rw_orchestrator_image_for(char **out, const char *current, const char *repo,
	const char *tag, const char *digest, bool pin);

#endif
