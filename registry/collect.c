/*
 * Collecting the images of repositories: tag lists page by page, then each
 * tag to a digest, then each digest nobody has dated yet to a creation time.
 * Tags that share a digest share one resolution, so a manifest and its
 * config blob are fetched once per run however many tags point at them.
 */
#include "internal.h"

#include "rewind/log.h"
#include "rewind/manifest.h"
#include "rewind/reference.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void show_progress(rw_registry *reg)
{
	long long now = rw_now_ms();

	if (now - reg->progress_at < 100)
		return;
	reg->progress_at = now;
	rw_progress("rewind: %zu/%zu tags resolved", reg->tags_done, reg->ntags);
}

static void tag_done(rw_registry *reg)
{
	reg->tags_done++;
	show_progress(reg);
}

static void tag_complete(rw_registry *reg, tag_job *tag, const char *digest, bool dated, int64_t created)
{
	if (rw_image_set_add(reg->set, tag->repo->name, tag->tag, digest, dated, created) < 0) {
		reg_fail(reg);
		return;
	}
	rw_cache_set_tag_hint(reg->cache, reg->url, tag->repo->name, tag->tag, digest);
	tag_done(reg);
}

static char *cache_key(const rw_registry *reg, const char *digest, bool is_index)
{
	return is_index ? rw_printf("%s %s", digest, reg->platform) : rw_strdup(digest);
}

static void resolution_free(resolution *res)
{
	free(res->key);
	free(res->digest);
	free(res->waiters);
	free(res);
}

static void resolution_add(resolution *res, tag_job *tag)
{
	res->waiters = rw_realloc(res->waiters, (res->nwaiters + 1) * sizeof(tag_job *));
	res->waiters[res->nwaiters++] = tag;
}

static void resolution_finish(rw_registry *reg, resolution *res, bool dated, int64_t created)
{
	rw_cache_store(reg->cache, res->key, dated, created);
	rw_strmap_put(reg->resolving, res->key, NULL);
	for (size_t i = 0; i < res->nwaiters && !reg->failure; i++)
		tag_complete(reg, res->waiters[i], res->digest, dated, created);
	resolution_free(res);
}

/*
 * A tag now has a digest: done if the cache knows it, queued behind another
 * tag's resolution of it, or the start of a new resolution (returned).
 */
static resolution *tag_has_digest(rw_registry *reg, tag_job *tag, const char *digest, bool is_index)
{
	char *key = cache_key(reg, digest, is_index);
	resolution *res;
	bool dated;
	int64_t created;

	if (rw_cache_lookup(&dated, &created, reg->cache, key) == 0) {
		reg->stats.cache_hits++;
		free(key);
		tag_complete(reg, tag, digest, dated, created);
		return NULL;
	}
	res = rw_strmap_get(reg->resolving, key);
	if (res) {
		free(key);
		resolution_add(res, tag);
		return NULL;
	}
	res = rw_calloc(1, sizeof(*res));
	res->key = key;
	res->digest = rw_strdup(digest);
	res->repo = tag->repo;
	resolution_add(res, tag);
	rw_strmap_put(reg->resolving, key, res);
	return res;
}

static void set_url(req_ctx *ctx, char *url)
{
	free(ctx->url);
	ctx->url = url;
	ctx->auth_retried = false;
}

static void request_manifest(rw_registry *reg, req_ctx *ctx, req_kind kind, const char *ref)
{
	ctx->kind = kind;
	free(ctx->method);
	ctx->method = rw_strdup(kind == REQ_HEAD_TAG ? "HEAD" : "GET");
	ctx->accept = RW_MANIFEST_ACCEPT;
	ctx->cap = CAP_MANIFEST;
	free(ctx->expect_digest);
	ctx->expect_digest = kind == REQ_GET_DIGEST || kind == REQ_GET_CHILD ? rw_strdup(ref) : NULL;
	set_url(ctx, reg_repo_url(reg, ctx->repo, "manifests/%s", ref));
	reg_send(reg, ctx);
}

