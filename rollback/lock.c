/*
 * One rollback per environment at a time: flock on <state>/<env>.lock. The
 * kernel releases a flock when its holder dies, so a rollback killed with
 * -9 leaves a file behind but never a held lock; the file's content (who,
 * pid, journal) is only there to name the holder in the error.
 */
#include "rewind/journal.h"
#include "rewind/errors.h"
#include "rewind/log.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct rw_lock {
	int fd;
	char *path;
};

static char *read_holder(int fd)
{
	char buf[4096];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	json_t *doc;
	char *who;

	if (n <= 0)
		return rw_strdup("an unknown process");
	buf[n] = '\0';
	doc = json_loads(buf, 0, NULL);
	if (!doc)
		return rw_strdup("an unknown process");
	who = rw_printf("%s (pid %lld on %s, since %s, journal %s)",
		json_string_value(json_object_get(doc, "user")) ? json_string_value(json_object_get(doc, "user")) : "someone",
		(long long)json_integer_value(json_object_get(doc, "pid")),
		json_string_value(json_object_get(doc, "host")) ? json_string_value(json_object_get(doc, "host")) : "?",
		json_string_value(json_object_get(doc, "since")) ? json_string_value(json_object_get(doc, "since")) : "?",
		json_string_value(json_object_get(doc, "journal")) ? json_string_value(json_object_get(doc, "journal")) : "-");
	json_decref(doc);
	return who;
}

static void write_holder(int fd, const char *user, const char *journal)
{
	char host[256] = "?", since[32];
	time_t t = time(NULL);
	struct tm tm;
	json_t *doc;
	char *text;

	gethostname(host, sizeof(host) - 1);
	gmtime_r(&t, &tm);
	strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
	doc = json_pack("{s:s?, s:I, s:s, s:s, s:s?}", "user", user, "pid", (json_int_t)getpid(),
		"host", host, "since", since, "journal", journal);
	text = json_dumps(doc, JSON_COMPACT);
	if (ftruncate(fd, 0) == 0 && pwrite(fd, text, strlen(text), 0) < 0)
		rw_warn("cannot record the lock holder: %s", strerror(errno));
	fsync(fd);
	free(text);
	json_decref(doc);
}

int rw_lock_take(rw_lock **out, const char *dir, const char *env, const char *user, const char *journal)
{
	char *path;
	int fd;
	struct stat st;

	if (rw_mkdir_p(dir, 0700) < 0)
		return RW_ERROR;
	path = rw_printf("%s/%s.lock", dir, env ? env : "default");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		rw_error_set_os("cannot open the lock '%s'", path);
		free(path);
		return RW_ERROR;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		char *who = read_holder(fd);

		rw_error_set(RW_ERR_LOCKED, "another rollback of environment '%s' is running: held by %s",
			env ? env : "default", who);
		free(who);
		close(fd);
		free(path);
		return RW_ERROR;
	}
	if (fstat(fd, &st) == 0 && st.st_size > 0) {
		char *who = read_holder(fd);

		/* the flock was free, so its holder is gone: it crashed or was killed */
		rw_warn("the previous rollback of '%s' did not finish: %s is gone (see rewind history; rewind undo puts it back)",
			env ? env : "default", who);
		free(who);
	}
	write_holder(fd, user, journal);
	*out = rw_calloc(1, sizeof(**out));
	(*out)->fd = fd;
	(*out)->path = path;
	return 0;
}

void rw_lock_release(rw_lock *lock)
{
	if (!lock)
		return;
	/* an empty file means "released cleanly"; remove it last */
	if (ftruncate(lock->fd, 0) < 0)
		rw_warn("cannot clear the lock '%s': %s", lock->path, strerror(errno));
	flock(lock->fd, LOCK_UN);
	close(lock->fd);
	free(lock->path);
	free(lock);
}
