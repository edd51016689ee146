/*
 * The HTTP engine: a libcurl multi handle with our own queue in front of it,
 * so that at most `concurrency` requests are in flight while connections
 * stay in the multi handle's pool and are reused; retries wait in a delayed
 * list ordered by nothing more than a not-before time.
 */
#include "rewind/http.h"
#include "rewind/errors.h"
#include "rewind/log.h"
#include "rewind/util.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HEADER_BYTES_MAX (64 * 1024)

typedef struct {
	char *name;
	char *value;
} header;

struct rw_http_req {
	char *method;
	char *url;
	size_t body_cap;
	rw_strlist headers;
	char *auth;
	char *send_body;
	size_t send_len;
	char *unix_socket;
	bool keep; /* rw_http_perform: hand back instead of freeing */

	rw_http_done_cb cb;
	void *payload;
	void *data;
	bool no_retry;

	CURL *easy;
	struct curl_slist *slist;
	char errbuf[CURL_ERROR_SIZE];
	int attempts;
	long long not_before;
	long long started;

	int status;
	header *resp_headers;
	size_t resp_count;
	size_t resp_bytes;
	rw_buf body;
	bool too_large;
	bool headers_too_large;
	char *failure;
	bool tls_failure;

	rw_http_req *next;
};

struct rw_http {
	CURLM *multi;
	rw_http_opts opts;
	char *ca_file;
	char *user_agent;
	char *client_cert;
	char *client_key;
	rw_http_req *queue_head, *queue_tail;
	rw_http_req *delayed;
	rw_http_req **active; /* the requests in flight, `concurrency` slots */
	size_t in_flight;
	bool aborted;
	size_t sent;
};

static int curl_ready;

int rw_http_new(rw_http **out, const rw_http_opts *opts)
{
	rw_http *h;
	rw_http_opts defaults = RW_HTTP_OPTS_INIT;

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return rw_error_set(RW_ERR_INTERNAL, "cannot initialise libcurl");
		curl_ready = 1;
	}
	h = rw_calloc(1, sizeof(*h));
	h->opts = opts ? *opts : defaults;
	if (h->opts.concurrency < 1)
		h->opts.concurrency = 1;
	h->ca_file = h->opts.ca_file ? rw_strdup(h->opts.ca_file) : NULL;
	h->user_agent = rw_strdup(h->opts.user_agent ? h->opts.user_agent : "rewind");
	h->client_cert = h->opts.client_cert ? rw_strdup(h->opts.client_cert) : NULL;
	h->client_key = h->opts.client_key ? rw_strdup(h->opts.client_key) : NULL;
	h->active = rw_calloc((size_t)h->opts.concurrency, sizeof(rw_http_req *));
	h->multi = curl_multi_init();
	if (!h->multi) {
		rw_http_free(h);
		return rw_error_set(RW_ERR_INTERNAL, "cannot create a libcurl multi handle");
	}
	/* HTTP/2 multiplexing where offered; keep enough idle connections for
	 * every request in flight to find one again. */
	curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long)h->opts.concurrency + 4);
	*out = h;
	return 0;
}

/* The header list holds a copy of the Authorization line: wipe it too. */
static void free_header_list(struct curl_slist *l)
{
	for (struct curl_slist *p = l; p; p = p->next)
		memset(p->data, 0, strlen(p->data));
	curl_slist_free_all(l);
}

static void req_reset_response(rw_http_req *r)
{
	for (size_t i = 0; i < r->resp_count; i++) {
		free(r->resp_headers[i].name);
		free(r->resp_headers[i].value);
	}
	free(r->resp_headers);
	r->resp_headers = NULL;
	r->resp_count = r->resp_bytes = 0;
	rw_buf_clear(&r->body);
	r->status = 0;
	r->too_large = r->headers_too_large = false;
	free(r->failure);
	r->failure = NULL;
	r->tls_failure = false;
	r->errbuf[0] = '\0';
}

rw_http_req *rw_http_req_new(const char *method, const char *url, size_t body_cap)
{
	rw_http_req *r = rw_calloc(1, sizeof(*r));

	r->method = rw_strdup(method);
	r->url = rw_strdup(url);
	r->body_cap = body_cap;
	return r;
}

void rw_http_req_header(rw_http_req *req, const char *fmt, ...)
{
	rw_buf b = RW_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	rw_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	rw_strlist_push_owned(&req->headers, rw_buf_detach(&b));
}

void rw_http_req_auth(rw_http_req *req, const char *value)
{
	free(req->auth);
	req->auth = value ? rw_strdup(value) : NULL;
}

