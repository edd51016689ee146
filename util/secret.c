/* Reading secrets from files, and wiping them before they are freed. */
#include "rewind/secret.h"
#include "rewind/errors.h"
#include "rewind/util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void rw_secret_wipe(void *p, size_t n)
{
	if (p && n)
		explicit_bzero(p, n);
}

void rw_secret_free(char *s)
{
	if (s) {
		rw_secret_wipe(s, strlen(s));
		free(s);
	}
}

void rw_secret_json_free(json_t *doc)
{
	const char *key;
	json_t *value;
	size_t i;

	if (json_is_string(doc)) {
		/* jansson hands out its own buffer; the document dies right after */
		rw_secret_wipe((char *)json_string_value(doc), json_string_length(doc));
	} else if (json_is_object(doc)) {
		json_object_foreach(doc, key, value)
			rw_secret_json_free(json_incref(value));
	} else if (json_is_array(doc)) {
		json_array_foreach(doc, i, value)
			rw_secret_json_free(json_incref(value));
	}
	json_decref(doc);
}

/* Reads fd into buf (room for max + 1 bytes): *len bytes, or past max when the file is larger. */
static int read_all(size_t *len, int fd, char *buf, size_t max)
{
	*len = 0;
	while (*len <= max) {
		ssize_t n = read(fd, buf + *len, max + 1 - *len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return RW_ERROR;
		if (n == 0)
			break;
		*len += (size_t)n;
	}
	return 0;
}

int rw_secret_read_file(char **out, size_t *len, const char *path, size_t max)
{
	/* one scratch buffer of the largest size allowed: no copy is left behind by growing */
	char *scratch;
	size_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), error;

	if (fd < 0)
		return rw_error_set_os("cannot open '%s'", path);
	scratch = rw_malloc(max + 1);
	if ((error = read_all(&n, fd, scratch, max)) < 0)
		rw_error_set_os("cannot read '%s'", path);
	else if (n > max)
		error = rw_error_set(RW_ERR_OS, "'%s' is larger than %zu bytes", path, max);
	else
		*out = rw_strndup(scratch, n);
	close(fd);
	rw_secret_wipe(scratch, n);
	free(scratch);
	if (!error && len)
		*len = n;
	return error;
}

int rw_secret_read(char **out, const char *path, const char *what)
{
	char *data;
	size_t len;

	if (rw_secret_read_file(&data, &len, path, RW_SECRET_MAX) < 0)
		return rw_error_prefix("cannot read the %s file", what);
	while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		data[--len] = '\0';
	if (!len || strlen(data) != len) {
		rw_secret_wipe(data, len);
		free(data);
		return rw_error_set(RW_ERR_AUTH, "the %s file '%s' %s", what, path,
			len ? "holds a NUL byte (is it the right file?)" : "is empty");
	}
	*out = data;
	return 0;
}
