/*
 * Registry credentials and the cache location. Secrets come from files or
 * environment variables, never from the command line, and are never printed.
 */
#include "internal.h"

#include "rewind/http.h"
#include "rewind/log.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define SECRET_FILE_MAX (64 * 1024)

static void wipe(char *s)
{
	if (s) {
		memset(s, 0, strlen(s));
		free(s);
	}
}

static int read_secret(char **out, const char *path)
{
	char *data;
	size_t len;

	if (rw_file_read(&data, &len, path, SECRET_FILE_MAX) < 0)
		return rw_error_prefix("cannot read the password file");
	/* files written by `echo` end in a newline that is not the password's */
	while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		data[--len] = '\0';
	if (strlen(data) != len) {
		wipe(data);
		return rw_error_set(RW_ERR_CONFIG, "the password file '%s' holds a NUL byte", path);
	}
	*out = data;
	return 0;
}

/* The docker config file: $DOCKER_CONFIG/config.json or ~/.docker/config.json. */
static char *docker_config_path(void)
{
	const char *dir = getenv("DOCKER_CONFIG"), *home = getenv("HOME");

	if (dir && *dir)
		return rw_printf("%s/config.json", dir);
	return home && *home ? rw_printf("%s/.docker/config.json", home) : NULL;
}

/* "https://host:5000/v1/" and "host:5000" both name host:5000. */
static bool auth_key_matches(const char *key, const char *host)
{
	char *h = strstr(key, "://") ? rw_url_host(key) : NULL;
	bool match;

	if (!h) {
		size_t n = strcspn(key, "/");

		h = rw_strndup(key, n);
	}
	match = !strcasecmp(h, host);
	free(h);
	return match;
}

static int decode_auth(char **user, char **pass, const char *b64)
{
	unsigned char *raw = rw_malloc(strlen(b64) + 1);
	size_t n = 0;
	unsigned v = 0;
	int bits = 0;
	char *colon;

	for (const char *p = b64; *p && *p != '='; p++) {
		const char *tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		const char *c = strchr(tbl, *p);

		if (!c) {
			free(raw);
			return RW_ERROR;
		}
		v = (v << 6) | (unsigned)(c - tbl);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			raw[n++] = (unsigned char)((v >> bits) & 0xff);
		}
	}
	raw[n] = '\0';
	colon = strchr((char *)raw, ':');
	if (!colon) {
		wipe((char *)raw);
		return RW_ERROR;
	}
	*user = rw_strndup((char *)raw, (size_t)(colon - (char *)raw));
	*pass = rw_strdup(colon + 1);
	wipe((char *)raw);
	return 0;
}

static int from_docker_entry(char **user, char **pass, json_t *entry)
{
	const char *auth = json_string_value(json_object_get(entry, "auth"));
	const char *u = json_string_value(json_object_get(entry, "username"));
	const char *p = json_string_value(json_object_get(entry, "password"));

	if (auth && *auth)
		return decode_auth(user, pass, auth);
	if (u && p) {
		*user = rw_strdup(u);
		*pass = rw_strdup(p);
		return 0;
	}
	return RW_ENOTFOUND;
}

static int from_docker_config(char **user, char **pass, const char *registry)
{
	char *path = docker_config_path(), *host = rw_url_host(registry), *data;
	json_t *root = NULL, *auths, *entry;
	const char *key;
	int rc = RW_ENOTFOUND;

	if (!path || !host || access(path, R_OK) < 0 || rw_file_read(&data, NULL, path, 1u << 20) < 0)
		goto done;
	root = json_loads(data, 0, NULL);
	wipe(data);
	auths = json_object_get(root, "auths");
	json_object_foreach(auths, key, entry) {
		if (!auth_key_matches(key, host))
			continue;
		rc = from_docker_entry(user, pass, entry);
		if (rc == RW_ERROR)
			rw_warn("ignoring the unreadable \"auth\" for %s in %s", host, path);
		if (rc == 0)
			rw_info("using the credentials for %s from %s", host, path);
		break;
	}
done:
	rw_error_clear();
	json_decref(root);
	free(path);
	free(host);
	return rc == 0 ? 0 : RW_ENOTFOUND;
}

int rw_credentials_load(char **username, char **password, const rw_options *o)
{
	const char *env = getenv("REWIND_REGISTRY_PASSWORD");

	*username = *password = NULL;
	if (o->password_file) {
		if (read_secret(password, o->password_file) < 0)
			return RW_ERROR;
	} else if (env && *env) {
		*password = rw_strdup(env);
	}
	if (o->username) {
		if (!*password)
			return rw_error_set(RW_ERR_USAGE, "--username %s is given without a password: use --password-file FILE or REWIND_REGISTRY_PASSWORD", o->username);
		*username = rw_strdup(o->username);
		return 0;
	}
	if (*password) {
		wipe(*password);
		*password = NULL;
		return rw_error_set(RW_ERR_USAGE, "a registry password is given without --username");
	}
	from_docker_config(username, password, o->registry);
	return 0;
}

char *rw_options_cache_dir(const rw_options *o)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

	if (o->no_cache)
		return NULL;
	if (o->cache_dir)
		return rw_strdup(o->cache_dir);
	if (xdg && *xdg)
		return rw_printf("%s/rewind", xdg);
	if (home && *home)
		return rw_printf("%s/.cache/rewind", home);
	return NULL;
}