static void tag_start(rw_registry *reg, tag_job *tag)
{
	req_ctx *ctx = reg_ctx_new(reg, REQ_GET_TAG, "GET", NULL, CAP_MANIFEST);
	const char *hint = rw_cache_tag_hint(reg->cache, reg->url, tag->repo->name, tag->tag);

	ctx->repo = tag->repo;
	ctx->tag = tag;
	/* a tag seen before most likely still points at a dated digest: a HEAD
	 * confirms it without the manifest's body */
	request_manifest(reg, ctx, hint ? REQ_HEAD_TAG : REQ_GET_TAG, tag->tag);
}

static tag_job *tag_new(rw_registry *reg, repo_job *repo, const char *name)
{
	tag_job *tag = rw_calloc(1, sizeof(*tag));

	tag->repo = repo;
	tag->tag = rw_strdup(name);
	if (reg->ntags == reg->atags) {
		reg->atags = reg->atags ? reg->atags * 2 : 64;
		reg->tags = rw_realloc(reg->tags, reg->atags * sizeof(tag_job *));
	}
	reg->tags[reg->ntags++] = tag;
	reg->stats.tags++;
	return tag;
}

static int add_tags(rw_registry *reg, repo_job *repo, const rw_buf *body)
{
	json_error_t jerr;
	json_t *root = json_loadb(body->ptr ? body->ptr : "", body->size, 0, &jerr);
	json_t *tags, *t;
	size_t i;

	if (!json_is_object(root)) {
		json_decref(root);
		return rw_error_set(RW_ERR_PROTOCOL, "registry %s: repository '%s': the tag list is not a JSON object (%s)",
			reg->url, repo->name, jerr.text);
	}
	tags = json_object_get(root, "tags");
	if (tags && !json_is_array(tags) && !json_is_null(tags)) {
		json_decref(root);
		return rw_error_set(RW_ERR_PROTOCOL, "registry %s: repository '%s': \"tags\" is not a list", reg->url, repo->name);
	}
	repo->listed += json_array_size(tags);
	if (repo->listed > MAX_TAGS_PER_REPO) {
		json_decref(root);
		return rw_error_set(RW_ERR_PROTOCOL, "registry %s: repository '%s' lists more than %d tags: refusing the list",
			reg->url, repo->name, MAX_TAGS_PER_REPO);
	}
	json_array_foreach(tags, i, t) {
		const char *name = json_string_value(t);

		if (!name || !rw_tag_valid(name)) {
			rw_warn("registry %s: repository '%s': skipping an invalid tag in the tag list", reg->url, repo->name);
			continue;
		}
		if (rw_tag_filter_match(reg->filter, name))
			tag_start(reg, tag_new(reg, repo, name));
	}
	json_decref(root);
	return 0;
}

/* Follows Link: rel="next"; false when the list has no more pages. */
static bool next_page(rw_registry *reg, req_ctx *ctx, rw_http_req *req)
{
	const char *link = rw_http_req_response_header(req, "Link");
	char *next = NULL, *prefix;
	int rc;

	if (!link)
		return false;
	rc = rw_http_link_next(&next, link, ctx->url);
	if (rc == RW_ENOTFOUND)
		return false;
	if (rc < 0) {
		rw_error_prefix("registry %s: repository '%s'", reg->url, ctx->repo->name);
		reg_fail(reg);
		return false;
	}
	/* never send our credentials to a host the registry names in a header */
	prefix = rw_printf("%s/v2/", reg->url);
	if (!rw_str_startswith(next, prefix) || ++ctx->repo->pages > MAX_TAG_PAGES) {
		rw_error_set(RW_ERR_PROTOCOL, "registry %s: repository '%s': refusing the next page of the tag list at '%s'",
			reg->url, ctx->repo->name, next);
		free(prefix);
		free(next);
		reg_fail(reg);
		return false;
	}
	free(prefix);
	set_url(ctx, next);
	reg_send(reg, ctx);
	return true;
}

