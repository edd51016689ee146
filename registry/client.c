/*
 * The registry client's core: requests that can be re-sent, the auth probe,
 * error messages built from the registry's answers, and the dispatch of
 * answers to the handlers in auth.c and collect.c.
 */
#include "internal.h"

#include "rewind/base64.h"
#include "rewind/log.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int rw_registry_new(rw_registry **out, const rw_registry_opts *opts)
{
	rw_registry *reg;
	size_t n;

	if (!opts->url || (!rw_str_startswith(opts->url, "http://") && !rw_str_startswith(opts->url, "https://")))
		return rw_error_set(RW_ERR_USAGE, "invalid registry URL '%s': expected http(s)://host[:port]",
			opts->url ? opts->url : "");
	reg = rw_calloc(1, sizeof(*reg));
	reg->url = rw_strdup(opts->url);
	n = strlen(reg->url);
	while (n && reg->url[n - 1] == '/')
		reg->url[--n] = '\0';
	reg->host = rw_url_host(reg->url);
	if (!reg->host || !*reg->host) {
		rw_registry_free(reg);
		return rw_error_set(RW_ERR_USAGE, "invalid registry URL '%s': no host", opts->url);
	}
	if (opts->username) {
		char *pair = rw_printf("%s:%s", opts->username, opts->password ? opts->password : "");
		char *b64 = rw_base64(pair, strlen(pair));

		reg->basic = rw_printf("Basic %s", b64);
		memset(pair, 0, strlen(pair));
		free(pair);
		free(b64);
	}
	reg->platform = rw_strdup(opts->platform ? opts->platform : "linux/amd64");
	reg->page_size = opts->page_size ? opts->page_size : 1000;
	reg->cache = opts->cache;
	reg->scopes = rw_strmap_new();
	reg->resolving = rw_strmap_new();
	if (rw_http_new(&reg->http, &opts->http) < 0) {
		rw_registry_free(reg);
		return RW_ERROR;
	}
	*out = reg;
	return 0;
}

const rw_registry_stats *rw_registry_stats_of(const rw_registry *reg)
{
	return &reg->stats;
}

void rw_registry_free(rw_registry *reg)
{
	if (!reg)
		return;
	rw_http_free(reg->http);
	while (reg->live)
		reg_ctx_free(reg, reg->live);
	collect_free(reg);
	auth_scopes_free(reg);
	if (reg->basic) {
		memset(reg->basic, 0, strlen(reg->basic));
		free(reg->basic);
	}
	rw_error_free(reg->failure);
	free(reg->url);
	free(reg->host);
	free(reg->realm);
	free(reg->service);
	free(reg->platform);
	free(reg);
}

req_ctx *reg_ctx_new(rw_registry *reg, req_kind kind, const char *method, char *url, size_t cap)
{
	req_ctx *ctx = rw_calloc(1, sizeof(*ctx));

	ctx->kind = kind;
	ctx->method = rw_strdup(method);
	ctx->url = url;
	ctx->cap = cap;
	ctx->next = reg->live;
	if (reg->live)
		reg->live->prev = ctx;
	reg->live = ctx;
	return ctx;
}

void reg_ctx_free(rw_registry *reg, req_ctx *ctx)
{
	if (ctx->prev)
		ctx->prev->next = ctx->next;
	else
		reg->live = ctx->next;
	if (ctx->next)
		ctx->next->prev = ctx->prev;
	free(ctx->method);
	free(ctx->url);
	free(ctx->expect_digest);
	free(ctx);
}

char *reg_repo_url(const rw_registry *reg, const repo_job *repo, const char *fmt, ...)
{
	rw_buf b = RW_BUF_INIT;
	va_list ap;

	rw_buf_printf(&b, "%s/v2/%s/", reg->url, repo->name);
	va_start(ap, fmt);
	rw_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return rw_buf_detach(&b);
}

