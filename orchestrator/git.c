/*
 * The git backend ("GitOps"): services are deployed by an operator (Argo
 * CD, Flux) from manifests kept in a git repository, so a rollback is a
 * commit that changes image tags, pushed to the branch the operator
 * watches.
 *
 * open clones (or fetches) the branch into a cache directory and resets
 * it hard to the remote tip, so whatever a crashed run left is gone. The
 * files are read from the tip's tree, not the working tree: what rewind
 * commits is then byte for byte what was there plus the new tags, whatever
 * line-ending filters the user's git configuration has. update rewrites the
 * references (rewrite.c) and remembers the change; publish commits and
 * pushes, and when someone pushed in between, fetches, redoes every
 * remembered change on their files and pushes again.
 *
 * An app id is "<file>[,<file>...]#<repository>": the files (relative to
 * the repository root) that name the repository's image, and the name
 * searched for. Every occurrence is rewritten, so one service's image
 * cannot be half rolled back; carrying the repository makes the id mean
 * the same thing in a later process (undo) and keeps two services that
 * share a file apart.
 */
#include "internal.h"

#include "rewind/errors.h"
#include "rewind/known_hosts.h"
#include "rewind/log.h"
#include "rewind/reference.h"
#include "rewind/rewrite.h"
#include "rewind/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <git2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define PUSH_ATTEMPTS 3
#define FILE_MAX (16u << 20)     /* a manifest bigger than this is not one */
#define REMOTE_MSG_MAX 4096      /* what we keep of the remote's messages */
#define HISTORY_DEPTH 100        /* commits looked at for image automation */

typedef struct {
	char *path;         /* relative to the repository root */
	char *text;         /* the tip's content, plus our rewrites */
	size_t len;
	git_filemode_t mode;
	bool changed;
} git_file;

typedef struct {
	char *app_id;
	char *image;
} git_change;

typedef struct {
	rw_orchestrator parent;

	/* settings */
	char *url;
	char *display_url;  /* url without a password, for messages */
	char *branch;
	char *workdir;
	char *ssh_key;
	char *known_hosts;
	char *token_file;
	char *author_name;
	char *author_email;
	char *ca_file;
	bool insecure;
	rw_strlist paths;
	const rw_strmap *app_ids;
	bool libgit2_ready;

	/* state */
	git_repository *repo;
	git_file *files;
	size_t nfiles;
	rw_strlist automation; /* Argo CD Image Updater signs in the repository */
	git_change *changes;
	size_t nchanges;
	bool published;
	char *published_detail;

	/* one network operation */
	int auth_attempts;
	char *net_error;       /* why our callbacks refused: beats libgit2's words */
	rw_error_class net_class;
	rw_buf remote_msg;     /* what the remote printed (hooks) */
	char *push_status;     /* the remote's refusal of our ref, or NULL */
} git_backend;

/* --- helpers -------------------------------------------------------------- */

/* The last libgit2 error's message (never NULL). */
static const char *git_msg(void)
{
	const git_error *e = git_error_last();

	return e && e->message ? e->message : "unknown libgit2 error";
}

static int git_fail(const char *fmt, const char *arg)
{
	return rw_error_set(RW_ERR_ORCHESTRATOR, "git: %s%s: %s", fmt, arg ? arg : "", git_msg());
}

/* "host" and port of an ssh:// or scp-like (user@host:path) URL; false for others */
static bool ssh_host(const char *url, char **host, int *port)
{
	const char *p, *end;

	*port = 22;
	if (rw_str_startswith(url, "ssh://") || rw_str_startswith(url, "git+ssh://")) {
		p = strstr(url, "://") + 3;
		end = p + strcspn(p, "/");
		if (memchr(p, '@', (size_t)(end - p)))
			p = (const char *)memchr(p, '@', (size_t)(end - p)) + 1;
		if (*p == '[') {
			const char *close = memchr(p, ']', (size_t)(end - p));

			if (!close)
				return false;
			*host = rw_strndup(p + 1, (size_t)(close - p - 1));
			if (close[1] == ':')
				*port = atoi(close + 2);
			return true;
		}
		*host = rw_strndup(p, strcspn(p, ":/"));
		if (p[strcspn(p, ":/")] == ':')
			*port = atoi(p + strcspn(p, ":/") + 1);
		return true;
	}
	if (strstr(url, "://") || !strchr(url, ':') || url[0] == '/' || url[0] == '.')
		return false;
	p = strchr(url, '@') && strchr(url, '@') < strchr(url, ':') ? strchr(url, '@') + 1 : url;
	*host = rw_strndup(p, strcspn(p, ":"));
	return true;
}

/* "deploy" of ".../ops/deploy.git": a name for the clone's directory, in characters safe there */
static char *repo_name(const char *url)
{
	size_t n = strlen(url);
	const char *name;
	char *base;

	while (n && url[n - 1] == '/')
		n--;
	name = url + n;
	while (name > url && name[-1] != '/' && name[-1] != ':')
		name--;
	base = rw_strndup(name, (size_t)(url + n - name));
	if (rw_str_endswith(base, ".git"))
		base[strlen(base) - 4] = '\0';
	for (char *c = base; *c; c++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *c))
			*c = '_';
	if (!*base) {
		free(base);
		base = rw_strdup("repo");
	}
	return base;
}

/*
 * <cache dir>/git/<name>-<hash>: one clone per URL and branch, in rewind's
 * cache directory (--cache-dir), else in $XDG_CACHE_HOME/rewind or
 * ~/.cache/rewind (with --no-cache too: a clone is needed all the same).
 * The name comes from the URL as shown, so that no token ends up in a path.
 */
static char *default_workdir(const git_backend *g, const char *cache_dir)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char digest[RW_DIGEST_MAX], *key = rw_printf("%s\n%s", g->url, g->branch);
	char *name = repo_name(g->display_url), *dir;

	rw_sha256_digest(digest, key, strlen(key));
	free(key);
	if (cache_dir && *cache_dir)
		dir = rw_printf("%s/git/%s-%.12s", cache_dir, name, digest + 7);
	else if (xdg && *xdg)
		dir = rw_printf("%s/rewind/git/%s-%.12s", xdg, name, digest + 7);
	else
		dir = rw_printf("%s/.cache/rewind/git/%s-%.12s", home ? home : ".", name, digest + 7);
	free(name);
	return dir;
}

