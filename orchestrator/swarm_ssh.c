/*
 * HTTP to a remote Docker engine over SSH, as the docker CLI does for
 * DOCKER_HOST=ssh://: the engine's API socket is reached through
 * `docker system dial-stdio` run on the remote host, one exec channel per
 * HTTP connection.
 *
 * libcurl talks to a unix socket of ours (see swarm_ssh.h for why not a
 * socket handed to libcurl ready-made); each connection it makes is
 * bridged to a new channel. libssh2 sessions are not safe to use from two
 * threads, so after authentication one I/O thread owns the session and
 * pumps every channel in non-blocking mode; the mutex guards only what the
 * main thread reads (the last failure) and the stop flag.
 *
 * Host keys are checked against known_hosts by util/known_hosts.c rather
 * than with libssh2_knownhost_*: libssh2 1.10 rejects whole files for one
 * line it does not understand (@cert-authority, newer key types), and it
 * negotiates its own favourite host key type, which may not be the one the
 * file lists; so we ask the server for a type the file knows, and compare
 * keys.
 */
#include "swarm_ssh.h"

#include "rewind/errors.h"
#include "rewind/known_hosts.h"
#include "rewind/util.h"

#include <errno.h>
#include <fcntl.h>
#include <libssh2.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define REMOTE_COMMAND "docker system dial-stdio"
#define BRIDGE_BUF 32768
#define STDERR_KEEP 512           /* the end of the remote command's stderr, for messages */
#define CLOSE_TIMEOUT_MS 2000     /* closing channels and the session at the end */
#define IDLE_POLL_MS 50           /* libssh2 may hold read packets the socket no longer shows */

typedef enum {
	BRIDGE_OPENING,            /* the channel is being opened */
	BRIDGE_EXEC,               /* the remote command is being started */
	BRIDGE_OPEN,               /* bytes flow both ways */
	BRIDGE_FAILED,             /* it could not be opened (why: failure) */
	BRIDGE_CLOSING,            /* libcurl's side is closed, the channel is being closed */
} bridge_state;

typedef struct bridge {
	bridge_state state;
	long long deadline;        /* for opening */
	LIBSSH2_CHANNEL *channel;  /* NULL once freed */
	int fd;                    /* the connection libcurl made to our socket; -1 once closed */
	char out[BRIDGE_BUF];      /* from libcurl, for the channel */
	size_t out_len;
	char in[BRIDGE_BUF];       /* from the channel, for libcurl */
	size_t in_len;
	rw_buf err;                /* the remote command's stderr */
	bool local_eof, remote_eof, close_sent;
	struct bridge *next;
} bridge;

struct rw_swarm_ssh {
	int sock;
	LIBSSH2_SESSION *session;
	long timeout_ms;
	char *dir;                 /* private (0700): only we may connect to ... */
	char *socket_path;         /* ... the socket libcurl connects to */
	int listen_fd;
	pthread_mutex_t lock;      /* the session, the bridges, failure, dead, stopping */
	pthread_t thread;
	bool thread_started;
	bool stopping;
	bool dead;                 /* the session broke: no more channels */
	char *dead_reason;
	int wake[2];               /* tells the I/O thread to stop */
	bridge *bridges;
	char *failure;
};

/* ---- errors -------------------------------------------------------------- */

static int session_error(rw_swarm_ssh *s, const char *what)
{
	char *msg = NULL;

	libssh2_session_last_error(s->session, &msg, NULL, 0);
	return rw_error_set(RW_ERR_ORCHESTRATOR, "%s: %s", what, msg && *msg ? msg : "unknown error");
}

/* Keeps the newest reason a connection failed (lock held). */
static void set_failure(rw_swarm_ssh *s, char *msg)
{
	free(s->failure);
	s->failure = msg;
}

char *rw_swarm_ssh_take_failure(rw_swarm_ssh *s)
{
	char *f;

	pthread_mutex_lock(&s->lock);
	f = s->failure;
	s->failure = NULL;
	pthread_mutex_unlock(&s->lock);
	return f;
}

