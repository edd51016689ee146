/*
 * The Swarm backend's road to a remote Docker engine over SSH, the way
 * DOCKER_HOST=ssh://user@host works: one SSH session (libssh2), and for
 * every HTTP connection, an exec channel running `docker system dial-stdio`
 * (whose stdin/stdout are the engine's API socket), bridged to that
 * connection by an I/O thread.
 */
#ifndef REWIND_SWARM_SSH_H
#define REWIND_SWARM_SSH_H

#include <stddef.h>

typedef struct rw_swarm_ssh rw_swarm_ssh;

typedef struct {
	const char *user;        /* NULL: the local user's name */
	const char *host;
	int port;                /* 0: 22 */
	const char *key;         /* private key file; NULL: the SSH agent, then ~/.ssh/id_* */
	const char *known_hosts; /* NULL: ~/.ssh/known_hosts */
	long timeout_ms;         /* connect, handshake, authentication, channel opening */
} rw_swarm_ssh_opts;

/*
 * Connects, checks the host key against known_hosts (an unknown or changed
 * key is an error, never accepted), authenticates, and starts the bridge.
 * Errors are RW_ERR_ORCHESTRATOR (the caller names the engine).
 */
int rw_swarm_ssh_open(rw_swarm_ssh **out, const rw_swarm_ssh_opts *opts);

/*
 * The unix socket to send HTTP to: every connection made to it is bridged to
 * a new channel running `docker system dial-stdio`. (Not a connected socket
 * handed to libcurl (CURLOPT_OPENSOCKETFUNCTION): Debian 12's libcurl 7.88 calls
 * connect() on such a socket anyway and fails, curl issue #10626, fixed in
 * 8.0.) The socket lives in a 0700 directory of its own, so that no other
 * user can reach the remote engine through it.
 */
const char *rw_swarm_ssh_socket(const rw_swarm_ssh *ssh);

/*
 * Why a request failed, as far as the SSH side knows: a channel that could
 * not be opened, a dropped session, or what the remote command wrote on stderr
 * (e.g. "docker: command not found"). NULL when nothing is known; the
 * caller frees it. Taking it forgets it, so that the next request starts
 * with a clean slate.
 */
char *rw_swarm_ssh_take_failure(rw_swarm_ssh *ssh);

/* Stops the bridge thread, closes every channel and the session. */
void rw_swarm_ssh_free(rw_swarm_ssh *ssh);

#endif