void rw_http_req_set_body(rw_http_req *req, const char *content_type, const void *data, size_t len)
{
	free(req->send_body);
	req->send_body = rw_strndup(data, len);
	req->send_len = len;
	rw_http_req_header(req, "Content-Type: %s", content_type);
}

void rw_http_req_unix_socket(rw_http_req *req, const char *path)
{
	free(req->unix_socket);
	req->unix_socket = rw_strdup(path);
}

const char *rw_http_req_body_str(const rw_http_req *req)
{
	return req->body.size ? req->body.ptr : NULL;
}

void rw_http_req_on_done(rw_http_req *req, rw_http_done_cb cb, void *payload)
{
	req->cb = cb;
	req->payload = payload;
}

void rw_http_req_no_retry(rw_http_req *req)
{
	req->no_retry = true;
}

void rw_http_req_free(rw_http_req *r)
{
	if (!r)
		return;
	if (r->easy)
		curl_easy_cleanup(r->easy);
	free_header_list(r->slist);
	req_reset_response(r);
	rw_buf_dispose(&r->body);
	/* extra headers may carry credentials (X-Registry-Auth) */
	for (size_t i = 0; i < r->headers.count; i++)
		memset(r->headers.items[i], 0, strlen(r->headers.items[i]));
	rw_strlist_dispose(&r->headers);
	if (r->auth) {
		/* credentials do not linger in freed memory */
		memset(r->auth, 0, strlen(r->auth));
		free(r->auth);
	}
	if (r->send_body) {
		/* a login body holds a password */
		memset(r->send_body, 0, r->send_len);
		free(r->send_body);
	}
	free(r->unix_socket);
	free(r->method);
	free(r->url);
	free(r);
}

static void queue_push(rw_http *h, rw_http_req *r)
{
	r->next = NULL;
	if (h->queue_tail)
		h->queue_tail->next = r;
	else
		h->queue_head = r;
	h->queue_tail = r;
}

static rw_http_req *queue_pop(rw_http *h)
{
	rw_http_req *r = h->queue_head;

	if (r) {
		h->queue_head = r->next;
		if (!h->queue_head)
			h->queue_tail = NULL;
		r->next = NULL;
	}
	return r;
}

void rw_http_submit(rw_http *h, rw_http_req *req)
{
	req->attempts = 0;
	queue_push(h, req);
}

static size_t on_body(char *data, size_t size, size_t n, void *userp)
{
	rw_http_req *r = userp;
	size_t len = size * n;

	if (r->body.size + len > r->body_cap) {
		r->too_large = true;
		return 0; /* makes libcurl fail the transfer with a write error */
	}
	rw_buf_put(&r->body, data, len);
	return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *userp)
{
	rw_http_req *r = userp;
	size_t len = size * n;
	const char *colon;
	char *name, *value;

	if (len >= 5 && !strncmp(data, "HTTP/", 5)) {
		/* a new response (redirect, 100-continue): drop the previous headers */
		for (size_t i = 0; i < r->resp_count; i++) {
			free(r->resp_headers[i].name);
			free(r->resp_headers[i].value);
		}
		r->resp_count = 0;
		return len;
	}
	r->resp_bytes += len;
	if (r->resp_bytes > HEADER_BYTES_MAX) {
		r->headers_too_large = true;
		return 0;
	}
	colon = memchr(data, ':', len);
	if (!colon)
		return len;
	name = rw_strndup(data, (size_t)(colon - data));
	value = rw_strndup(colon + 1, len - (size_t)(colon + 1 - data));
	rw_str_trim(value);
	r->resp_headers = rw_realloc(r->resp_headers, (r->resp_count + 1) * sizeof(header));
	r->resp_headers[r->resp_count].name = rw_str_trim(name);
	r->resp_headers[r->resp_count].value = value;
	r->resp_count++;
	return len;
}

static void set_common_options(rw_http *h, rw_http_req *r, CURL *e)
{
	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	/* many registries answer blob GETs with a redirect to object storage;
	 * libcurl does not send our Authorization header to another host */
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, h->opts.connect_timeout_ms);
	/* a stalled transfer: under 1 byte/s for the stall time */
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (h->opts.stall_timeout_ms + 999) / 1000);
	curl_easy_setopt(e, CURLOPT_USERAGENT, h->user_agent);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	if (h->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, h->ca_file);
	if (h->opts.insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (h->client_cert)
		curl_easy_setopt(e, CURLOPT_SSLCERT, h->client_cert);
	if (h->client_key)
		curl_easy_setopt(e, CURLOPT_SSLKEY, h->client_key);
	if (r->unix_socket)
		curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, r->unix_socket);
}