/* ---- TCP ----------------------------------------------------------------- */

static int connect_within(int fd, const struct addrinfo *ai, long timeout_ms)
{
	struct pollfd p = { fd, POLLOUT, 0 };
	int soerr = 0, rc;
	socklen_t len = sizeof(soerr);

	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return -1;
	rc = poll(&p, 1, (int)timeout_ms);
	if (rc == 0)
		errno = ETIMEDOUT;
	if (rc <= 0)
		return -1;
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
	errno = soerr;
	return soerr ? -1 : 0;
}

static int tcp_connect(rw_swarm_ssh *s, const char *host, int port)
{
	struct addrinfo hints, *res, *ai;
	char service[16];
	int rc, err = ECONNREFUSED;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(service, sizeof(service), "%d", port);
	if ((rc = getaddrinfo(host, service, &hints, &res)))
		return rw_error_set(RW_ERR_ORCHESTRATOR, "cannot resolve '%s': %s", host, gai_strerror(rc));
	for (ai = res; ai && s->sock < 0; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);

		if (fd >= 0 && connect_within(fd, ai, s->timeout_ms) == 0) {
			s->sock = fd;
			break;
		}
		err = errno;
		if (fd >= 0)
			close(fd);
	}
	freeaddrinfo(res);
	if (s->sock < 0)
		return rw_error_set(RW_ERR_ORCHESTRATOR, "cannot connect to %s port %d: %s", host, port, strerror(err));
	return 0;
}

/* ---- known_hosts (util/known_hosts.c) ------------------------------------ */

static int host_key_error(const rw_known_host *h, const char *path)
{
	if (h->verdict == RW_KNOWN_HOST_REVOKED)
		return rw_error_set(RW_ERR_ORCHESTRATOR, "the host key (%s %s) is marked @revoked in %s:%zu: refusing to connect",
			h->type, h->fingerprint, path, h->line);
	if (h->verdict == RW_KNOWN_HOST_MISMATCH)
		return rw_error_set(RW_ERR_ORCHESTRATOR, "HOST KEY MISMATCH: the server offers %s %s, not the key of %s:%zu "
			"(someone may be intercepting the connection; if the key really changed, fix that line): refusing to connect",
			h->type, h->fingerprint, path, h->line);
	return rw_error_set(RW_ERR_ORCHESTRATOR, "unknown host key (%s %s): not in %s%s; "
		"check the fingerprint with the host's owner, then add the host to that file (e.g. with ssh-keyscan)",
		h->type, h->fingerprint, path, h->missing ? " (no such file)" : "");
}

/* Only a key known_hosts lists for the host is accepted. */
static int check_host_key(rw_swarm_ssh *s, const char *path, const char *name)
{
	size_t len = 0;
	int type = 0, error;
	const unsigned char *key = (const unsigned char *)libssh2_session_hostkey(s->session, &len, &type);
	rw_known_host h;

	if (!key)
		return session_error(s, "no host key");
	if (rw_known_hosts_check(&h, path, name, key, len) < 0)
		error = RW_ERROR;
	else if (h.verdict == RW_KNOWN_HOST_MATCH)
		error = 0;
	else
		error = host_key_error(&h, path);
	rw_known_host_dispose(&h);
	return error;
}

/*
 * Before the handshake: ask for the key types the file knows for the host,
 * or libssh2 negotiates its own favourite, which the file may not list.
 */
static void prefer_known_types(rw_swarm_ssh *s, const char *path, const char *name)
{
	rw_strlist types = RW_STRLIST_INIT;
	rw_buf prefs = RW_BUF_INIT;

	if (rw_known_hosts_types(&types, path, name) < 0)
		rw_error_clear(); /* check_host_key says it after the handshake */
	for (size_t i = 0; i < types.count; i++) {
		/* an RSA key signs with SHA-2 today; "ssh-rsa" alone is SHA-1, which servers refuse */
		const char *algos = !strcmp(types.items[i], "ssh-rsa") ? "rsa-sha2-512,rsa-sha2-256,ssh-rsa" : types.items[i];

		rw_buf_printf(&prefs, "%s%s", prefs.size ? "," : "", algos);
	}
	if (prefs.size)
		libssh2_session_method_pref(s->session, LIBSSH2_METHOD_HOSTKEY, prefs.ptr);
	rw_buf_dispose(&prefs);
	rw_strlist_dispose(&types);
}