static void join_list(rw_buf *b, const rw_strlist *l, const char *sep, size_t max)
{
	for (size_t i = 0; i < l->count && i < max; i++)
		rw_buf_printf(b, "%s%s", i ? sep : "", l->items[i]);
	if (l->count > max)
		rw_buf_printf(b, "%s... (%zu more)", sep, l->count - max);
}

/* --- network callbacks ---------------------------------------------------- */

static void net_reset(git_backend *g)
{
	g->auth_attempts = 0;
	free(g->net_error);
	g->net_error = NULL;
	free(g->push_status);
	g->push_status = NULL;
	rw_buf_clear(&g->remote_msg);
}

static int net_refuse(git_backend *g, rw_error_class klass, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int net_refuse(git_backend *g, rw_error_class klass, int code, const char *fmt, ...)
{
	rw_buf b = RW_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	rw_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	free(g->net_error);
	g->net_error = rw_buf_detach(&b);
	g->net_class = klass;
	git_error_set_str(GIT_ERROR_NET, g->net_error);
	return code;
}

static int ssh_key_credential(git_credential **out, git_backend *g, const char *user)
{
	char *pub;
	int error;

	if (g->auth_attempts++)
		return net_refuse(g, RW_ERR_AUTH, GIT_EAUTH, "the server refused %s for user '%s'%s",
			g->ssh_key ? g->ssh_key : "the SSH agent's keys", user,
			g->ssh_key ? " (is its public key in the user's authorized_keys?)" : "");
	if (!g->ssh_key) {
		const char *agent = getenv("SSH_AUTH_SOCK");

		if (!agent || !*agent)
			return net_refuse(g, RW_ERR_AUTH, GIT_EAUTH,
				"no SSH key: set the git ssh key, or run an SSH agent (SSH_AUTH_SOCK is not set)");
		return git_credential_ssh_key_from_agent(out, user);
	}
	pub = rw_printf("%s.pub", g->ssh_key);
	error = git_credential_ssh_key_new(out, user, access(pub, R_OK) ? NULL : pub, g->ssh_key, NULL);
	free(pub);
	return error;
}

/* user_from_url: https://USER@host, which may well be a token itself, so never shown */
static int token_credential(git_credential **out, git_backend *g, const char *user_from_url)
{
	const char *user = user_from_url ? user_from_url : "x-access-token";
	char *token = NULL;
	size_t len;
	int error;

	if (!g->token_file)
		return net_refuse(g, RW_ERR_AUTH, GIT_EAUTH, "the server asks for credentials: set the git token file");
	if (g->auth_attempts++)
		return user_from_url ?
			net_refuse(g, RW_ERR_AUTH, GIT_EAUTH, "the server refused the token of %s (with the URL's user)",
				g->token_file) :
			net_refuse(g, RW_ERR_AUTH, GIT_EAUTH, "the server refused the token of %s (user '%s')",
				g->token_file, user);
	if (rw_secret_read(&token, g->token_file, "git token") < 0) {
		net_refuse(g, RW_ERR_AUTH, GIT_EAUTH, "%s", rw_error_last()->message);
		rw_error_clear();
		return GIT_EAUTH;
	}
	/* trimming moves the token: wipe all it held (libgit2 wipes its own copy) */
	len = strlen(token);
	if (!*rw_str_trim(token))
		error = net_refuse(g, RW_ERR_AUTH, GIT_EAUTH, "the git token file %s holds only white space", g->token_file);
	else
		error = git_credential_userpass_plaintext_new(out, user, token);
	rw_secret_wipe(token, len);
	free(token);
	return error;
}

/*
 * Credentials: an SSH key file or the agent for ssh URLs, the token for
 * https (user from the URL, else "x-access-token", which GitHub wants and
 * GitLab ignores). One attempt each: libgit2 asks again forever otherwise.
 */
static int credentials_cb(git_credential **out, const char *url, const char *user_from_url,
	unsigned int allowed, void *payload)
{
	git_backend *g = payload;

	(void)url;
	if (allowed & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new(out, user_from_url ? user_from_url : "git");
	if (allowed & GIT_CREDENTIAL_SSH_KEY)
		return ssh_key_credential(out, g, user_from_url ? user_from_url : "git");
	if (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT)
		return token_credential(out, g, user_from_url);
	return net_refuse(g, RW_ERR_AUTH, GIT_EAUTH, "the server wants a kind of authentication rewind has no credentials for");
}

/* "; the file has ssh-rsa, ecdsa-sha2-nistp256 for it" when it lists keys of other types */
static void put_other_types(rw_buf *b, const rw_known_host *h)
{
	if (!h->types.count)
		return;
	rw_buf_puts(b, "; the file has ");
	join_list(b, &h->types, ", ", 5);
	rw_buf_puts(b, " for it");
}

/* The SSH host key against our known_hosts file (not libgit2's ~/.ssh one). */
static int check_host_key(git_backend *g, const git_cert_hostkey *key, const char *host, int port)
{
	char *name = rw_known_hosts_name(host, port);
	rw_buf others = RW_BUF_INIT;
	rw_known_host h;
	int error = 0;

	if (rw_known_hosts_check(&h, g->known_hosts, name, (const unsigned char *)key->hostkey, key->hostkey_len) < 0) {
		error = net_refuse(g, RW_ERR_AUTH, GIT_ECERTIFICATE, "cannot check the host key of %s: %s", name,
			rw_error_last()->message);
		rw_error_clear();
	} else if (h.verdict == RW_KNOWN_HOST_REVOKED) {
		error = net_refuse(g, RW_ERR_AUTH, GIT_ECERTIFICATE, "the host key of %s (%s %s) is marked @revoked in %s:%zu",
			name, h.type, h.fingerprint, g->known_hosts, h.line);
	} else if (h.verdict == RW_KNOWN_HOST_MISMATCH) {
		error = net_refuse(g, RW_ERR_AUTH, GIT_ECERTIFICATE,
			"the host key of %s does not match %s:%zu: it offers %s %s, the file has another %s key for it "
			"(the host was reinstalled, or someone is in the middle; check, then fix the file)",
			name, g->known_hosts, h.line, h.type, h.fingerprint, h.type);
	} else if (h.verdict == RW_KNOWN_HOST_UNKNOWN) {
		put_other_types(&others, &h);
		error = net_refuse(g, RW_ERR_AUTH, GIT_ECERTIFICATE,
			"unknown host key of %s: not in %s%s (it offers %s %s%s; after checking that fingerprint, "
			"add it with: ssh-keyscan -p %d %s >> %s)", name, g->known_hosts, h.missing ? " (no such file)" : "",
			h.type, h.fingerprint, others.size ? others.ptr : "", port, host, g->known_hosts);
	}
	free(name);
	rw_buf_dispose(&others);
	rw_known_host_dispose(&h);
	return error;
}

static int certificate_cb(git_cert *cert, int valid, const char *host, void *payload)
{
	git_backend *g = payload;
	const git_cert_hostkey *key = (const git_cert_hostkey *)cert;
	char *ssh_hostname = NULL;
	int port, error;

	if (cert->cert_type == GIT_CERT_X509)
		return g->insecure ? 0 : GIT_PASSTHROUGH; /* libgit2's own TLS verification */
	if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2)
		return GIT_PASSTHROUGH;
	(void)valid; /* that is libgit2's check against ~/.ssh/known_hosts: we do our own */
	if (!(key->type & GIT_CERT_SSH_RAW))
		return net_refuse(g, RW_ERR_AUTH, GIT_ECERTIFICATE, "cannot check the host key of %s: libssh2 gave no raw key", host);
	if (!ssh_host(g->url, &ssh_hostname, &port))
		port = 22;
	free(ssh_hostname);
	error = check_host_key(g, key, host, port);
	return error;
}

static int sideband_cb(const char *str, int len, void *payload)
{
	git_backend *g = payload;

	if (len > 0 && g->remote_msg.size < REMOTE_MSG_MAX)
		rw_buf_put(&g->remote_msg, str, (size_t)len);
	return 0;
}

static int push_ref_cb(const char *refname, const char *status, void *payload)
{
	git_backend *g = payload;

	if (status && !g->push_status)
		g->push_status = rw_printf("%s: %s", refname, status);
	return 0;
}

static void fill_callbacks(git_remote_callbacks *cb, git_backend *g)
{
	cb->credentials = credentials_cb;
	cb->certificate_check = certificate_cb;
	cb->sideband_progress = sideband_cb;
	cb->push_update_reference = push_ref_cb;
	cb->payload = g;
}

/* The remote's messages as one line: "remote said: a; b". */
static char *remote_said(git_backend *g)
{
	rw_buf b = RW_BUF_INIT;
	char *text = rw_strndup(g->remote_msg.ptr ? g->remote_msg.ptr : "", g->remote_msg.size), *save = NULL;

	for (char *line = strtok_r(text, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		rw_str_trim(line);
		if (*line)
			rw_buf_printf(&b, "%s%s", b.size ? "; " : "", line);
	}
	free(text);
	return rw_buf_detach(&b);
}

/* The error of a failed network operation: our callbacks' reason first. */
static int net_fail(git_backend *g, int code, const char *what)
{
	const git_error *e = git_error_last();
	/* an unreachable remote is an orchestrator that cannot be reached (exit 9), as for the others */
	rw_error_class klass = code == GIT_EAUTH || code == GIT_ECERTIFICATE ? RW_ERR_AUTH : RW_ERR_ORCHESTRATOR;

	if (e && e->klass == GIT_ERROR_SSH && e->message && strcasestr(e->message, "authenticat"))
		klass = RW_ERR_AUTH; /* e.g. the agent's keys, which our callback does not see refused */

	if (g->net_error)
		return rw_error_set(g->net_class, "git: %s %s: %s", what, g->display_url, g->net_error);
	return rw_error_set(klass, "git: %s %s: %s", what, g->display_url, git_msg());
}

/* --- repository ------------------------------------------------------------ */

/*
 * An anonymous remote for our URL and branch. Not "origin" from the
 * configuration: looking that up (and insteadOf rewriting) runs libgit2
 * 1.5's regexp matching, which leaks on every mismatch (libgit2 #6382).
 */
static int remote_for(git_remote **out, git_backend *g)
{
	git_remote_create_options ro;
	char *spec = rw_printf("+refs/heads/%s:refs/remotes/origin/%s", g->branch, g->branch);
	int error;

	git_remote_create_options_init(&ro, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	ro.repository = g->repo;
	ro.fetchspec = spec;
	ro.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF;
	error = git_remote_create_with_opts(out, g->url, &ro);
	free(spec);
	if (error < 0)
		return git_fail("invalid repository URL ", g->display_url);
	return 0;
}

static int fetch(git_backend *g)
{
	git_fetch_options fo;
	git_remote *remote = NULL;
	int error;

	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	fill_callbacks(&fo.callbacks, g);
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	fo.update_fetchhead = 0;
	net_reset(g);
	rw_info("git: fetching %s (branch %s)", g->display_url, g->branch);
	if ((error = remote_for(&remote, g)) == 0 && (error = git_remote_fetch(remote, NULL, &fo, "rewind: fetch")) < 0)
		error = net_fail(g, error, "cannot fetch from");
	git_remote_free(remote);
	return error < 0 ? RW_ERROR : 0;
}

/*
 * Records our URL as origin's, so that people can use the clone with git
 * (set by hand: git_remote_create would run the leaking regexps).
 */
static int set_origin(git_backend *g)
{
	git_config *cfg = NULL;
	int error = git_repository_config(&cfg, g->repo);

	if (!error)
		error = git_config_set_string(cfg, "remote.origin.url", g->url);
	if (!error)
		error = git_config_set_string(cfg, "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*");
	git_config_free(cfg);
	return error < 0 ? git_fail("cannot configure origin in ", g->workdir) : 0;
}

/*
 * The clone: an existing one is reused; a missing or empty directory gets
 * a new repository (fetched below). Anything else is not ours to delete.
 */
static int open_repository(git_backend *g)
{
	if (rw_mkdir_p(g->workdir, 0700) < 0)
		return rw_error_prefix("git: work directory");
	if (git_repository_open_ext(&g->repo, g->workdir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) == 0)
		return set_origin(g);
	if (rmdir(g->workdir) < 0 && errno != ENOENT)
		return rw_error_set(RW_ERR_CONFIG, "git: %s exists and is not a git repository: remove it or choose another git workdir",
			g->workdir);
	rw_info("git: new clone of %s in %s", g->display_url, g->workdir);
	if (git_repository_init(&g->repo, g->workdir, 0) < 0)
		return git_fail("cannot create a repository in ", g->workdir);
	return set_origin(g);
}

/* Moves the local branch, HEAD, index and working tree to the remote tip. */
static int reset_to_remote(git_backend *g)
{
	char *tracking = rw_printf("refs/remotes/origin/%s", g->branch), *local = rw_printf("refs/heads/%s", g->branch);
	git_checkout_options co;
	git_reference *ref = NULL;
	git_object *tip = NULL;
	git_oid oid;
	int error = 0;

	git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	co.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_REMOVE_UNTRACKED;
	if (git_reference_name_to_id(&oid, g->repo, tracking) < 0)
		error = rw_error_set(RW_ERR_ORCHESTRATOR, "git: no branch '%s' in %s", g->branch, g->display_url);
	else if (git_object_lookup(&tip, g->repo, &oid, GIT_OBJECT_COMMIT) < 0 ||
		git_reference_create(&ref, g->repo, local, &oid, 1, "rewind: reset to the remote") < 0 ||
		git_repository_set_head(g->repo, local) < 0 ||
		git_reset(g->repo, tip, GIT_RESET_HARD, &co) < 0 ||
		git_checkout_head(g->repo, &co) < 0) /* git_reset leaves untracked files */
		error = git_fail("cannot reset to origin/", g->branch);
	git_reference_free(ref);
	git_object_free(tip);
	free(tracking);
	free(local);
	return error;
}

static void files_free(git_backend *g)
{
	for (size_t i = 0; i < g->nfiles; i++) {
		free(g->files[i].path);
		free(g->files[i].text);
	}
	free(g->files);
	g->files = NULL;
	g->nfiles = 0;
}

static bool path_selected(const git_backend *g, const char *path)
{
	for (size_t i = 0; i < g->paths.count; i++)
		if (!fnmatch(g->paths.items[i], path, FNM_PATHNAME))
			return true;
	return false;
}

typedef struct {
	git_backend *g;
	size_t alloc;
	int error;
} load_ctx;

static void load_blob(load_ctx *ctx, const char *path, const git_tree_entry *entry)
{
	git_backend *g = ctx->g;
	git_blob *blob = NULL;
	git_file *f;

	if (git_blob_lookup(&blob, g->repo, git_tree_entry_id(entry)) < 0) {
		ctx->error = git_fail("cannot read ", path);
		return;
	}
	if (git_blob_rawsize(blob) > FILE_MAX) {
		rw_warn("git: %s is larger than %u MiB: not searched for images", path, FILE_MAX >> 20);
		git_blob_free(blob);
		return;
	}
	if (g->nfiles == ctx->alloc)
		g->files = rw_realloc(g->files, (ctx->alloc = ctx->alloc ? ctx->alloc * 2 : 16) * sizeof(*g->files));
	f = &g->files[g->nfiles++];
	f->path = rw_strdup(path);
	f->len = (size_t)git_blob_rawsize(blob);
	f->text = rw_strndup(git_blob_rawcontent(blob), f->len);
	f->mode = git_tree_entry_filemode(entry);
	f->changed = false;
	git_blob_free(blob);
}

/* Collects the selected files and notes Argo CD Image Updater's write-back files. */
static int load_cb(const char *root, const git_tree_entry *entry, void *payload)
{
	load_ctx *ctx = payload;
	const char *name = git_tree_entry_name(entry);
	git_filemode_t mode = git_tree_entry_filemode(entry);
	char *path;

	if (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE)
		return 0;
	path = rw_printf("%s%s", root, name);
	if (!fnmatch(".argocd-source-*.y*ml", name, 0))
		rw_strlist_push_owned(&ctx->g->automation,
			rw_printf("%s is an Argo CD Image Updater write-back file", path));
	if (path_selected(ctx->g, path))
		load_blob(ctx, path, entry);
	free(path);
	return ctx->error ? -1 : 0;
}

/* Reads the selected files of the branch tip (HEAD after the reset). */
static int load_files(git_backend *g)
{
	load_ctx ctx = { g, 0, 0 };
	git_commit *head = NULL;
	git_tree *tree = NULL;
	git_oid oid;

	files_free(g);
	rw_strlist_dispose(&g->automation);
	if (git_reference_name_to_id(&oid, g->repo, "HEAD") < 0 || git_commit_lookup(&head, g->repo, &oid) < 0 ||
		git_commit_tree(&tree, head) < 0) {
		git_commit_free(head);
		return git_fail("cannot read the tip of ", g->branch);
	}
	if (git_tree_walk(tree, GIT_TREEWALK_PRE, load_cb, &ctx) < 0 && !ctx.error)
		ctx.error = git_fail("cannot list the files of ", g->branch);
	git_tree_free(tree);
	git_commit_free(head);
	return ctx.error;
}

/* Signs that Argo CD Image Updater writes to this repository. */
static void detect_automation(git_backend *g)
{
	git_revwalk *walk = NULL;
	git_oid oid;
	int n = 0;

	for (size_t i = 0; i < g->nfiles; i++)
		if (memmem(g->files[i].text, g->files[i].len, "argocd-image-updater.argoproj.io/", 33))
			rw_strlist_push_owned(&g->automation,
				rw_printf("%s has argocd-image-updater annotations", g->files[i].path));
	if (git_revwalk_new(&walk, g->repo) < 0 || git_revwalk_push_head(walk) < 0) {
		git_revwalk_free(walk);
		return;
	}
	while (n++ < HISTORY_DEPTH && git_revwalk_next(&oid, walk) == 0) {
		git_commit *c = NULL;
		const git_signature *a;

		if (git_commit_lookup(&c, g->repo, &oid) < 0)
			continue;
		a = git_commit_author(c);
		if (a && ((a->name && strcasestr(a->name, "argocd-image-updater")) ||
			(a->email && strcasestr(a->email, "argocd-image-updater")))) {
			char id[8];

			rw_strlist_push_owned(&g->automation, rw_printf("commit %s is by %s",
				git_oid_tostr(id, sizeof(id), &oid), a->name));
			git_commit_free(c);
			break;
		}
		git_commit_free(c);
	}
	git_revwalk_free(walk);
}

static int check_paths_found(git_backend *g)
{
	rw_buf b = RW_BUF_INIT;

	if (g->nfiles)
		return 0;
	join_list(&b, &g->paths, ", ", 20);
	rw_error_set(RW_ERR_CONFIG, "git: the git paths (%s) match no file of %s (branch %s)",
		b.ptr, g->display_url, g->branch);
	rw_buf_dispose(&b);
	return RW_ERROR;
}

/* Fetch, reset, read: the state every attempt starts from. */
static int refresh(git_backend *g)
{
	if (fetch(g) < 0 || reset_to_remote(g) < 0 || load_files(g) < 0)
		return RW_ERROR;
	detect_automation(g);
	return check_paths_found(g);
}

static int git_open(rw_orchestrator *o)
{
	git_backend *g = (git_backend *)o;

	if (g->repo)
		return 0;
	if (g->ssh_key && access(g->ssh_key, R_OK) < 0)
		return rw_error_set(RW_ERR_CONFIG, "git: ssh key %s: %s", g->ssh_key, strerror(errno));
	if (open_repository(g) < 0)
		return RW_ERROR;
	return refresh(g);
}

/* --- apps ----------------------------------------------------------------- */

static git_file *file_named(git_backend *g, const char *path)
{
	for (size_t i = 0; i < g->nfiles; i++)
		if (!strcmp(g->files[i].path, path))
			return &g->files[i];
	return NULL;
}

/* "a.yaml,b.yaml#web" into its files and repository */
static int parse_app_id(rw_strlist *files, char **repo, const char *app_id)
{
	const char *hash = strrchr(app_id, '#');
	char *list;

	if (!hash || hash == app_id || !hash[1])
		return rw_error_set(RW_ERR_ORCHESTRATOR, "git: invalid app id '%s' (expected FILE[,FILE...]#REPOSITORY)", app_id);
	list = rw_strndup(app_id, (size_t)(hash - app_id));
	rw_strlist_split(files, list);
	free(list);
	*repo = rw_strdup(hash + 1);
	return 0;
}

/* The sites of repo in file f (appended to sites). */
static int file_sites(rw_image_sites *sites, const git_file *f, const char *repo)
{
	if (rw_rewrite_find(sites, f->text, f->len, repo) < 0)
		return rw_error_prefix("git: %s", f->path);
	return 0;
}

/* The files (among the candidates) naming repo. */
static void files_naming(rw_strlist *out, git_backend *g, const rw_strlist *candidates, const char *repo)
{
	for (size_t i = 0; i < g->nfiles; i++) {
		rw_image_sites sites = RW_IMAGE_SITES_INIT;

		if (candidates && !rw_strlist_contains(candidates, g->files[i].path))
			continue;
		if (file_sites(&sites, &g->files[i], repo) == 0 && sites.count)
			rw_strlist_push(out, g->files[i].path);
		rw_image_sites_dispose(&sites);
	}
}

static int not_found(git_backend *g, const char *repo, const rw_strlist *explicit_files)
{
	rw_strlist searched = RW_STRLIST_INIT;
	rw_buf b = RW_BUF_INIT, pats = RW_BUF_INIT;

	for (size_t i = 0; i < g->nfiles; i++)
		if (!explicit_files || rw_strlist_contains(explicit_files, g->files[i].path))
			rw_strlist_push(&searched, g->files[i].path);
	join_list(&b, &searched, ", ", 10);
	join_list(&pats, explicit_files ? explicit_files : &g->paths, ", ", 10);
	rw_error_set(RW_ERR_ORCHESTRATOR, "git: no image of repository '%s' in %s of %s (branch %s; searched %s)",
		repo, pats.ptr, g->display_url, g->branch, searched.count ? b.ptr : "no file: none of them exists");
	rw_buf_dispose(&b);
	rw_buf_dispose(&pats);
	rw_strlist_dispose(&searched);
	return RW_ERROR;
}

/*
 * The files naming repo (or, like rw_orchestrator_match, its last path
 * component when the full name is nowhere). [app "web"] id = FILE[,FILE]
 * narrows the search to those files.
 */
static int git_find_app(char **app_id, rw_orchestrator *o, const char *repo)
{
	git_backend *g = (git_backend *)o;
	const char *explicit_id = g->app_ids ? rw_strmap_get(g->app_ids, repo) : NULL;
	const char *base = strrchr(repo, '/');
	rw_strlist only = RW_STRLIST_INIT, found = RW_STRLIST_INIT;
	char *explicit_repo = NULL;
	const char *name = repo;
	rw_buf b = RW_BUF_INIT;
	int error = 0;

	if (explicit_id && strchr(explicit_id, '#')) {
		if (parse_app_id(&only, &explicit_repo, explicit_id) < 0)
			return RW_ERROR;
		name = explicit_repo;
	} else if (explicit_id) {
		rw_strlist_split(&only, explicit_id);
	}
	files_naming(&found, g, explicit_id ? &only : NULL, name);
	if (!found.count && base && !explicit_repo) {
		name = base + 1;
		files_naming(&found, g, explicit_id ? &only : NULL, name);
	}
	if (!found.count) {
		error = not_found(g, repo, explicit_id ? &only : NULL);
	} else {
		join_list(&b, &found, ",", SIZE_MAX);
		rw_buf_printf(&b, "#%s", name);
		*app_id = rw_buf_detach(&b);
	}
	rw_buf_dispose(&b);
	rw_strlist_dispose(&only);
	rw_strlist_dispose(&found);
	free(explicit_repo);
	return error;
}

/* Every site of an app, with the file each is in. */
typedef struct {
	rw_image_sites sites;
	git_file **file_of;   /* one per site */
	char *repo;
} app_sites;

static void app_sites_dispose(app_sites *a)
{
	rw_image_sites_dispose(&a->sites);
	free(a->file_of);
	free(a->repo);
}

static int collect_sites(app_sites *a, git_backend *g, const char *app_id)
{
	rw_strlist files = RW_STRLIST_INIT;
	int error;

	memset(a, 0, sizeof(*a));
	if ((error = parse_app_id(&files, &a->repo, app_id)) < 0)
		return error;
	for (size_t i = 0; i < files.count && !error; i++) {
		git_file *f = file_named(g, files.items[i]);
		size_t before = a->sites.count;

		if (!f) {
			error = rw_error_set(RW_ERR_ORCHESTRATOR, "git: %s is not among the git paths of %s (branch %s)",
				files.items[i], g->display_url, g->branch);
			break;
		}
		if ((error = file_sites(&a->sites, f, a->repo)) < 0)
			break;
		if (a->sites.count == before)
			error = rw_error_set(RW_ERR_ORCHESTRATOR, "git: %s no longer names an image of '%s' (branch %s)",
				f->path, a->repo, g->branch);
		a->file_of = rw_realloc(a->file_of, (a->sites.count + 1) * sizeof(*a->file_of));
		for (size_t j = before; j < a->sites.count; j++)
			a->file_of[j] = f;
	}
	rw_strlist_dispose(&files);
	return error;
}

/* One warning listing the references that differ from the first. */
static void warn_disagreement(const app_sites *a)
{
	rw_buf b = RW_BUF_INIT;
	size_t n = 0;

	for (size_t i = 1; i < a->sites.count; i++) {
		if (!strcmp(a->sites.items[i].image, a->sites.items[0].image))
			continue;
		if (n++ < 5)
			rw_buf_printf(&b, ", %s:%zu has %s", a->file_of[i]->path, a->sites.items[i].line, a->sites.items[i].image);
	}
	if (n > 5)
		rw_buf_printf(&b, " (and %zu more)", n - 5);
	if (n)
		rw_warn("git: the references to '%s' disagree: %s:%zu has %s%s; the rollback gives them all one tag",
			a->repo, a->file_of[0]->path, a->sites.items[0].line, a->sites.items[0].image, b.ptr);
	rw_buf_dispose(&b);
}

/* The reference found first; the others, when they differ, are said once. */
static int git_current_image(char **image, rw_orchestrator *o, const char *app_id)
{
	git_backend *g = (git_backend *)o;
	app_sites a;

	if (collect_sites(&a, g, app_id) < 0) {
		app_sites_dispose(&a);
		return RW_ERROR;
	}
	warn_disagreement(&a);
	*image = rw_strdup(a.sites.items[0].image);
	app_sites_dispose(&a);
	return 0;
}

/* Writes f into the working tree too, so the clone shows what is committed. */
static void write_worktree(git_backend *g, const git_file *f)
{
	const char *wd = git_repository_workdir(g->repo);
	char *path = rw_printf("%s%s", wd ? wd : "", f->path);
	FILE *fp = fopen(path, "wb");

	if (!fp || fwrite(f->text, 1, f->len, fp) != f->len)
		rw_debug("git: cannot write %s: %s", path, strerror(errno));
	if (fp)
		fclose(fp);
	free(path);
}

/* Rewrites every site of app_id to image's tag and digest. */
static int apply_change(git_backend *g, const char *app_id, const char *image)
{
	rw_reference ref;
	app_sites a;
	int error;

	if (rw_reference_parse(&ref, image) < 0)
		return rw_error_set(RW_ERR_ORCHESTRATOR, "git: %s", rw_error_last()->message);
	if ((error = collect_sites(&a, g, app_id)) == 0 && !rw_rewrite_path_matches(ref.path, a.repo))
		error = rw_error_set(RW_ERR_ORCHESTRATOR, "git: image '%s' is not of repository '%s'", image, a.repo);
	for (size_t i = 0; i < a.sites.count && !error;) {
		git_file *f = a.file_of[i];
		rw_image_sites mine = { a.sites.items + i, 0, 0 };
		rw_buf out = RW_BUF_INIT;

		while (i + mine.count < a.sites.count && a.file_of[i + mine.count] == f)
			mine.count++;
		i += mine.count;
		if ((error = rw_rewrite_apply(&out, f->text, f->len, &mine, ref.tag, ref.digest)) < 0) {
			rw_buf_dispose(&out);
			break;
		}
		if (out.size != f->len || memcmp(out.ptr, f->text, f->len))
			f->changed = true;
		free(f->text);
		f->len = out.size;
		f->text = rw_buf_detach(&out);
		write_worktree(g, f);
	}
	app_sites_dispose(&a);
	rw_reference_dispose(&ref);
	return error;
}

/* Remembers the change for a retry on newer files (the last one per app wins). */
static void remember(git_backend *g, const char *app_id, const char *image)
{
	for (size_t i = 0; i < g->nchanges; i++)
		if (!strcmp(g->changes[i].app_id, app_id)) {
			free(g->changes[i].image);
			g->changes[i].image = rw_strdup(image);
			return;
		}
	g->changes = rw_realloc(g->changes, (g->nchanges + 1) * sizeof(*g->changes));
	g->changes[g->nchanges].app_id = rw_strdup(app_id);
	g->changes[g->nchanges].image = rw_strdup(image);
	g->nchanges++;
}

static int git_update(char **deploy_id, rw_orchestrator *o, const char *app_id, const char *image, bool force)
{
	git_backend *g = (git_backend *)o;

	(void)force; /* nothing to override: a concurrent push is handled by publish */
	*deploy_id = NULL;
	if (apply_change(g, app_id, image) < 0)
		return RW_ERROR;
	remember(g, app_id, image);
	g->published = false;
	return 0;
}

/* --- publish -------------------------------------------------------------- */

/* Stages the changed files (exact bytes, no filters) and commits: 1 when there is nothing to commit. */
static int commit_changes(git_backend *g, git_oid *commit_id, const char *message)
{
	git_index *index = NULL;
	git_tree *tree = NULL;
	git_commit *parent = NULL;
	git_signature *sig = NULL;
	git_oid tree_id, head_id;
	char *msg = rw_str_endswith(message, "\n") ? rw_strdup(message) : rw_printf("%s\n", message);
	int error = git_repository_index(&index, g->repo);

	for (size_t i = 0; i < g->nfiles && !error; i++) {
		git_index_entry entry;

		if (!g->files[i].changed)
			continue;
		memset(&entry, 0, sizeof(entry));
		entry.path = g->files[i].path;
		entry.mode = g->files[i].mode;
		error = git_index_add_from_buffer(index, &entry, g->files[i].text, g->files[i].len);
	}
	if (!error)
		error = git_index_write(index);
	if (!error)
		error = git_index_write_tree(&tree_id, index);
	if (!error)
		error = git_reference_name_to_id(&head_id, g->repo, "HEAD");
	if (!error)
		error = git_commit_lookup(&parent, g->repo, &head_id);
	if (!error && git_oid_equal(&tree_id, git_commit_tree_id(parent))) {
		error = 1;
		goto done;
	}
	if (!error)
		error = git_tree_lookup(&tree, g->repo, &tree_id);
	if (!error)
		error = git_signature_now(&sig, g->author_name, g->author_email);
	if (!error)
		error = git_commit_create(commit_id, g->repo, "HEAD", sig, sig, NULL, msg, tree, 1,
			(const git_commit **)&parent);
	if (error < 0)
		error = git_fail("cannot commit on ", g->branch);
done:
	git_signature_free(sig);
	git_tree_free(tree);
	git_commit_free(parent);
	git_index_free(index);
	free(msg);
	return error;
}

enum { PUSH_OK = 0, PUSH_RACE = 1 };

/* What the remote's refusal means: someone pushed first (retry), or a refusal (hooks, protection). */
static bool is_race(const char *status)
{
	static const char *const words[] = { "non-fast-forward", "fetch first", "stale info", "cannot lock ref",
		"failed to lock", "failed to update ref" };

	for (size_t i = 0; i < RW_ARRAY_SIZE(words); i++)
		if (strcasestr(status, words[i]))
			return true;
	return false;
}

static int push(git_backend *g)
{
	git_push_options po;
	char *spec = rw_printf("refs/heads/%s:refs/heads/%s", g->branch, g->branch);
	git_strarray specs = { &spec, 1 };
	git_remote *remote = NULL;
	int error;

	git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
	fill_callbacks(&po.callbacks, g);
	net_reset(g);
	if ((error = remote_for(&remote, g)) < 0) {
		/* said */
	} else if ((error = git_remote_push(remote, &specs, &po)) == GIT_ENONFASTFORWARD) {
		error = PUSH_RACE;
	} else if (error < 0) {
		error = net_fail(g, error, "cannot push to");
	} else if (g->push_status && is_race(g->push_status)) {
		error = PUSH_RACE;
	} else if (g->push_status) {
		char *said = remote_said(g);

		error = rw_error_set(RW_ERR_ORCHESTRATOR, "git: %s refused the push (%s)%s%s; nothing was changed there",
			g->display_url, g->push_status, *said ? "; the remote said: " : "", said);
		free(said);
	}
	git_remote_free(remote);
	free(spec);
	return error;
}

/* After someone else's push: their files, our changes again. */
static int replay(git_backend *g)
{
	if (refresh(g) < 0)
		return RW_ERROR;
	for (size_t i = 0; i < g->nchanges; i++)
		if (apply_change(g, g->changes[i].app_id, g->changes[i].image) < 0)
			return rw_error_prefix("git: redoing the rollback on the newer %s", g->branch);
	return 0;
}

static int git_publish(char **detail, rw_orchestrator *o, const char *message)
{
	git_backend *g = (git_backend *)o;
	git_oid id;
	char short_id[8];

	for (int attempt = 1;; attempt++) {
		int error = commit_changes(g, &id, message);

		if (error == 1) {
			*detail = rw_printf("nothing to push: %s already has these images", g->branch);
			break;
		}
		if (error < 0 || (error = push(g)) < 0)
			return RW_ERROR;
		if (error == PUSH_OK) {
			*detail = rw_printf("pushed %s to %s", git_oid_tostr(short_id, sizeof(short_id), &id), g->branch);
			break;
		}
		if (attempt == PUSH_ATTEMPTS)
			return rw_error_set(RW_ERR_ORCHESTRATOR, "git: %s (branch %s) moved under each of %d pushes; gave up, nothing was changed there",
				g->display_url, g->branch, PUSH_ATTEMPTS);
		rw_warn("git: someone pushed to %s first; rewriting on their commit (attempt %d of %d)",
			g->branch, attempt + 1, PUSH_ATTEMPTS);
		if (replay(g) < 0)
			return RW_ERROR;
	}
	free(g->published_detail);
	g->published_detail = rw_strdup(*detail);
	g->published = true;
	return 0;
}

/* Done once pushed: the operator (Argo CD, Flux) deploys from there. */
static int git_poll(rw_deploy_state *state, char **detail, rw_orchestrator *o, const char *app_id,
	const char *deploy_id)
{
	git_backend *g = (git_backend *)o;

	(void)app_id;
	(void)deploy_id;
	*state = g->published ? RW_DEPLOY_DONE : RW_DEPLOY_RUNNING;
	*detail = rw_strdup(g->published ? g->published_detail : "not pushed yet");
	return 0;
}

/* --- words ---------------------------------------------------------------- */

static char *git_warning(rw_orchestrator *o, const char *app_id)
{
	git_backend *g = (git_backend *)o;
	rw_buf b = RW_BUF_INIT;
	bool flux = false;
	app_sites a;

	if (collect_sites(&a, g, app_id) < 0)
		rw_error_clear(); /* no sites, no marker: describe and update will say why */
	for (size_t i = 0; i < a.sites.count; i++) {
		if (!a.sites.items[i].policy)
			continue;
		rw_buf_printf(&b, "%s%s:%zu is managed by Flux image automation (image policy %s)", b.size ? "; " : "",
			a.file_of[i]->path, a.sites.items[i].line, a.sites.items[i].policy);
		flux = true;
	}
	join_list(&b, &g->automation, "; ", 5);
	app_sites_dispose(&a);
	if (!b.size) {
		rw_buf_dispose(&b);
		return NULL;
	}
	rw_buf_printf(&b, ". Image automation will push the newest image back over this rollback: suspend it first (%s%s%s)",
		flux ? "flux suspend image update <automation> -n <namespace>" : "",
		flux && g->automation.count ? "; " : "",
		g->automation.count ? "remove the argocd-image-updater annotations from the Argo CD Application" : "");
	return rw_buf_detach(&b);
}

/* site's reference with image's tag and digest (what the rewrite makes of it) */
static char *site_after(const rw_image_site *site, const char *image)
{
	rw_reference now, want;
	char *out;

	if (rw_reference_parse(&now, site->image) < 0 || rw_reference_parse(&want, image) < 0) {
		rw_error_clear();
		return rw_strdup(image);
	}
	free(now.tag);
	free(now.digest);
	now.tag = want.tag ? rw_strdup(want.tag) : NULL;
	now.digest = want.digest ? rw_strdup(want.digest) : NULL;
	out = rw_reference_format(&now);
	rw_reference_dispose(&now);
	rw_reference_dispose(&want);
	return out;
}

static char *git_describe(rw_orchestrator *o, const char *app_id, const char *image)
{
	git_backend *g = (git_backend *)o;
	rw_buf b = RW_BUF_INIT;
	app_sites a;

	if (collect_sites(&a, g, app_id) < 0) {
		rw_buf_printf(&b, "%s: image -> %s (%s)", app_id, image, rw_error_last()->message);
		rw_error_clear();
	}
	for (size_t i = 0; i < a.sites.count; i++) {
		char *after = site_after(&a.sites.items[i], image);

		rw_buf_printf(&b, "%s%s:%zu: image %s -> %s", i ? "; " : "", a.file_of[i]->path,
			a.sites.items[i].line, a.sites.items[i].image, after);
		free(after);
	}
	app_sites_dispose(&a);
	return rw_buf_detach(&b);
}

/* --- life ----------------------------------------------------------------- */

static void git_free(rw_orchestrator *o)
{
	git_backend *g = (git_backend *)o;

	files_free(g);
	for (size_t i = 0; i < g->nchanges; i++) {
		free(g->changes[i].app_id);
		free(g->changes[i].image);
	}
	free(g->changes);
	git_repository_free(g->repo);
	if (g->libgit2_ready)
		git_libgit2_shutdown();
	net_reset(g);
	rw_buf_dispose(&g->remote_msg);
	rw_strlist_dispose(&g->automation);
	rw_strlist_dispose(&g->paths);
	free(g->published_detail);
	free(g->url);
	free(g->display_url);
	free(g->branch);
	free(g->workdir);
	free(g->ssh_key);
	free(g->known_hosts);
	free(g->token_file);
	free(g->author_name);
	free(g->author_email);
	free(g->ca_file);
	free(g);
}

static char *dup_or(const char *s, const char *fallback)
{
	return rw_strdup_or_null(s && *s ? s : fallback);
}

static int configure_tls(git_backend *g)
{
	if (g->ca_file && git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, g->ca_file, NULL) < 0)
		return git_fail("cannot use the CA file ", g->ca_file);
	return 0;
}

int rw_git_new(rw_orchestrator **out, const rw_orchestrator_opts *opts)
{
	git_backend *g;
	const char *home = getenv("HOME");
	char *default_kh;

	if (!opts->git_url || !*opts->git_url)
		return rw_error_set(RW_ERR_CONFIG, "git: no repository URL (git url = ssh://git@host/team/manifests.git)");
	if (!opts->git_paths || !opts->git_paths->count)
		return rw_error_set(RW_ERR_CONFIG, "git: no paths to search for images (git paths = k8s/*.yaml, helm/values-*.yaml)");
	g = rw_calloc(1, sizeof(*g));
	g->url = rw_strdup(opts->git_url);
	g->display_url = rw_url_redact(opts->git_url);
	g->branch = dup_or(opts->git_branch, "main");
	g->workdir = opts->git_workdir && *opts->git_workdir ? rw_strdup(opts->git_workdir) :
		default_workdir(g, opts->cache_dir);
	g->ssh_key = rw_strdup_or_null(opts->git_ssh_key);
	default_kh = rw_printf("%s/.ssh/known_hosts", home ? home : "");
	g->known_hosts = dup_or(opts->git_known_hosts, default_kh);
	free(default_kh);
	g->token_file = rw_strdup_or_null(opts->git_token_file);
	g->author_name = dup_or(opts->git_author_name, "rewind");
	g->author_email = dup_or(opts->git_author_email, "rewind@localhost");
	g->ca_file = rw_strdup_or_null(opts->http.ca_file);
	g->insecure = opts->http.insecure;
	g->app_ids = opts->app_ids;
	for (size_t i = 0; i < opts->git_paths->count; i++)
		rw_strlist_push(&g->paths, opts->git_paths->items[i]);
	g->parent.name = "git";
	g->parent.open = git_open;
	g->parent.find_app = git_find_app;
	g->parent.current_image = git_current_image;
	g->parent.update = git_update;
	g->parent.poll = git_poll;
	g->parent.publish = git_publish;
	g->parent.warning = git_warning;
	g->parent.describe = git_describe;
	g->parent.free = git_free;
	g->libgit2_ready = git_libgit2_init() > 0;
	if (!g->libgit2_ready || configure_tls(g) < 0) {
		if (!g->libgit2_ready)
			rw_error_set(RW_ERR_INTERNAL, "git: cannot initialise libgit2: %s", git_msg());
		git_free(&g->parent);
		return RW_ERROR;
	}
	*out = &g->parent;
	return 0;
}
