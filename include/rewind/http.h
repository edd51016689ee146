/*
 * The HTTP engine: one libcurl multi handle driving many requests at once
 * (bounded), reusing connections, HTTP/2 multiplexing over TLS where the
 * server offers it, with retries of 429/5xx and transport failures
 * (exponential backoff, Retry-After honoured, bounded), connect and stall
 * time-outs, and a size cap on every response.
 *
 * Requests complete through a callback, from inside rw_http_run(); a
 * callback may submit further requests. A request is freed by the engine
 * after its callback returns.
 */
#ifndef REWIND_HTTP_H
#define REWIND_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "rewind/util.h"

typedef struct {
	int concurrency;         /* requests in flight (default 16) */
	const char *ca_file;     /* extra CA bundle, NULL: system roots */
	bool insecure;           /* skip TLS verification (explicit only) */
	long connect_timeout_ms; /* default 10000 */
	long stall_timeout_ms;   /* no byte received for this long: fail (default 30000) */
	int max_retries;         /* default 3 */
	long retry_base_ms;      /* first backoff (default 250) */
	long retry_max_ms;       /* longest wait, also caps Retry-After (default 30000) */
	const char *user_agent;
	const char *client_cert; /* TLS client certificate (PEM), e.g. a Docker engine's */
	const char *client_key;
} rw_http_opts;

#define RW_HTTP_OPTS_INIT { 16, NULL, false, 10000, 30000, 3, 250, 30000, NULL, NULL, NULL }

typedef struct rw_http rw_http;
typedef struct rw_http_req rw_http_req;

/* Called once per request, when it has an answer or finally failed. */
typedef void (*rw_http_done_cb)(rw_http_req *req, void *payload);

int rw_http_new(rw_http **out, const rw_http_opts *opts);
void rw_http_free(rw_http *http);

/* A new request; body_cap bounds the response body (error past it). */
rw_http_req *rw_http_req_new(const char *method, const char *url, size_t body_cap);
void rw_http_req_header(rw_http_req *req, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sets (or replaces) the Authorization header; never logged. */
void rw_http_req_auth(rw_http_req *req, const char *value);
void rw_http_req_on_done(rw_http_req *req, rw_http_done_cb cb, void *payload);
/* A request body (copied), sent with its Content-Type. */
void rw_http_req_set_body(rw_http_req *req, const char *content_type, const void *data, size_t len);
/* Disables the engine's retries for this request (e.g. the auth probe). */
void rw_http_req_no_retry(rw_http_req *req);
/* Talks HTTP over a unix socket instead of TCP (the URL then names no real host). */
void rw_http_req_unix_socket(rw_http_req *req, const char *path);
/* The body of the answer, or NULL when it has none (for backends that read JSON). */
const char *rw_http_req_body_str(const rw_http_req *req);
/* Frees a request that was never submitted. */
void rw_http_req_free(rw_http_req *req);

/* Queues a request; the engine owns it from now on. */
void rw_http_submit(rw_http *http, rw_http_req *req);
/* Runs until no request is queued or in flight, or rw_http_abort(). */
int rw_http_run(rw_http *http);
/*
 * Runs one request to its end, alone, and hands it back (status, headers,
 * body readable; the caller frees it). RW_OK even for HTTP errors: read the
 * status. For backends that talk to one API step by step.
 */
int rw_http_perform(rw_http *http, rw_http_req *req);
/* Cancels every request (their callbacks are not called); rw_http_run returns. */
void rw_http_abort(rw_http *http);

/* Total requests sent (retries included), for -v summaries and benchmarks. */
size_t rw_http_sent_count(const rw_http *http);

/* The answer. status 0: no HTTP answer (see rw_http_req_failure). */
int rw_http_req_status(const rw_http_req *req);
const char *rw_http_req_method(const rw_http_req *req);
const char *rw_http_req_url(const rw_http_req *req);
/* A header of the final response (after redirects), NULL when absent. */
const char *rw_http_req_response_header(const rw_http_req *req, const char *name);
const rw_buf *rw_http_req_body(const rw_http_req *req);
/* Why the request got no usable answer (connection, TLS, time-out, too large), or NULL. */
const char *rw_http_req_failure(const rw_http_req *req);
/* Which error class that failure is. */
bool rw_http_req_failed_tls(const rw_http_req *req);
/* Request-scoped user data, free for the caller. */
void rw_http_req_set_data(rw_http_req *req, void *data);
void *rw_http_req_data(const rw_http_req *req);

/* Header and URL helpers (http/headers.c). */

/* The rel="next" target of a Link header resolved against base; RW_ENOTFOUND when none. */
int rw_http_link_next(char **out, const char *link, const char *base_url);

typedef struct {
	char *scheme;  /* "Bearer", "Basic", ... as sent */
	char *realm;
	char *service;
	char *scope;
	char *error;   /* e.g. insufficient_scope */
} rw_http_challenge;

/* Parses the first challenge of a WWW-Authenticate header (RW_ERR_PROTOCOL when malformed). */
int rw_http_challenge_parse(rw_http_challenge *out, const char *header);
void rw_http_challenge_dispose(rw_http_challenge *c);

/* Retry-After (delta-seconds or HTTP-date) in milliseconds from now; RW_ENOTFOUND when unusable. */
int rw_http_retry_after_ms(long long *out, const char *value, time_t now);

/* ref resolved against base (absolute URL, absolute path, or relative path). */
char *rw_url_resolve(const char *base, const char *ref);
/* url without user:password@ and with sensitive query values masked, for messages. */
char *rw_url_redact(const char *url);
/* Percent-encodes s for a query value. */
char *rw_url_escape(const char *s);
/* The "host[:port]" of a URL (lower-cased), NULL when it has none. */
char *rw_url_host(const char *url);

#endif