/* ---- authentication ------------------------------------------------------ */

static int auth_key_file(rw_swarm_ssh *s, const char *user, const char *key, bool quiet)
{
	char *pub = rw_printf("%s.pub", key);
	char *msg = NULL;
	int rc;

	if (access(key, R_OK) < 0) {
		free(pub);
		return quiet ? RW_ENOTFOUND : rw_error_set(RW_ERR_ORCHESTRATOR, "cannot read SSH key '%s': %s",
			key, strerror(errno));
	}
	rc = libssh2_userauth_publickey_fromfile_ex(s->session, user, (unsigned)strlen(user),
		access(pub, R_OK) == 0 ? pub : NULL, key, NULL);
	free(pub);
	if (rc == 0 || quiet)
		return rc == 0 ? 0 : RW_ENOTFOUND;
	libssh2_session_last_error(s->session, &msg, NULL, 0);
	if (rc == LIBSSH2_ERROR_FILE)
		return rw_error_set(RW_ERR_ORCHESTRATOR, "cannot use SSH key '%s': %s (a key with a passphrase must be given through the SSH agent)",
			key, msg);
	return rw_error_set(RW_ERR_ORCHESTRATOR, "SSH authentication refused: user '%s' with key '%s' (%s)",
		user, key, msg);
}

/* Every identity of the SSH agent in turn; RW_ENOTFOUND when none is accepted. */
static int auth_agent(rw_swarm_ssh *s, const char *user)
{
	struct libssh2_agent_publickey *id = NULL, *prev = NULL;
	LIBSSH2_AGENT *agent;
	int rc = RW_ENOTFOUND;

	if (!getenv("SSH_AUTH_SOCK") || !(agent = libssh2_agent_init(s->session)))
		return RW_ENOTFOUND;
	if (libssh2_agent_connect(agent) == 0 && libssh2_agent_list_identities(agent) == 0) {
		while (rc && libssh2_agent_get_identity(agent, &id, prev) == 0) {
			if (libssh2_agent_userauth(agent, user, id) == 0)
				rc = 0;
			prev = id;
		}
		libssh2_agent_disconnect(agent);
	}
	libssh2_agent_free(agent);
	return rc;
}

/* Like ssh: the agent, then the usual key files. */
static int auth_default(rw_swarm_ssh *s, const char *user)
{
	static const char *const names[] = { "id_ed25519", "id_ecdsa", "id_rsa" };
	const char *home = getenv("HOME");

	if (auth_agent(s, user) == 0)
		return 0;
	for (size_t i = 0; home && i < RW_ARRAY_SIZE(names); i++) {
		char *path = rw_printf("%s/.ssh/%s", home, names[i]);
		int rc = auth_key_file(s, user, path, true);

		free(path);
		if (rc == 0)
			return 0;
	}
	return rw_error_set(RW_ERR_ORCHESTRATOR, "SSH authentication refused: no key of the SSH agent or ~/.ssh/id_* "
		"was accepted for user '%s'; set the key with [swarm] ssh-key", user);
}

static int authenticate(rw_swarm_ssh *s, const char *user, const char *key)
{
	char *methods = libssh2_userauth_list(s->session, user, (unsigned)strlen(user));

	if (!methods) {
		if (libssh2_userauth_authenticated(s->session))
			return 0;
		return session_error(s, "cannot start authentication");
	}
	if (!strstr(methods, "publickey"))
		return rw_error_set(RW_ERR_ORCHESTRATOR, "the SSH server offers no public key authentication for user '%s' (only %s)",
			user, methods);
	return key ? auth_key_file(s, user, key, false) : auth_default(s, user);
}

