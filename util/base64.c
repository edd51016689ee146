/* base64 encoding and decoding (RFC 4648, standard alphabet). */
#include "rewind/base64.h"
#include "rewind/errors.h"
#include "rewind/util.h"

#include <stdlib.h>
#include <string.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *rw_base64(const void *data, size_t len)
{
	const unsigned char *p = data;
	char *out = rw_malloc(4 * ((len + 2) / 3) + 1), *o = out;

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;

		if (i + 1 < len)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		*o++ = alphabet[(v >> 18) & 63];
		*o++ = alphabet[(v >> 12) & 63];
		*o++ = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? alphabet[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

/* The 6-bit value of c, -1 when c is not of the alphabet. */
static int sextet(char c)
{
	const char *p = c ? strchr(alphabet, c) : NULL;

	return p ? (int)(p - alphabet) : -1;
}

/* The characters before the padding; 0 with *bad when the padding or length is wrong. */
static size_t data_length(bool *bad, const char *s, size_t n)
{
	size_t data = n;

	while (data && n - data < 2 && s[data - 1] == '=')
		data--;
	/* "x===" or a lone character encodes no whole byte; padding must complete a quantum */
	*bad = data % 4 == 1 || (data != n && n % 4);
	return data;
}

int rw_base64_decode(unsigned char **out, size_t *len, const char *s, size_t n)
{
	bool bad;
	size_t data = data_length(&bad, s, n), o = 0;
	unsigned char *buf;
	unsigned v = 0;
	int bits = 0;

	if (bad)
		return rw_error_set(RW_ERR_PROTOCOL, "not base64: %zu characters", n);
	buf = rw_malloc(data / 4 * 3 + 3);
	for (size_t i = 0; i < data; i++) {
		int x = sextet(s[i]);

		if (x < 0) {
			free(buf);
			return rw_error_set(RW_ERR_PROTOCOL, "not base64: unexpected character at offset %zu", i);
		}
		v = (v << 6) | (unsigned)x;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (unsigned char)(v >> bits);
		}
	}
	/* the unused bits of the last character are meant to be zero; ignoring them is what decoders do */
	buf[o] = '\0';
	*out = buf;
	*len = o;
	return 0;
}
