/* What the files of registry/ share; not part of the public API. */
#ifndef REWIND_REGISTRY_INTERNAL_H
#define REWIND_REGISTRY_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "rewind/errors.h"
#include "rewind/registry.h"
#include "rewind/strmap.h"

/* Response size caps: a broken or hostile registry cannot exhaust memory. */
#define CAP_TAGS_PAGE (8u * 1024 * 1024)
#define CAP_MANIFEST (4u * 1024 * 1024) /* distribution's own manifest limit */
#define CAP_CONFIG (16u * 1024 * 1024)
#define CAP_SMALL (1u * 1024 * 1024)    /* pings, tokens, error bodies */
#define MAX_TAG_PAGES 100000
/* More tags than any real repository has: a list that never ends is refused. */
#define MAX_TAGS_PER_REPO 250000

typedef enum { AUTH_NONE, AUTH_BASIC, AUTH_BEARER } auth_mode;

typedef enum {
	REQ_PING,
	REQ_TOKEN,
	REQ_TAGS,
	REQ_HEAD_TAG,    /* HEAD manifest by tag: digest only */
	REQ_GET_TAG,     /* GET manifest by tag */
	REQ_GET_DIGEST,  /* GET manifest by digest (the tag's own) */
	REQ_GET_CHILD,   /* GET the platform's manifest of a list */
	REQ_GET_CONFIG,  /* GET the config blob */
} req_kind;

typedef struct repo_job repo_job;
typedef struct tag_job tag_job;
typedef struct resolution resolution;
typedef struct req_ctx req_ctx;
typedef struct scope_token scope_token;

struct repo_job {
	char *name;
	size_t pages;
	size_t listed; /* tags in its list so far */
};

struct tag_job {
	repo_job *repo;
	char *tag;
};

/* The work of dating one manifest, shared by every tag that points at it. */
struct resolution {
	char *key;       /* cache key: digest, or "digest platform" for a list */
	char *digest;    /* the digest the tags point at */
	repo_job *repo;  /* where its blobs are fetched from */
	bool has_fallback;
	int64_t fallback; /* the manifest annotation's creation time */
	tag_job **waiters;
	size_t nwaiters;
};

/* One request of the registry client, re-sendable (after a token arrives). */
struct req_ctx {
	req_kind kind;
	char *method;
	char *url;
	const char *accept;
	size_t cap;
	char *expect_digest; /* verify the body against it */
	repo_job *repo;
	tag_job *tag;
	resolution *res;
	scope_token *scope;  /* REQ_TOKEN: the scope it fetches */
	bool auth_retried;
	req_ctx *prev, *next; /* every live context, freed at the end */
	req_ctx *wait_next;   /* in a scope's queue of requests awaiting a token */
};

struct scope_token {
	char *scope;
	char *token;
	long long expires_ms;
	bool fetching;
	req_ctx *waiting;
};

struct rw_registry {
	char *url;
	char *host;
	char *basic;         /* "Basic <base64>" when credentials are given */
	auth_mode mode;
	char *realm;
	char *service;
	char *platform;
	size_t page_size;
	rw_http *http;
	rw_cache *cache;
	rw_strmap *scopes;      /* scope -> scope_token */
	rw_strmap *resolving;   /* cache key -> resolution */
	rw_image_set *set;
	const rw_tag_filter *filter;
	repo_job *repos;
	size_t nrepos;
	tag_job **tags;
	size_t ntags, atags;
	size_t tags_done;
	long long progress_at;
	req_ctx *live;
	rw_error *failure;      /* the first error; stops the run */
	rw_registry_stats stats;
};

/* client.c */
req_ctx *reg_ctx_new(rw_registry *reg, req_kind kind, const char *method, char *url, size_t cap);
void reg_ctx_free(rw_registry *reg, req_ctx *ctx);
void reg_send(rw_registry *reg, req_ctx *ctx);
void reg_submit(rw_registry *reg, req_ctx *ctx, const char *authorization);
/* Records the first failure (the last error) and stops all requests. */
void reg_fail(rw_registry *reg);
/* Sets the last error from a response that is not what was expected. */
int reg_error_from_response(rw_registry *reg, req_ctx *ctx, rw_http_req *req);
/* Handles a 401 by fetching credentials and re-sending; false when it cannot. */
bool reg_handle_unauthorized(rw_registry *reg, req_ctx *ctx, rw_http_req *req);
char *reg_repo_url(const rw_registry *reg, const repo_job *repo, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Dispatches a finished request to the handler of its kind. */
void reg_on_response(rw_http_req *req, void *payload);

/* auth.c */
void auth_send_with_token(rw_registry *reg, req_ctx *ctx);
void auth_on_token(rw_registry *reg, req_ctx *ctx, rw_http_req *req);
void auth_forget_token(rw_registry *reg, const char *scope);
char *auth_scope_of(const req_ctx *ctx);
void auth_scopes_free(rw_registry *reg);

/* collect.c */
void collect_on_tags(rw_registry *reg, req_ctx *ctx, rw_http_req *req);
void collect_on_head(rw_registry *reg, req_ctx *ctx, rw_http_req *req);
void collect_on_manifest(rw_registry *reg, req_ctx *ctx, rw_http_req *req);
void collect_on_config(rw_registry *reg, req_ctx *ctx, rw_http_req *req);
void collect_free(rw_registry *reg);

#endif