void collect_on_tags(rw_registry *reg, req_ctx *ctx, rw_http_req *req)
{
	if (rw_http_req_status(req) != 200) {
		reg_error_from_response(reg, ctx, req);
		reg_fail(reg);
		reg_ctx_free(reg, ctx);
		return;
	}
	if (add_tags(reg, ctx->repo, rw_http_req_body(req)) < 0) {
		reg_fail(reg);
		reg_ctx_free(reg, ctx);
		return;
	}
	if (!next_page(reg, ctx, req))
		reg_ctx_free(reg, ctx);
}

/* A listed tag answered 404: deleted while we were listing. */
static void tag_vanished(rw_registry *reg, req_ctx *ctx)
{
	rw_warn("registry %s: repository '%s': tag '%s' disappeared while listing; skipped",
		reg->url, ctx->repo->name, ctx->tag->tag);
	tag_done(reg);
	reg_ctx_free(reg, ctx);
}

static bool is_index_type(const char *ct)
{
	return ct && (!strncasecmp(ct, RW_MT_DOCKER_LIST, strlen(RW_MT_DOCKER_LIST)) ||
		!strncasecmp(ct, RW_MT_OCI_INDEX, strlen(RW_MT_OCI_INDEX)));
}

static bool is_manifest_type(const char *ct)
{
	static const char *types[] = { RW_MT_DOCKER_MANIFEST, RW_MT_OCI_MANIFEST,
		RW_MT_DOCKER_LIST, RW_MT_OCI_INDEX, RW_MT_DOCKER_V1, RW_MT_DOCKER_V1_SIGNED };

	for (size_t i = 0; ct && i < RW_ARRAY_SIZE(types); i++)
		if (!strncasecmp(ct, types[i], strlen(types[i])))
			return true;
	return false;
}

static void fail_response(rw_registry *reg, req_ctx *ctx, rw_http_req *req)
{
	reg_error_from_response(reg, ctx, req);
	reg_fail(reg);
	reg_ctx_free(reg, ctx);
}

void collect_on_head(rw_registry *reg, req_ctx *ctx, rw_http_req *req)
{
	int status = rw_http_req_status(req);
	const char *digest = rw_http_req_response_header(req, "Docker-Content-Digest");
	const char *ct = rw_http_req_response_header(req, "Content-Type");
	resolution *res;

	if (status == 404) {
		tag_vanished(reg, ctx);
		return;
	}
	if (status != 200) {
		fail_response(reg, ctx, req);
		return;
	}
	if (!digest || !rw_digest_valid(digest) || !is_manifest_type(ct)) {
		/* not enough to go on: read the manifest itself */
		request_manifest(reg, ctx, REQ_GET_TAG, ctx->tag->tag);
		return;
	}
	res = tag_has_digest(reg, ctx->tag, digest, is_index_type(ct));
	if (!res) {
		reg_ctx_free(reg, ctx);
		return;
	}
	ctx->res = res;
	request_manifest(reg, ctx, REQ_GET_DIGEST, digest);
}

static void fail_here(rw_registry *reg, req_ctx *ctx)
{
	if (ctx->tag)
		rw_error_prefix("registry %s: repository '%s', tag '%s'", reg->url, ctx->repo->name, ctx->tag->tag);
	else
		rw_error_prefix("registry %s: repository '%s'", reg->url, ctx->repo->name);
	reg_fail(reg);
	reg_ctx_free(reg, ctx);
}

