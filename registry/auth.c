/*
 * The Bearer token flow of the distribution spec (token authentication):
 * the registry's 401 names a realm and service; rewind asks the realm for a
 * token of scope repository:<name>:pull (with Basic credentials when it has
 * them), keeps it per scope until expires_in, and holds the scope's requests
 * while the token is being fetched.
 */
#include "internal.h"

#include "rewind/log.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The spec's default lifetime when a token service does not say. */
#define DEFAULT_EXPIRES_S 60

char *auth_scope_of(const req_ctx *ctx)
{
	return rw_printf("repository:%s:pull", ctx->repo ? ctx->repo->name : "");
}

static scope_token *scope_get(rw_registry *reg, const char *scope)
{
	scope_token *t = rw_strmap_get(reg->scopes, scope);

	if (!t) {
		t = rw_calloc(1, sizeof(*t));
		t->scope = rw_strdup(scope);
		rw_strmap_put(reg->scopes, scope, t);
	}
	return t;
}

static void clear_token(scope_token *t)
{
	if (t->token) {
		memset(t->token, 0, strlen(t->token));
		free(t->token);
	}
	t->token = NULL;
}

static void submit_with(rw_registry *reg, req_ctx *ctx, const scope_token *t)
{
	char *bearer = rw_printf("Bearer %s", t->token);

	reg_submit(reg, ctx, bearer);
	memset(bearer, 0, strlen(bearer));
	free(bearer);
}

static void fetch_token(rw_registry *reg, scope_token *t)
{
	rw_buf url = RW_BUF_INIT;
	char *scope = rw_url_escape(t->scope);
	req_ctx *ctx;

	rw_buf_printf(&url, "%s%cscope=%s", reg->realm, strchr(reg->realm, '?') ? '&' : '?', scope);
	if (reg->service) {
		char *service = rw_url_escape(reg->service);

		rw_buf_printf(&url, "&service=%s", service);
		free(service);
	}
	free(scope);
	ctx = reg_ctx_new(reg, REQ_TOKEN, "GET", rw_buf_detach(&url), CAP_SMALL);
	ctx->scope = t;
	ctx->accept = "application/json";
	t->fetching = true;
	rw_info("fetching a token for %s from %s", t->scope, reg->realm);
	reg_submit(reg, ctx, reg->basic);
}

void auth_send_with_token(rw_registry *reg, req_ctx *ctx)
{
	char *scope = auth_scope_of(ctx);
	scope_token *t = scope_get(reg, scope);

	free(scope);
	if (t->token && rw_now_ms() < t->expires_ms) {
		submit_with(reg, ctx, t);
		return;
	}
	ctx->wait_next = t->waiting;
	t->waiting = ctx;
	if (!t->fetching)
		fetch_token(reg, t);
}

void auth_forget_token(rw_registry *reg, const char *scope)
{
	scope_token *t = rw_strmap_get(reg->scopes, scope);

	if (t)
		clear_token(t);
}

static int token_error(rw_registry *reg, const scope_token *t, rw_http_req *req, const char *why)
{
	int status = rw_http_req_status(req);
	char *realm = rw_url_redact(reg->realm);

	if (status == 401 || status == 403)
		rw_error_set(RW_ERR_AUTH, "registry %s: the token service %s refused %s for %s (HTTP %d)%s",
			reg->url, realm, reg->basic ? "the credentials" : "anonymous access", t->scope, status,
			reg->basic ? "" : "; give --username and --password-file (or REWIND_REGISTRY_PASSWORD), or run docker login");
	else
		rw_error_set(RW_ERR_AUTH, "registry %s: the token service %s gave no token for %s: %s",
			reg->url, realm, t->scope, why);
	free(realm);
	return RW_ERROR;
}

/* Reads token (or access_token) and expires_in from a token response. */
static int parse_token(scope_token *t, const rw_buf *body)
{
	json_t *root = json_loadb(body->ptr ? body->ptr : "", body->size, 0, NULL);
	const char *token = json_string_value(json_object_get(root, "token"));
	json_int_t expires = json_integer_value(json_object_get(root, "expires_in"));

	if (!token || !*token)
		token = json_string_value(json_object_get(root, "access_token"));
	if (!token || !*token) {
		json_decref(root);
		return RW_ERROR;
	}
	if (expires <= 0)
		expires = DEFAULT_EXPIRES_S;
	if (expires > 86400)
		expires = 86400; /* a day is long enough for any run, and no overflow below */
	clear_token(t);
	t->token = rw_strdup(token);
	/* renew a little early: a token must not expire in flight */
	t->expires_ms = rw_now_ms() + (long long)expires * 900;
	json_decref(root);
	return 0;
}

void auth_on_token(rw_registry *reg, req_ctx *ctx, rw_http_req *req)
{
	scope_token *t = ctx->scope;
	int status = rw_http_req_status(req);

	reg_ctx_free(reg, ctx);
	t->fetching = false;
	if (status == 0) {
		char *realm = rw_url_redact(reg->realm);

		rw_error_set(RW_ERR_NET, "registry %s: cannot reach the token service %s: %s",
			reg->url, realm, rw_http_req_failure(req));
		free(realm);
		reg_fail(reg);
		return;
	}
	if (status != 200) {
		token_error(reg, t, req, "unexpected answer");
		reg_fail(reg);
		return;
	}
	if (parse_token(t, rw_http_req_body(req)) < 0) {
		token_error(reg, t, req, "the answer has neither \"token\" nor \"access_token\"");
		reg_fail(reg);
		return;
	}
	while (t->waiting) {
		req_ctx *w = t->waiting;

		t->waiting = w->wait_next;
		w->wait_next = NULL;
		submit_with(reg, w, t);
	}
}

bool reg_handle_unauthorized(rw_registry *reg, req_ctx *ctx, rw_http_req *req)
{
	const char *www = rw_http_req_response_header(req, "WWW-Authenticate");
	rw_http_challenge ch;
	bool resent = false;

	if (ctx->auth_retried || !www || rw_http_challenge_parse(&ch, www) < 0) {
		rw_error_clear();
		return false;
	}
	ctx->auth_retried = true;
	if (!strcasecmp(ch.scheme, "Bearer") && ch.realm) {
		char *scope = auth_scope_of(ctx);

		/* the registry may want tokens although its API check did not */
		if (reg->mode != AUTH_BEARER || strcmp(reg->realm, ch.realm)) {
			free(reg->realm);
			free(reg->service);
			reg->realm = rw_strdup(ch.realm);
			reg->service = ch.service ? rw_strdup(ch.service) : NULL;
			reg->mode = AUTH_BEARER;
		}
		auth_forget_token(reg, scope);
		free(scope);
		auth_send_with_token(reg, ctx);
		resent = true;
	} else if (!strcasecmp(ch.scheme, "Basic") && reg->basic && reg->mode != AUTH_BASIC) {
		reg->mode = AUTH_BASIC;
		reg_submit(reg, ctx, reg->basic);
		resent = true;
	}
	rw_http_challenge_dispose(&ch);
	return resent;
}

static void free_scope(void *p)
{
	scope_token *t = p;

	clear_token(t);
	free(t->scope);
	free(t);
}

void auth_scopes_free(rw_registry *reg)
{
	rw_strmap_free(reg->scopes, free_scope);
	reg->scopes = NULL;
}