/* ---- the bridges --------------------------------------------------------- */

static bool session_broken(rw_swarm_ssh *s, int rc)
{
	switch (rc) {
	case LIBSSH2_ERROR_SOCKET_SEND:
	case LIBSSH2_ERROR_SOCKET_RECV:
	case LIBSSH2_ERROR_SOCKET_DISCONNECT:
	case LIBSSH2_ERROR_SOCKET_TIMEOUT:
	case LIBSSH2_ERROR_TIMEOUT:
	case LIBSSH2_ERROR_KEX_FAILURE:
		if (!s->dead) {
			char *msg = NULL;

			libssh2_session_last_error(s->session, &msg, NULL, 0);
			s->dead_reason = rw_printf("SSH connection lost: %s", msg ? msg : "error");
		}
		s->dead = true;
		return true;
	default:
		return false;
	}
}

static void channel_failure(rw_swarm_ssh *s, const char *what, bool timed_out)
{
	char *msg = NULL;
	int rc = libssh2_session_last_error(s->session, &msg, NULL, 0);

	if (!session_broken(s, rc))
		set_failure(s, rw_printf("%s: %s", what, timed_out ? "timed out" : msg && *msg ? msg : "error"));
}

/* A new connection from libcurl: its channel is opened, then runs the command. */
static bool open_step(rw_swarm_ssh *s, bridge *b)
{
	bool late = rw_now_ms() > b->deadline;
	int rc;

	if (b->state == BRIDGE_OPENING) {
		if (!(b->channel = libssh2_channel_open_session(s->session))) {
			if (libssh2_session_last_errno(s->session) == LIBSSH2_ERROR_EAGAIN && !late)
				return false;
			channel_failure(s, "cannot open an SSH channel", late);
			b->state = BRIDGE_FAILED;
			return true;
		}
		b->state = BRIDGE_EXEC;
	}
	rc = libssh2_channel_exec(b->channel, REMOTE_COMMAND);
	if (rc == LIBSSH2_ERROR_EAGAIN && !late)
		return false;
	if (rc) {
		channel_failure(s, "cannot run `" REMOTE_COMMAND "`", late);
		b->state = BRIDGE_FAILED;
		return true;
	}
	b->state = BRIDGE_OPEN;
	return true;
}

/* libcurl's side to the channel */
static bool pump_out(rw_swarm_ssh *s, bridge *b)
{
	bool moved = false;
	ssize_t n;

	if (b->fd >= 0 && !b->local_eof && b->out_len < sizeof(b->out)) {
		n = recv(b->fd, b->out + b->out_len, sizeof(b->out) - b->out_len, 0);
		if (n > 0) {
			b->out_len += (size_t)n;
			moved = true;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			b->local_eof = true;
			moved = true;
		}
	}
	if (b->out_len && !b->remote_eof) {
		n = libssh2_channel_write(b->channel, b->out, b->out_len);
		if (n > 0) {
			memmove(b->out, b->out + n, b->out_len - (size_t)n);
			b->out_len -= (size_t)n;
			moved = true;
		} else if (n != LIBSSH2_ERROR_EAGAIN) {
			session_broken(s, (int)n);
			b->remote_eof = true;
			moved = true;
		}
	}
	return moved;
}

static void keep_stderr(bridge *b, const char *data, size_t len)
{
	rw_buf_put(&b->err, data, len);
	if (b->err.size > STDERR_KEEP) {
		size_t drop = b->err.size - STDERR_KEEP;

		memmove(b->err.ptr, b->err.ptr + drop, STDERR_KEEP + 1);
		b->err.size = STDERR_KEEP;
	}
}