/* The digest of what was received, checked against what was asked for. */
static int verify_digest(char out[RW_DIGEST_MAX], const req_ctx *ctx, rw_http_req *req, bool manifest)
{
	const rw_buf *body = rw_http_req_body(req);
	const char *claimed = ctx->expect_digest;
	rw_buf payload = RW_BUF_INIT;

	if (manifest) {
		if (rw_manifest_payload(&payload, rw_http_req_response_header(req, "Content-Type"),
			body->ptr ? body->ptr : "", body->size) < 0)
			return RW_ERROR;
		rw_sha256_digest(out, payload.ptr ? payload.ptr : "", payload.size);
		rw_buf_dispose(&payload);
	} else {
		rw_sha256_digest(out, body->ptr ? body->ptr : "", body->size);
	}
	if (!claimed)
		claimed = rw_http_req_response_header(req, "Docker-Content-Digest");
	if (claimed && !rw_str_startswith(claimed, "sha256:"))
		return rw_error_set(RW_ERR_PROTOCOL, "cannot verify digest '%s': only sha256 is supported", claimed);
	if (claimed && strcmp(claimed, out))
		return rw_error_set(RW_ERR_PROTOCOL, "%s %s does not match its content (%s): refusing it",
			manifest ? "manifest" : "blob", claimed, out);
	return 0;
}

static void request_config(rw_registry *reg, req_ctx *ctx, const char *digest)
{
	ctx->kind = REQ_GET_CONFIG;
	free(ctx->method);
	ctx->method = rw_strdup("GET");
	ctx->accept = NULL;
	ctx->cap = CAP_CONFIG;
	free(ctx->expect_digest);
	ctx->expect_digest = rw_strdup(digest);
	set_url(ctx, reg_repo_url(reg, ctx->repo, "blobs/%s", digest));
	reg_send(reg, ctx);
}

static void undated(rw_registry *reg, req_ctx *ctx, resolution *res)
{
	rw_warn("%s", rw_error_last() ? rw_error_last()->message : "no creation time");
	rw_error_clear();
	reg_ctx_free(reg, ctx);
	resolution_finish(reg, res, false, 0);
}

static void process_index(rw_registry *reg, req_ctx *ctx, const rw_manifest *m)
{
	const char *child;

	if (rw_manifest_select_platform(&child, m, reg->platform) < 0) {
		rw_error_prefix("registry %s: repository '%s', tag '%s' (%s); it stays undated",
			reg->url, ctx->repo->name, ctx->tag->tag, ctx->res->digest);
		undated(reg, ctx, ctx->res);
		return;
	}
	request_manifest(reg, ctx, REQ_GET_CHILD, child);
}

static void process_manifest(rw_registry *reg, req_ctx *ctx, const rw_manifest *m)
{
	resolution *res = ctx->res;
	int64_t t;

	if (!res->has_fallback && rw_manifest_created(&t, m) == 0) {
		res->has_fallback = true;
		res->fallback = t;
	}
	switch (rw_manifest_kind_of(m)) {
	case RW_MANIFEST_SCHEMA1:
		reg_ctx_free(reg, ctx);
		resolution_finish(reg, res, res->has_fallback, res->has_fallback ? res->fallback : 0);
		break;
	case RW_MANIFEST_IMAGE:
		request_config(reg, ctx, rw_manifest_config_digest(m));
		break;
	case RW_MANIFEST_INDEX:
		if (ctx->kind == REQ_GET_CHILD) {
			rw_error_set(RW_ERR_PROTOCOL, "a manifest list names another list as its %s image", reg->platform);
			fail_here(reg, ctx);
			return;
		}
		process_index(reg, ctx, m);
		break;
	}
}

