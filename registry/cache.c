/*
 * The cache lives in two files of the cache directory:
 *   images-v1  "<key>\t<created seconds or '-' for undated>\n", appended to
 *              (entries never change, so concurrent runs may both append)
 *   tags-v1    "<registry>\t<repo>\t<tag>\t<digest>\n", rewritten atomically
 */
#include "rewind/cache.h"
#include "rewind/errors.h"
#include "rewind/log.h"
#include "rewind/strmap.h"
#include "rewind/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A cache larger than this is not read: bounded memory whatever is on disk. */
#define CACHE_FILE_MAX (256u * 1024 * 1024)

typedef struct {
	bool dated;
	int64_t created;
} image_entry;

struct rw_cache {
	char *dir;
	rw_strmap *images; /* key -> image_entry */
	rw_strmap *tags;   /* "registry\trepo\ttag" -> digest */
	rw_buf appended;   /* image lines not yet written */
	bool tags_dirty;
};

static char *cache_path(const rw_cache *c, const char *name)
{
	return rw_printf("%s/%s", c->dir, name);
}

/* Calls fn on each line of a cache file with the line split on tabs. */
static void read_lines(rw_cache *c, const char *name, size_t fields,
	void (*fn)(rw_cache *c, char **f))
{
	char *path = cache_path(c, name), *data, *line, *save = NULL;
	size_t len;

	if (access(path, F_OK) < 0) {
		free(path);
		return;
	}
	if (rw_file_read(&data, &len, path, CACHE_FILE_MAX) < 0) {
		rw_warn("ignoring the cache: %s", rw_error_last()->message);
		rw_error_clear();
		free(path);
		return;
	}
	for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[4], *s = line;
		size_t n = 0;

		while (n < fields && s) {
			f[n++] = s;
			s = strchr(s, '\t');
			if (s)
				*s++ = '\0';
		}
		if (n == fields && !s) /* a torn or foreign line is skipped */
			fn(c, f);
	}
	free(data);
	free(path);
}

static void load_image(rw_cache *c, char **f)
{
	image_entry *e = rw_malloc(sizeof(*e));
	char *end;

	e->dated = strcmp(f[1], "-") != 0;
	e->created = e->dated ? strtoll(f[1], &end, 10) : 0;
	if (e->dated && *end) {
		free(e);
		return;
	}
	free(rw_strmap_put(c->images, f[0], e));
}

static void load_tag(rw_cache *c, char **f)
{
	char *key = rw_printf("%s\t%s\t%s", f[0], f[1], f[2]);

	free(rw_strmap_put(c->tags, key, rw_strdup(f[3])));
	free(key);
}

int rw_cache_open(rw_cache **out, const char *dir)
{
	rw_cache *c = rw_calloc(1, sizeof(*c));

	c->images = rw_strmap_new();
	c->tags = rw_strmap_new();
	if (dir) {
		c->dir = rw_strdup(dir);
		read_lines(c, "images-v1", 2, load_image);
		read_lines(c, "tags-v1", 4, load_tag);
	}
	*out = c;
	return 0;
}

int rw_cache_lookup(bool *dated, int64_t *created, const rw_cache *c, const char *key)
{
	const image_entry *e = rw_strmap_get(c->images, key);

	if (!e)
		return RW_ENOTFOUND;
	*dated = e->dated;
	*created = e->created;
	return 0;
}

void rw_cache_store(rw_cache *c, const char *key, bool dated, int64_t created)
{
	image_entry *e;

	if (rw_strmap_get(c->images, key) || strpbrk(key, "\t\n"))
		return;
	e = rw_malloc(sizeof(*e));
	e->dated = dated;
	e->created = created;
	rw_strmap_put(c->images, key, e);
	if (dated)
		rw_buf_printf(&c->appended, "%s\t%" PRId64 "\n", key, created);
	else
		rw_buf_printf(&c->appended, "%s\t-\n", key);
}

static char *tag_key(const char *registry, const char *repo, const char *tag)
{
	return rw_printf("%s\t%s\t%s", registry, repo, tag);
}

const char *rw_cache_tag_hint(const rw_cache *c, const char *registry, const char *repo, const char *tag)
{
	char *key = tag_key(registry, repo, tag);
	const char *digest = rw_strmap_get(c->tags, key);

	free(key);
	return digest;
}

void rw_cache_set_tag_hint(rw_cache *c, const char *registry, const char *repo, const char *tag, const char *digest)
{
	char *key = tag_key(registry, repo, tag);
	const char *old = rw_strmap_get(c->tags, key);

	if (!old || strcmp(old, digest)) {
		free(rw_strmap_put(c->tags, key, rw_strdup(digest)));
		c->tags_dirty = true;
	}
	free(key);
}

static int append_images(rw_cache *c)
{
	char *path = cache_path(c, "images-v1");
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	ssize_t w;

	if (fd < 0) {
		rw_error_set_os("cannot write the cache '%s'", path);
		free(path);
		return RW_ERROR;
	}
	/* one write: appends of whole lines do not interleave with another run's */
	w = write(fd, c->appended.ptr, c->appended.size);
	close(fd);
	if (w < 0 || (size_t)w != c->appended.size) {
		rw_error_set_os("cannot write the cache '%s'", path);
		free(path);
		return RW_ERROR;
	}
	free(path);
	rw_buf_clear(&c->appended);
	return 0;
}

static int write_tags(rw_cache *c)
{
	rw_buf out = RW_BUF_INIT;
	const char *key;
	void *digest;
	size_t it = 0;
	char *path = cache_path(c, "tags-v1");
	int error;

	while (rw_strmap_next(&key, &digest, c->tags, &it))
		rw_buf_printf(&out, "%s\t%s\n", key, (const char *)digest);
	error = rw_file_write_atomic(path, out.ptr ? out.ptr : "", out.size);
	rw_buf_dispose(&out);
	free(path);
	if (!error)
		c->tags_dirty = false;
	return error;
}

int rw_cache_save(rw_cache *c)
{
	if (!c->dir)
		return 0;
	if (!c->appended.size && !c->tags_dirty)
		return 0;
	if (rw_mkdir_p(c->dir, 0700) < 0)
		return RW_ERROR;
	if (c->appended.size && append_images(c) < 0)
		return RW_ERROR;
	if (c->tags_dirty && write_tags(c) < 0)
		return RW_ERROR;
	return 0;
}

void rw_cache_free(rw_cache *c)
{
	if (!c)
		return;
	rw_strmap_free(c->images, free);
	rw_strmap_free(c->tags, free);
	rw_buf_dispose(&c->appended);
	free(c->dir);
	free(c);
}