void reg_submit(rw_registry *reg, req_ctx *ctx, const char *authorization)
{
	rw_http_req *req = rw_http_req_new(ctx->method, ctx->url, ctx->cap);

	if (ctx->accept)
		rw_http_req_header(req, "Accept: %s", ctx->accept);
	if (authorization)
		rw_http_req_auth(req, authorization);
	rw_http_req_set_data(req, ctx);
	rw_http_req_on_done(req, reg_on_response, reg);
	rw_http_submit(reg->http, req);
	switch (ctx->kind) {
	case REQ_HEAD_TAG: reg->stats.heads++; break;
	case REQ_GET_TAG:
	case REQ_GET_DIGEST:
	case REQ_GET_CHILD: reg->stats.manifests++; break;
	case REQ_GET_CONFIG: reg->stats.blobs++; break;
	case REQ_TOKEN: reg->stats.tokens++; break;
	default: break;
	}
}

/* Sends a request with the credentials the registry wants. */
void reg_send(rw_registry *reg, req_ctx *ctx)
{
	if (reg->failure) {
		reg_ctx_free(reg, ctx);
		return;
	}
	switch (reg->mode) {
	case AUTH_BEARER: auth_send_with_token(reg, ctx); break;
	case AUTH_BASIC: reg_submit(reg, ctx, reg->basic); break;
	default: reg_submit(reg, ctx, NULL); break;
	}
}

void reg_fail(rw_registry *reg)
{
	if (!reg->failure)
		reg->failure = rw_error_steal();
	else
		rw_error_clear();
	rw_http_abort(reg->http);
}

/* "NAME_UNKNOWN: repository name not known to registry; ..." from an errors body. */
static char *registry_errors(const rw_buf *body)
{
	json_t *root = body->size ? json_loadb(body->ptr, body->size, 0, NULL) : NULL;
	json_t *errors = json_object_get(root, "errors"), *e;
	rw_buf out = RW_BUF_INIT;
	size_t i;

	json_array_foreach(errors, i, e) {
		const char *code = json_string_value(json_object_get(e, "code"));
		const char *msg = json_string_value(json_object_get(e, "message"));

		if (i)
			rw_buf_puts(&out, "; ");
		rw_buf_printf(&out, "%s%s%s", code ? code : "", code && msg ? ": " : "", msg ? msg : "");
		if (i >= 4)
			break;
	}
	json_decref(root);
	return out.size ? rw_buf_detach(&out) : NULL;
}

static const char *what_of(const req_ctx *ctx)
{
	switch (ctx->kind) {
	case REQ_PING: return "API check";
	case REQ_TOKEN: return "token request";
	case REQ_TAGS: return "tag list";
	case REQ_HEAD_TAG:
	case REQ_GET_TAG:
	case REQ_GET_DIGEST:
	case REQ_GET_CHILD: return "manifest";
	case REQ_GET_CONFIG: return "config blob";
	}
	return "request";
}

static rw_error_class class_of_status(int status)
{
	return status == 401 || status == 403 ? RW_ERR_AUTH : RW_ERR_REGISTRY;
}

static void subject(rw_buf *b, const rw_registry *reg, const req_ctx *ctx)
{
	rw_buf_printf(b, "registry %s", reg->url);
	if (ctx->repo)
		rw_buf_printf(b, ": repository '%s'", ctx->repo->name);
	if (ctx->tag)
		rw_buf_printf(b, ", tag '%s'", ctx->tag->tag);
}

int reg_error_from_response(rw_registry *reg, req_ctx *ctx, rw_http_req *req)
{
	rw_buf msg = RW_BUF_INIT;
	char *url = rw_url_redact(ctx->url);
	int status = rw_http_req_status(req);
	rw_error_class klass;

	subject(&msg, reg, ctx);
	if (!status) {
		klass = RW_ERR_NET;
		rw_buf_printf(&msg, ": %s failed: %s (%s %s)", what_of(ctx),
			rw_http_req_failure(req), ctx->method, url);
		if (rw_http_req_failed_tls(req))
			rw_buf_puts(&msg, "; to trust the registry's certificate give --ca-file FILE (or, at your own risk, --insecure)");
	} else {
		char *errs = registry_errors(rw_http_req_body(req));

		klass = class_of_status(status);
		rw_buf_printf(&msg, ": %s: HTTP %d%s%s (%s %s)", what_of(ctx), status,
			errs ? " " : "", errs ? errs : "", ctx->method, url);
		free(errs);
	}
	rw_error_set(klass, "%s", msg.ptr);
	rw_buf_dispose(&msg);
	free(url);
	return RW_ERROR;
}