static void set_method(rw_http_req *r, CURL *e)
{
	if (!strcmp(r->method, "HEAD")) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (strcmp(r->method, "GET")) {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
	}
	if (r->send_body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->send_body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->send_len);
	}
}

static void start_request(rw_http *h, rw_http_req *r)
{
	CURL *e = curl_easy_init();

	req_reset_response(r);
	free_header_list(r->slist);
	r->slist = NULL;
	for (size_t i = 0; i < r->headers.count; i++)
		r->slist = curl_slist_append(r->slist, r->headers.items[i]);
	if (r->auth) {
		char *line = rw_printf("Authorization: %s", r->auth);

		r->slist = curl_slist_append(r->slist, line);
		memset(line, 0, strlen(line));
		free(line);
	}
	set_common_options(h, r, e);
	set_method(r, e);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->slist);
	r->easy = e;
	r->attempts++;
	r->started = rw_now_ms();
	h->active[h->in_flight++] = r;
	h->sent++;
	if (rw_log_level() >= RW_LOG_DEBUG) {
		char *u = rw_url_redact(r->url);

		rw_debug("-> %s %s", r->method, u);
		free(u);
	}
	curl_multi_add_handle(h->multi, e);
}

static bool transient_curl_error(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

static bool tls_curl_error(CURLcode rc)
{
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ISSUER_ERROR:
		return true;
	default:
		return false;
	}
}

static void record_failure(rw_http *h, rw_http_req *r, CURLcode rc)
{
	if (r->too_large)
		r->failure = rw_printf("response larger than the %zu-byte limit", r->body_cap);
	else if (r->headers_too_large)
		r->failure = rw_printf("response headers larger than %d bytes", HEADER_BYTES_MAX);
	else if (rc == CURLE_OPERATION_TIMEDOUT)
		r->failure = rw_printf("timed out (%s; connect limit %ld ms, stall limit %ld ms)",
			r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc),
			h->opts.connect_timeout_ms, h->opts.stall_timeout_ms);
	else
		r->failure = rw_strdup(r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc));
	r->tls_failure = tls_curl_error(rc);
}

/* How long to wait before another attempt, or -1 not to retry. */
static long long retry_delay(rw_http *h, rw_http_req *r, CURLcode rc)
{
	long long wait;
	const char *ra;

	if (r->no_retry || r->attempts > h->opts.max_retries)
		return -1;
	if (rc != CURLE_OK) {
		if (r->too_large || r->headers_too_large || !transient_curl_error(rc))
			return -1;
	} else if (r->status != 429 && (r->status < 500 || r->status == 501 || r->status > 599)) {
		return -1;
	}
	wait = (long long)h->opts.retry_base_ms << (r->attempts - 1);
	ra = rw_http_req_response_header(r, "Retry-After");
	if (ra && rw_http_retry_after_ms(&wait, ra, time(NULL)) == 0 && wait > h->opts.retry_max_ms)
		return -1; /* asked to come back later than we are willing to wait */
	if (wait > h->opts.retry_max_ms)
		wait = h->opts.retry_max_ms;
	return wait;
}

static void schedule_retry(rw_http *h, rw_http_req *r, long long wait)
{
	char *u = rw_url_redact(r->url);

	rw_info("retrying %s %s in %lld ms (%s)", r->method, u, wait,
		r->status ? "HTTP error" : (r->errbuf[0] ? r->errbuf : "transfer failed"));
	free(u);
	r->not_before = rw_now_ms() + wait;
	r->next = h->delayed;
	h->delayed = r;
}

static const char *http_version_name(long v)
{
	switch (v) {
	case CURL_HTTP_VERSION_1_0: return "HTTP/1.0";
	case CURL_HTTP_VERSION_1_1: return "HTTP/1.1";
	case CURL_HTTP_VERSION_2_0: return "HTTP/2";
	case CURL_HTTP_VERSION_3: return "HTTP/3";
	default: return "-";
	}
}

/* -vv: one line per answer, with the protocol spoken (HTTP/2 over TLS). */
static void log_answer(rw_http_req *r, CURL *e)
{
	long version = 0;
	char *u = rw_url_redact(r->url);

	curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &version);
	rw_debug("<- %d %s %s %s (%lld ms)%s%s", r->status, http_version_name(version), r->method, u,
		rw_now_ms() - r->started, r->failure ? ": " : "", r->failure ? r->failure : "");
	free(u);
}

static void forget_active(rw_http *h, rw_http_req *r)
{
	for (size_t i = 0; i < h->in_flight; i++) {
		if (h->active[i] == r) {
			h->active[i] = h->active[--h->in_flight];
			return;
		}
	}
}