/* the channel to libcurl's side; stderr is kept for messages */
static bool pump_in(rw_swarm_ssh *s, bridge *b)
{
	bool moved = false;
	char err[512];
	ssize_t n;

	n = libssh2_channel_read_stderr(b->channel, err, sizeof(err));
	if (n > 0) {
		keep_stderr(b, err, (size_t)n);
		moved = true;
	}
	if (!b->remote_eof && b->in_len < sizeof(b->in)) {
		n = libssh2_channel_read(b->channel, b->in + b->in_len, sizeof(b->in) - b->in_len);
		if (n > 0) {
			b->in_len += (size_t)n;
			moved = true;
		} else if ((n == 0 && libssh2_channel_eof(b->channel)) || (n < 0 && n != LIBSSH2_ERROR_EAGAIN)) {
			session_broken(s, (int)n);
			b->remote_eof = true;
			moved = true;
		}
	}
	if (b->in_len && b->fd >= 0) {
		n = send(b->fd, b->in, b->in_len, MSG_NOSIGNAL);
		if (n > 0) {
			memmove(b->in, b->in + n, b->in_len - (size_t)n);
			b->in_len -= (size_t)n;
			moved = true;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			b->local_eof = true;
			b->in_len = 0;
			moved = true;
		}
	}
	return moved;
}

/* Either side is done: libcurl sees the end, the channel is closed. */
static void start_closing(rw_swarm_ssh *s, bridge *b)
{
	b->state = BRIDGE_CLOSING;
	/* every request that fails from now on hears why */
	if (s->dead)
		set_failure(s, rw_strdup(s->dead_reason));
	if (b->err.size) {
		char *text = rw_strndup(b->err.ptr, b->err.size);

		if (*rw_str_trim(text))
			set_failure(s, rw_printf("the remote `%s` said: %s", REMOTE_COMMAND, text));
		free(text);
	}
	if (b->fd >= 0) {
		close(b->fd);
		b->fd = -1;
	}
}

static bool close_step(rw_swarm_ssh *s, bridge *b)
{
	int rc;

	if (s->dead)
		return false; /* libssh2_session_free releases the channel */
	if (!b->close_sent) {
		rc = libssh2_channel_close(b->channel);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return false;
		session_broken(s, rc);
		b->close_sent = true;
	}
	rc = libssh2_channel_free(b->channel);
	if (rc == LIBSSH2_ERROR_EAGAIN)
		return false;
	session_broken(s, rc);
	b->channel = NULL;
	return true;
}

static bool pump_bridge(rw_swarm_ssh *s, bridge *b)
{
	bool moved = false;

	if (s->dead && b->state != BRIDGE_CLOSING)
		start_closing(s, b);
	if (b->state == BRIDGE_OPENING || b->state == BRIDGE_EXEC)
		moved |= open_step(s, b);
	if (b->state == BRIDGE_FAILED)
		start_closing(s, b);
	if (b->state == BRIDGE_OPEN) {
		moved |= pump_out(s, b);
		moved |= pump_in(s, b);
		if ((b->local_eof && !b->out_len) || (b->remote_eof && !b->in_len))
			start_closing(s, b);
	}
	if (b->state == BRIDGE_CLOSING && b->channel)
		moved |= close_step(s, b);
	return moved;
}

static void bridge_free(bridge *b)
{
	if (b->fd >= 0)
		close(b->fd);
	rw_buf_dispose(&b->err);
	free(b);
}

