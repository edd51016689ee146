/*
 * Registry credentials and the cache location. Secrets come from files or
 * environment variables, never from the command line, and are never printed.
 */
#include "internal.h"

#include "rewind/base64.h"
#include "rewind/http.h"
#include "rewind/log.h"
#include "rewind/secret.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define DOCKER_CONFIG_MAX (1u << 20)

/* The docker config file: $DOCKER_CONFIG/config.json or ~/.docker/config.json. */
static char *docker_config_path(void)
{
	const char *dir = getenv("DOCKER_CONFIG"), *home = getenv("HOME");

	if (dir && *dir)
		return rw_printf("%s/config.json", dir);
	return home && *home ? rw_printf("%s/.docker/config.json", home) : NULL;
}

/* Docker Hub answers to several names; docker login files it under any of them. */
static const char *canonical_host(const char *host)
{
	static const char *const hub[] = { "docker.io", "index.docker.io", "registry-1.docker.io" };

	for (size_t i = 0; i < RW_ARRAY_SIZE(hub); i++)
		if (!strcasecmp(host, hub[i]))
			return hub[0];
	return host;
}

bool rw_docker_auth_key_matches(const char *key, const char *registry_host)
{
	/* "https://host:5000/v1/" and "host:5000" both name host:5000: a whole host, never a prefix */
	char *h = strstr(key, "://") ? rw_url_host(key) : rw_strndup(key, strcspn(key, "/"));
	bool match = h && *h && *registry_host &&
		!strcasecmp(canonical_host(h), canonical_host(registry_host));

	free(h);
	return match;
}

void rw_docker_auth_dispose(rw_docker_auth *a)
{
	free(a->server);
	rw_secret_free(a->username);
	rw_secret_free(a->password);
	rw_secret_free(a->identity_token);
	memset(a, 0, sizeof(*a));
}

/* "auth": base64 of "user:password" */
static int decode_auth(rw_docker_auth *a, const char *b64)
{
	unsigned char *raw;
	size_t len;
	char *colon;
	bool ok;

	if (rw_base64_decode(&raw, &len, b64, strlen(b64)) < 0) {
		rw_error_clear();
		return RW_ERROR;
	}
	colon = memchr(raw, ':', len);
	ok = colon && !memchr(raw, '\0', len);
	if (ok) {
		a->username = rw_strndup((char *)raw, (size_t)(colon - (char *)raw));
		a->password = rw_strdup(colon + 1);
	}
	rw_secret_wipe(raw, len);
	free(raw);
	return ok ? 0 : RW_ERROR;
}

/* The credentials of one "auths" entry: "auth", else "username" and "password"; "identitytoken" too. */
static int from_docker_entry(rw_docker_auth *a, json_t *entry)
{
	const char *auth = json_string_value(json_object_get(entry, "auth"));
	const char *u = json_string_value(json_object_get(entry, "username"));
	const char *p = json_string_value(json_object_get(entry, "password"));
	const char *token = json_string_value(json_object_get(entry, "identitytoken"));

	if (token && *token)
		a->identity_token = rw_strdup(token);
	if (auth && *auth) {
		if (decode_auth(a, auth) < 0 && !a->identity_token)
			return RW_ERROR;
	} else if (u && p) {
		a->username = rw_strdup(u);
		a->password = rw_strdup(p);
	}
	return a->password || a->identity_token ? 0 : RW_ENOTFOUND;
}

/* The first usable entry of auths for host. */
static int find_entry(rw_docker_auth *out, json_t *auths, const char *host, const char *path)
{
	const char *key;
	json_t *entry;

	json_object_foreach(auths, key, entry) {
		int rc;

		if (!rw_docker_auth_key_matches(key, host))
			continue;
		if ((rc = from_docker_entry(out, entry)) == 0) {
			out->server = rw_strdup(key);
			rw_info("using the credentials for %s from %s", host, path);
			return 0;
		}
		if (rc == RW_ERROR)
			rw_warn("ignoring the unreadable \"auth\" for %s in %s", key, path);
		rw_docker_auth_dispose(out);
	}
	return RW_ENOTFOUND;
}

int rw_docker_config_auth(rw_docker_auth *out, const char *registry_host)
{
	char *path = docker_config_path(), *data = NULL;
	json_t *root = NULL;
	int rc = RW_ENOTFOUND;

	memset(out, 0, sizeof(*out));
	if (path && registry_host && access(path, R_OK) == 0 &&
	    rw_secret_read_file(&data, NULL, path, DOCKER_CONFIG_MAX) == 0) {
		root = json_loads(data, 0, NULL);
		rc = find_entry(out, json_object_get(root, "auths"), registry_host, path);
	}
	/* no file, or one rewind cannot read: as if docker login had not been run */
	rw_error_clear();
	rw_secret_free(data);
	rw_secret_json_free(root);
	free(path);
	return rc;
}

int rw_credentials_load(char **username, char **password, const rw_options *o)
{
	const char *env = getenv("REWIND_REGISTRY_PASSWORD");
	rw_docker_auth a;
	char *host;

	*username = *password = NULL;
	if (o->password_file) {
		if (rw_secret_read(password, o->password_file, "password") < 0)
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
		rw_secret_free(*password);
		*password = NULL;
		return rw_error_set(RW_ERR_USAGE, "a registry password is given without --username");
	}
	host = o->registry ? rw_url_host(o->registry) : NULL;
	/* the registry's token flow wants a password: an identity token alone is of no use to it */
	if (host && rw_docker_config_auth(&a, host) == 0 && a.password) {
		*username = a.username;
		*password = a.password;
		a.username = a.password = NULL;
	}
	if (host)
		rw_docker_auth_dispose(&a);
	free(host);
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