static void finish_request(rw_http *h, CURL *e, CURLcode rc)
{
	rw_http_req *r = NULL;
	long status = 0;
	long long wait;

	curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&r);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	r->status = rc == CURLE_OK ? (int)status : 0;
	if (rc != CURLE_OK)
		record_failure(h, r, rc);
	if (rw_log_level() >= RW_LOG_DEBUG)
		log_answer(r, e);
	curl_multi_remove_handle(h->multi, e);
	curl_easy_cleanup(e);
	r->easy = NULL;
	forget_active(h, r);

	wait = retry_delay(h, r, rc);
	if (wait >= 0) {
		schedule_retry(h, r, wait);
		return;
	}
	if (r->cb)
		r->cb(r, r->payload);
	if (!r->keep)
		rw_http_req_free(r);
}

static long long promote_delayed(rw_http *h)
{
	long long now = rw_now_ms(), next = -1;
	rw_http_req **p = &h->delayed;

	while (*p) {
		rw_http_req *r = *p;

		if (r->not_before <= now) {
			*p = r->next;
			queue_push(h, r);
			continue;
		}
		if (next < 0 || r->not_before - now < next)
			next = r->not_before - now;
		p = &r->next;
	}
	return next;
}

static void drain_messages(rw_http *h)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(h->multi, &left))) {
		if (msg->msg == CURLMSG_DONE)
			finish_request(h, msg->easy_handle, msg->data.result);
		if (h->aborted)
			return;
	}
}

int rw_http_run(rw_http *h)
{
	h->aborted = false;
	while (!h->aborted && (h->queue_head || h->delayed || h->in_flight)) {
		long long next_retry = promote_delayed(h);
		int running, timeout = 1000;

		while (h->in_flight < (size_t)h->opts.concurrency && h->queue_head)
			start_request(h, queue_pop(h));
		curl_multi_perform(h->multi, &running);
		drain_messages(h);
		if (h->aborted)
			break;
		if (next_retry >= 0 && next_retry < timeout)
			timeout = (int)next_retry;
		if (h->in_flight || next_retry >= 0)
			curl_multi_poll(h->multi, NULL, 0, timeout, NULL);
	}
	if (h->aborted)
		rw_http_abort(h);
	return 0;
}

int rw_http_perform(rw_http *h, rw_http_req *req)
{
	if (h->queue_head || h->delayed || h->in_flight)
		return rw_error_set(RW_ERR_INTERNAL, "rw_http_perform while other requests run");
	req->keep = true;
	rw_http_submit(h, req);
	return rw_http_run(h);
}

static void free_list(rw_http_req *r)
{
	while (r) {
		rw_http_req *next = r->next;

		rw_http_req_free(r);
		r = next;
	}
}

void rw_http_abort(rw_http *h)
{
	h->aborted = true;
	free_list(h->queue_head);
	h->queue_head = h->queue_tail = NULL;
	free_list(h->delayed);
	h->delayed = NULL;
	/* requests in flight: take them out of the multi handle and free them */
	for (size_t i = 0; i < h->in_flight; i++) {
		curl_multi_remove_handle(h->multi, h->active[i]->easy);
		rw_http_req_free(h->active[i]);
	}
	h->in_flight = 0;
}

void rw_http_free(rw_http *h)
{
	if (!h)
		return;
	if (h->multi) {
		rw_http_abort(h);
		curl_multi_cleanup(h->multi);
	}
	free(h->active);
	free(h->client_cert);
	free(h->client_key);
	free(h->ca_file);
	free(h->user_agent);
	free(h);
}

size_t rw_http_sent_count(const rw_http *h)
{
	return h->sent;
}

int rw_http_req_status(const rw_http_req *r)
{
	return r->status;
}

const char *rw_http_req_method(const rw_http_req *r)
{
	return r->method;
}

const char *rw_http_req_url(const rw_http_req *r)
{
	return r->url;
}

const char *rw_http_req_response_header(const rw_http_req *r, const char *name)
{
	for (size_t i = 0; i < r->resp_count; i++)
		if (!strcasecmp(r->resp_headers[i].name, name))
			return r->resp_headers[i].value;
	return NULL;
}

const rw_buf *rw_http_req_body(const rw_http_req *r)
{
	return &r->body;
}

const char *rw_http_req_failure(const rw_http_req *r)
{
	return r->failure;
}

bool rw_http_req_failed_tls(const rw_http_req *r)
{
	return r->tls_failure;
}

void rw_http_req_set_data(rw_http_req *r, void *data)
{
	r->data = data;
}

void *rw_http_req_data(const rw_http_req *r)
{
	return r->data;
}