/* libcurl connected to our socket: one more bridge. */
static bool accept_bridges(rw_swarm_ssh *s)
{
	bool moved = false;
	int fd;

	while ((fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		bridge *b = rw_calloc(1, sizeof(*b));

		b->fd = fd;
		b->state = BRIDGE_OPENING;
		b->deadline = rw_now_ms() + s->timeout_ms;
		b->next = s->bridges;
		s->bridges = b;
		moved = true;
	}
	return moved;
}

/* One round over every bridge (lock held); true when anything moved. */
static bool pump_all(rw_swarm_ssh *s)
{
	bridge **p = &s->bridges;
	bool moved = accept_bridges(s);

	while (*p) {
		bridge *b = *p;

		moved |= pump_bridge(s, b);
		if (b->state == BRIDGE_CLOSING && !b->channel && b->fd < 0) {
			*p = b->next;
			bridge_free(b);
		} else {
			p = &b->next;
		}
	}
	return moved;
}

static short session_events(rw_swarm_ssh *s, bool want_in)
{
	int dirs = libssh2_session_block_directions(s->session);

	return (short)((want_in || (dirs & LIBSSH2_SESSION_BLOCK_INBOUND) ? POLLIN : 0) |
		(dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND ? POLLOUT : 0));
}

/* Sleeps (lock released) until a socket or the wake pipe has something. */
static void wait_events(rw_swarm_ssh *s)
{
	size_t n = 0, count = 3;
	struct pollfd *fds;
	bool want_ssh = false, busy = false;
	char drain[64];

	for (bridge *b = s->bridges; b; b = b->next)
		count++;
	fds = rw_calloc(count, sizeof(*fds));
	fds[n].fd = s->wake[0];
	fds[n++].events = POLLIN;
	fds[n].fd = s->listen_fd;
	fds[n++].events = POLLIN;
	for (bridge *b = s->bridges; b; b = b->next) {
		busy |= b->fd >= 0 || (b->channel && !s->dead);
		/* only listen to the server when someone can take what it sends */
		want_ssh |= b->state != BRIDGE_OPEN || b->in_len < sizeof(b->in);
		if (b->fd < 0 || b->state != BRIDGE_OPEN)
			continue;
		fds[n].fd = b->fd;
		fds[n].events = (short)((!b->local_eof && b->out_len < sizeof(b->out) ? POLLIN : 0) | (b->in_len ? POLLOUT : 0));
		n++;
	}
	if (busy && !s->dead) {
		fds[n].fd = s->sock;
		fds[n++].events = session_events(s, want_ssh);
	}
	pthread_mutex_unlock(&s->lock);
	poll(fds, (nfds_t)n, busy ? IDLE_POLL_MS : -1);
	while (read(s->wake[0], drain, sizeof(drain)) > 0)
		;
	pthread_mutex_lock(&s->lock);
	free(fds);
}

static void *io_thread(void *payload)
{
	rw_swarm_ssh *s = payload;

	pthread_mutex_lock(&s->lock);
	while (!s->stopping) {
		if (!pump_all(s))
			wait_events(s);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static void wake_thread(rw_swarm_ssh *s)
{
	ssize_t rc = write(s->wake[1], "x", 1);

	(void)rc; /* a full pipe already wakes it */
}

const char *rw_swarm_ssh_socket(const rw_swarm_ssh *s)
{
	return s->socket_path;
}

/* ---- the session --------------------------------------------------------- */

static char *local_user(void)
{
	struct passwd *pw = getpwuid(getuid());
	const char *env = getenv("USER");

	return rw_strdup(pw && pw->pw_name ? pw->pw_name : env ? env : "root");
}

static char *default_known_hosts(void)
{
	const char *home = getenv("HOME");

	return home ? rw_printf("%s/.ssh/known_hosts", home) : rw_strdup("/root/.ssh/known_hosts");
}

/* The socket libcurl connects to, in a directory only we may enter. */
static int listen_local(rw_swarm_ssh *s)
{
	const char *tmp = getenv("TMPDIR");
	struct sockaddr_un addr;

	s->dir = rw_printf("%s/rewind-ssh-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(s->dir)) {
		free(s->dir);
		s->dir = NULL;
		return rw_error_set_os("cannot create a private directory for the SSH bridge");
	}
	s->socket_path = rw_printf("%s/docker.sock", s->dir);
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	if (strlen(s->socket_path) >= sizeof(addr.sun_path))
		return rw_error_set(RW_ERR_OS, "SSH bridge socket path too long: %s (set TMPDIR)", s->socket_path);
	strcpy(addr.sun_path, s->socket_path);
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0 || bind(s->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(s->listen_fd, 16) < 0)
		return rw_error_set_os("SSH bridge socket %s", s->socket_path);
	return 0;
}

static int start_thread(rw_swarm_ssh *s)
{
	if (listen_local(s) < 0)
		return RW_ERROR;
	if (pipe2(s->wake, O_NONBLOCK | O_CLOEXEC) < 0)
		return rw_error_set_os("pipe");
	libssh2_session_set_blocking(s->session, 0);
	if (pthread_create(&s->thread, NULL, io_thread, s))
		return rw_error_set(RW_ERR_OS, "cannot start the SSH bridge thread");
	s->thread_started = true;
	return 0;
}

static int session_start(rw_swarm_ssh *s, const rw_swarm_ssh_opts *o, const char *user)
{
	int port = o->port ? o->port : 22;
	char *known_hosts = o->known_hosts ? rw_strdup(o->known_hosts) : default_known_hosts();
	/* OpenSSH writes a host on another port than 22 as [host]:port */
	char *name = port == 22 ? rw_strdup(o->host) : rw_printf("[%s]:%d", o->host, port);
	int error;

	if ((error = tcp_connect(s, o->host, port)) < 0)
		goto done;
	if (!(s->session = libssh2_session_init())) {
		error = rw_error_set(RW_ERR_INTERNAL, "cannot create an SSH session");
		goto done;
	}
	libssh2_session_set_timeout(s->session, s->timeout_ms);
	prefer_known_types(s, known_hosts, name);
	if (libssh2_session_handshake(s->session, s->sock)) {
		error = session_error(s, "SSH handshake failed");
		goto done;
	}
	if ((error = check_host_key(s, known_hosts, name)) < 0)
		goto done;
	error = authenticate(s, user, o->key);
done:
	free(known_hosts);
	free(name);
	return error;
}

int rw_swarm_ssh_open(rw_swarm_ssh **out, const rw_swarm_ssh_opts *o)
{
	rw_swarm_ssh *s = rw_calloc(1, sizeof(*s));
	char *user = o->user && *o->user ? rw_strdup(o->user) : local_user();

	s->sock = s->listen_fd = -1;
	s->wake[0] = s->wake[1] = -1;
	s->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 10000;
	pthread_mutex_init(&s->lock, NULL);
	if (libssh2_init(0)) {
		free(user);
		rw_swarm_ssh_free(s);
		return rw_error_set(RW_ERR_INTERNAL, "cannot initialise libssh2");
	}
	if (session_start(s, o, user) < 0 || start_thread(s) < 0) {
		free(user);
		rw_swarm_ssh_free(s);
		return RW_ERROR;
	}
	free(user);
	*out = s;
	return 0;
}

void rw_swarm_ssh_free(rw_swarm_ssh *s)
{
	if (!s)
		return;
	if (s->thread_started) {
		pthread_mutex_lock(&s->lock);
		s->stopping = true;
		pthread_mutex_unlock(&s->lock);
		wake_thread(s);
		pthread_join(s->thread, NULL);
	}
	if (s->session) {
		/* bounded: a server that does not answer does not hold us */
		libssh2_session_set_blocking(s->session, 1);
		libssh2_session_set_timeout(s->session, CLOSE_TIMEOUT_MS);
	}
	while (s->bridges) {
		bridge *b = s->bridges;

		s->bridges = b->next;
		if (b->channel && !s->dead)
			libssh2_channel_free(b->channel);
		bridge_free(b);
	}
	if (s->session) {
		if (!s->dead)
			libssh2_session_disconnect(s->session, "rewind is done");
		libssh2_session_free(s->session);
	}
	if (s->sock >= 0)
		close(s->sock);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->socket_path)
		unlink(s->socket_path);
	if (s->dir)
		rmdir(s->dir);
	free(s->socket_path);
	free(s->dir);
	for (int i = 0; i < 2; i++)
		if (s->wake[i] >= 0)
			close(s->wake[i]);
	pthread_mutex_destroy(&s->lock);
	free(s->failure);
	free(s->dead_reason);
	free(s);
}
