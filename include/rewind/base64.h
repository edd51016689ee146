/*
 * base64 (RFC 4648, the standard alphabet), for HTTP Basic credentials,
 * docker's config.json "auth" entries and OpenSSH's known_hosts keys.
 *
 * Both directions allocate their result once, at its final size: what they
 * carry is often a secret, and a buffer that grows leaves copies of it in
 * freed memory.
 */
#ifndef REWIND_BASE64_H
#define REWIND_BASE64_H

#include <stddef.h>

/* base64 of data, padded with '='. */
char *rw_base64(const void *data, size_t len);

/*
 * Decodes the n characters of s (padding optional, no white space) into
 * *out, NUL-terminated for callers that read text, *len bytes without the
 * NUL. RW_ERROR (an RW_ERR_PROTOCOL error set) when s is not base64.
 */
int rw_base64_decode(unsigned char **out, size_t *len, const char *s, size_t n);

#endif