static void on_ping(rw_registry *reg, req_ctx *ctx, rw_http_req *req)
{
	int status = rw_http_req_status(req);
	const char *www;
	rw_http_challenge ch;

	reg_ctx_free(reg, ctx);
	if (status >= 200 && status < 300) {
		reg->mode = AUTH_NONE;
		return;
	}
	www = rw_http_req_response_header(req, "WWW-Authenticate");
	if (status != 401 || !www) {
		if (status == 404)
			rw_error_set(RW_ERR_PROTOCOL, "registry %s: does not serve the registry API v2 (GET %s/v2/ answered HTTP 404)", reg->url, reg->url);
		else
			reg_error_from_response(reg, &(req_ctx){ .kind = REQ_PING, .method = "GET", .url = (char *)rw_http_req_url(req) }, req);
		reg_fail(reg);
		return;
	}
	if (rw_http_challenge_parse(&ch, www) < 0) {
		rw_error_prefix("registry %s", reg->url);
		reg_fail(reg);
		return;
	}
	if (!strcasecmp(ch.scheme, "Bearer") && ch.realm) {
		reg->mode = AUTH_BEARER;
		reg->realm = rw_strdup(ch.realm);
		reg->service = ch.service ? rw_strdup(ch.service) : NULL;
	} else if (!strcasecmp(ch.scheme, "Basic")) {
		reg->mode = AUTH_BASIC;
		if (!reg->basic) {
			rw_error_set(RW_ERR_AUTH, "registry %s requires a username and password: give --username and --password-file (or REWIND_REGISTRY_PASSWORD), or run docker login", reg->url);
			reg_fail(reg);
		}
	} else {
		rw_error_set(RW_ERR_AUTH, "registry %s: unsupported authentication scheme '%s'", reg->url, ch.scheme);
		reg_fail(reg);
	}
	rw_http_challenge_dispose(&ch);
}

/* Answers that are errors whatever was asked: transport failures and 401s. */
static bool handled_as_error(rw_registry *reg, req_ctx *ctx, rw_http_req *req)
{
	int status = rw_http_req_status(req);

	if (status == 401 && ctx->kind != REQ_PING && ctx->kind != REQ_TOKEN) {
		if (reg_handle_unauthorized(reg, ctx, req))
			return true;
		reg_error_from_response(reg, ctx, req);
		if (!reg->basic)
			rw_error_set(RW_ERR_AUTH, "%s; the registry wants credentials: give --username and --password-file (or REWIND_REGISTRY_PASSWORD), or run docker login", rw_error_last()->message);
		reg_fail(reg);
		reg_ctx_free(reg, ctx);
		return true;
	}
	if (!status) {
		reg_error_from_response(reg, ctx, req);
		reg_fail(reg);
		reg_ctx_free(reg, ctx);
		return true;
	}
	return false;
}

void reg_on_response(rw_http_req *req, void *payload)
{
	rw_registry *reg = payload;
	req_ctx *ctx = rw_http_req_data(req);

	if (reg->failure) {
		reg_ctx_free(reg, ctx);
		return;
	}
	if (ctx->kind != REQ_PING && handled_as_error(reg, ctx, req))
		return;
	switch (ctx->kind) {
	case REQ_PING: on_ping(reg, ctx, req); break;
	case REQ_TOKEN: auth_on_token(reg, ctx, req); break;
	case REQ_TAGS: collect_on_tags(reg, ctx, req); break;
	case REQ_HEAD_TAG: collect_on_head(reg, ctx, req); break;
	case REQ_GET_TAG:
	case REQ_GET_DIGEST:
	case REQ_GET_CHILD: collect_on_manifest(reg, ctx, req); break;
	case REQ_GET_CONFIG: collect_on_config(reg, ctx, req); break;
	}
}