void collect_on_manifest(rw_registry *reg, req_ctx *ctx, rw_http_req *req)
{
	char digest[RW_DIGEST_MAX];
	const rw_buf *body = rw_http_req_body(req);
	rw_manifest *m = NULL;
	int status = rw_http_req_status(req);

	if (status == 404 && ctx->kind == REQ_GET_TAG) {
		tag_vanished(reg, ctx);
		return;
	}
	if (status != 200) {
		fail_response(reg, ctx, req);
		return;
	}
	if (verify_digest(digest, ctx, req, true) < 0 ||
	    rw_manifest_parse(&m, rw_http_req_response_header(req, "Content-Type"), body->ptr ? body->ptr : "", body->size) < 0) {
		fail_here(reg, ctx);
		return;
	}
	if (ctx->kind == REQ_GET_TAG) {
		ctx->res = tag_has_digest(reg, ctx->tag, digest, rw_manifest_kind_of(m) == RW_MANIFEST_INDEX);
		if (!ctx->res) {
			rw_manifest_free(m);
			reg_ctx_free(reg, ctx);
			return;
		}
	}
	process_manifest(reg, ctx, m);
	rw_manifest_free(m);
}

void collect_on_config(rw_registry *reg, req_ctx *ctx, rw_http_req *req)
{
	char digest[RW_DIGEST_MAX];
	const rw_buf *body = rw_http_req_body(req);
	resolution *res = ctx->res;
	int64_t created = 0;
	int rc;

	if (rw_http_req_status(req) != 200) {
		fail_response(reg, ctx, req);
		return;
	}
	if (verify_digest(digest, ctx, req, false) < 0) {
		fail_here(reg, ctx);
		return;
	}
	rc = rw_image_config_created(&created, body->ptr ? body->ptr : "", body->size, res->has_fallback, res->fallback);
	if (rc == RW_ERROR) {
		fail_here(reg, ctx);
		return;
	}
	reg_ctx_free(reg, ctx);
	resolution_finish(reg, res, rc == 0, created);
}

static int ping(rw_registry *reg)
{
	req_ctx *ctx = reg_ctx_new(reg, REQ_PING, "GET", rw_printf("%s/v2/", reg->url), CAP_SMALL);

	rw_info("checking the registry API at %s/v2/", reg->url);
	reg_submit(reg, ctx, NULL);
	return rw_http_run(reg->http);
}

static void start_repos(rw_registry *reg, const rw_strlist *repos)
{
	reg->repos = rw_calloc(repos->count, sizeof(repo_job));
	reg->nrepos = repos->count;
	for (size_t i = 0; i < repos->count; i++) {
		repo_job *repo = &reg->repos[i];
		req_ctx *ctx;

		repo->name = rw_strdup(repos->items[i]);
		rw_image_set_add_repo(reg->set, repo->name);
		ctx = reg_ctx_new(reg, REQ_TAGS, "GET",
			reg_repo_url(reg, repo, "tags/list?n=%zu", reg->page_size), CAP_TAGS_PAGE);
		ctx->repo = repo;
		ctx->accept = "application/json";
		reg_send(reg, ctx);
	}
}

int rw_registry_collect(rw_image_set *set, rw_registry *reg, const rw_strlist *repos,
	const rw_tag_filter *filter)
{
	reg->set = set;
	reg->filter = filter;
	ping(reg);
	if (!reg->failure) {
		start_repos(reg, repos);
		rw_http_run(reg->http);
	}
	rw_progress_end();
	reg->stats.requests = rw_http_sent_count(reg->http);
	if (reg->failure) {
		rw_error_restore(reg->failure);
		reg->failure = NULL;
		return RW_ERROR;
	}
	if (rw_cache_save(reg->cache) < 0) {
		rw_warn("cannot save the cache: %s", rw_error_last()->message);
		rw_error_clear();
	}
	return 0;
}

static void free_resolution(void *p)
{
	if (p)
		resolution_free(p);
}

void collect_free(rw_registry *reg)
{
	for (size_t i = 0; i < reg->ntags; i++) {
		free(reg->tags[i]->tag);
		free(reg->tags[i]);
	}
	free(reg->tags);
	for (size_t i = 0; i < reg->nrepos; i++)
		free(reg->repos[i].name);
	free(reg->repos);
	rw_strmap_free(reg->resolving, free_resolution);
	reg->resolving = NULL;
}
