/*
 * OpenSSH's known_hosts files, read as ssh reads them, for the backends
 * that connect over SSH (git over ssh://, Swarm over ssh://): a host key is
 * accepted only when the file lists it for the host.
 *
 * A line is "[@marker] hosts keytype base64-key [comment]". hosts is a
 * comma-separated list of patterns ('*' and '?' wildcards, case ignored,
 * "[host]:port" for a port other than 22, "!pattern" vetoing the line), or
 * one "|1|salt|hmac" hash of the name (HashKnownHosts). @revoked marks a key
 * that must never be accepted; @cert-authority lines (host certificates,
 * which libssh2 does not do) vouch for nothing here. Read here rather than
 * by libssh2 (libssh2_knownhost_*), which rejects a whole file for one line
 * it does not understand.
 */
#ifndef REWIND_KNOWN_HOSTS_H
#define REWIND_KNOWN_HOSTS_H

#include <stdbool.h>
#include <stddef.h>

#include "rewind/util.h"

typedef enum {
	RW_KNOWN_HOST_UNKNOWN = 0, /* no line lists the key (or any of its type) for the host */
	RW_KNOWN_HOST_MATCH,       /* a line lists the key for the host */
	RW_KNOWN_HOST_MISMATCH,    /* none lists it, but one lists another key of its type: changed */
	RW_KNOWN_HOST_REVOKED,     /* a @revoked line lists it (whatever else lists it) */
} rw_known_host_verdict;

typedef struct {
	rw_known_host_verdict verdict;
	size_t line;          /* the line that decided (from 1), 0 for unknown */
	bool missing;         /* the file does not exist */
	char *type;           /* the presented key's type ("ssh-ed25519"), from its blob */
	char *fingerprint;    /* "SHA256:..." of the presented key, as ssh-keygen -l prints it */
	rw_strlist types;     /* the key types the file lists for the host (not revoked), in order */
} rw_known_host;

/* The name known_hosts lists a host under: "host" on port 22, "[host]:port" on another. */
char *rw_known_hosts_name(const char *host, int port);

/* Does the hosts field of a line (patterns, or a |1|salt|hmac hash) name name? */
bool rw_known_hosts_field_matches(const char *field, const char *name);

/*
 * The verdict of the file at path on the key (its SSH wire blob) presented
 * by the host known as name. A missing file lists nothing (out->missing);
 * one that cannot be read is an RW_ERR_OS error. Dispose of out either way.
 */
int rw_known_hosts_check(rw_known_host *out, const char *path, const char *name,
	const unsigned char *key, size_t key_len);
void rw_known_host_dispose(rw_known_host *h);

/* The key types the file lists for name (revoked lines aside), in file order, each once. */
int rw_known_hosts_types(rw_strlist *types, const char *path, const char *name);

/* The type a key blob names ("ssh-rsa"), "unknown" when it names none. */
char *rw_known_hosts_key_type(const unsigned char *key, size_t key_len);

/* "SHA256:<base64, unpadded>" of a key blob. */
char *rw_known_hosts_fingerprint(const unsigned char *key, size_t key_len);

#endif
