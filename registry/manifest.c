/*
 * Manifests and image configs (OCI image-spec, Docker image manifest v2
 * schema 2 and schema 1): what kind a manifest is, where an image's creation
 * time is, and that time.
 */
#include "rewind/manifest.h"
#include "rewind/datetime.h"
#include "rewind/errors.h"
#include "rewind/reference.h"
#include "rewind/util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CREATED_KEY "org.opencontainers.image.created"

struct rw_manifest {
	rw_manifest_kind kind;
	const char *media_type;    /* one of the RW_MT_ constants */
	json_t *root;
	const char *config_digest; /* IMAGE: inside root */
};

static const struct {
	const char *type;
	rw_manifest_kind kind;
} known_types[] = {
	{ RW_MT_DOCKER_MANIFEST, RW_MANIFEST_IMAGE },
	{ RW_MT_OCI_MANIFEST, RW_MANIFEST_IMAGE },
	{ RW_MT_DOCKER_LIST, RW_MANIFEST_INDEX },
	{ RW_MT_OCI_INDEX, RW_MANIFEST_INDEX },
	{ RW_MT_DOCKER_V1, RW_MANIFEST_SCHEMA1 },
	{ RW_MT_DOCKER_V1_SIGNED, RW_MANIFEST_SCHEMA1 },
};

/* Types servers put on anything: they say nothing about the manifest. */
static const char *const generic_types[] = {
	"application/json", "text/plain", "application/octet-stream",
};

/* The Content-Type without parameters or blanks; NULL when absent or generic. */
static char *header_media_type(const char *content_type)
{
	char *t;

	if (!content_type)
		return NULL;
	t = rw_str_trim(rw_strndup(content_type, strcspn(content_type, ";")));
	for (size_t i = 0; i < RW_ARRAY_SIZE(generic_types); i++)
		if (!strcasecmp(t, generic_types[i]))
			t[0] = '\0';
	if (!t[0]) {
		free(t);
		return NULL;
	}
	return t;
}

/* The RW_MT_ constant spelling type (media types ignore case), or NULL. */
static const char *known_type(const char *type, rw_manifest_kind *kind)
{
	for (size_t i = 0; i < RW_ARRAY_SIZE(known_types); i++) {
		if (!strcasecmp(type, known_types[i].type)) {
			*kind = known_types[i].kind;
			return known_types[i].type;
		}
	}
	return NULL;
}

/* Neither header nor body names a type: old registries and OCI allow that. */
static int kind_from_shape(rw_manifest *m)
{
	json_t *version = json_object_get(m->root, "schemaVersion");

	if (json_is_integer(version) && json_integer_value(version) == 1) {
		m->kind = RW_MANIFEST_SCHEMA1;
		m->media_type = json_is_array(json_object_get(m->root, "signatures"))
			? RW_MT_DOCKER_V1_SIGNED : RW_MT_DOCKER_V1;
	} else if (json_is_array(json_object_get(m->root, "manifests"))) {
		m->kind = RW_MANIFEST_INDEX;
		m->media_type = RW_MT_OCI_INDEX;
	} else if (json_is_object(json_object_get(m->root, "config"))) {
		m->kind = RW_MANIFEST_IMAGE;
		m->media_type = RW_MT_OCI_MANIFEST;
	} else {
		return rw_error_set(RW_ERR_PROTOCOL, "manifest has no media type and is "
			"neither an image manifest, an index nor a schema 1 manifest");
	}
	return 0;
}

/* The body's mediaType is what the author wrote; it wins over the header. */
static int decide_kind(rw_manifest *m, const char *content_type)
{
	const char *body_type = json_string_value(json_object_get(m->root, "mediaType"));
	char *header_type = header_media_type(content_type);
	const char *type = (body_type && body_type[0]) ? body_type : header_type;
	int error = 0;

	if (!type) {
		error = kind_from_shape(m);
	} else {
		m->media_type = known_type(type, &m->kind);
		if (!m->media_type)
			error = rw_error_set(RW_ERR_PROTOCOL,
				"unsupported manifest media type '%s'", type);
	}
	free(header_type);
	return error;
}

static int check_shape(rw_manifest *m)
{
	const char *digest;

	switch (m->kind) {
	case RW_MANIFEST_IMAGE:
		digest = json_string_value(json_object_get(
			json_object_get(m->root, "config"), "digest"));
		if (!digest)
			return rw_error_set(RW_ERR_PROTOCOL, "manifest has no config digest");
		if (!rw_digest_valid(digest))
			return rw_error_set(RW_ERR_PROTOCOL,
				"manifest has an invalid config digest '%s'", digest);
		m->config_digest = digest;
		return 0;
	case RW_MANIFEST_INDEX:
		if (!json_is_array(json_object_get(m->root, "manifests")))
			return rw_error_set(RW_ERR_PROTOCOL, "index has no manifests array");
		return 0;
	case RW_MANIFEST_SCHEMA1:
		return 0;
	}
	return rw_error_set(RW_ERR_INTERNAL, "unknown manifest kind %d", (int)m->kind);
}

int rw_manifest_parse(rw_manifest **out, const char *content_type, const char *body, size_t len)
{
	json_error_t jerr;
	json_t *root = json_loadb(body, len, 0, &jerr);
	rw_manifest *m;

	*out = NULL;
	if (!root)
		return rw_error_set(RW_ERR_PROTOCOL, "manifest is not valid JSON: %s", jerr.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return rw_error_set(RW_ERR_PROTOCOL, "manifest is not a JSON object");
	}
	m = rw_calloc(1, sizeof(*m));
	m->root = root;
	if (decide_kind(m, content_type) < 0 || check_shape(m) < 0) {
		rw_manifest_free(m);
		return RW_ERROR;
	}
	*out = m;
	return 0;
}

rw_manifest_kind rw_manifest_kind_of(const rw_manifest *m)
{
	return m->kind;
}

const char *rw_manifest_media_type(const rw_manifest *m)
{
	return m->media_type;
}

const char *rw_manifest_config_digest(const rw_manifest *m)
{
	return m->config_digest;
}

void rw_manifest_free(rw_manifest *m)
{
	if (!m)
		return;
	json_decref(m->root);
	free(m);
}

/*
 * A time worth reporting: RFC 3339 and not the epoch reproducible builds
 * stamp. A bad time only means "undated", so the parser's error is dropped
 * and whatever error the caller had is kept.
 */
static bool usable_time(int64_t *out, const char *s)
{
	rw_error *saved;
	int64_t t;
	bool ok;

	if (!s)
		return false;
	saved = rw_error_steal();
	ok = rw_time_parse_rfc3339(&t, s) == 0 && !rw_time_is_epoch(t);
	rw_error_clear();
	rw_error_restore(saved);
	if (ok)
		*out = t;
	return ok;
}

/* The newest usable `created` among history[].v1Compatibility (a JSON string). */
static int schema1_created(int64_t *out, json_t *history)
{
	bool found = false;
	size_t i;
	json_t *entry;

	json_array_foreach(history, i, entry) {
		const char *v1 = json_string_value(json_object_get(entry, "v1Compatibility"));
		json_t *compat = v1 ? json_loads(v1, 0, NULL) : NULL;
		int64_t t;

		if (usable_time(&t, json_string_value(json_object_get(compat, "created"))) &&
		    (!found || t > *out)) {
			*out = t;
			found = true;
		}
		json_decref(compat);
	}
	return found ? 0 : RW_ENOTFOUND;
}

int rw_manifest_created(int64_t *out, const rw_manifest *m)
{
	json_t *annotations;

	if (m->kind == RW_MANIFEST_SCHEMA1)
		return schema1_created(out, json_object_get(m->root, "history"));
	annotations = json_object_get(m->root, "annotations");
	if (usable_time(out, json_string_value(json_object_get(annotations, CREATED_KEY))))
		return 0;
	return RW_ENOTFOUND;
}

/* Lower-case letters and digits, at least one. */
static bool platform_part_valid(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

int rw_platform_validate(const char *platform)
{
	const char *s = platform;
	int parts = 0;

	for (;;) {
		size_t n = strcspn(s, "/");

		if (!platform_part_valid(s, n))
			break;
		parts++;
		if (!s[n]) {
			if (parts == 2 || parts == 3)
				return 0;
			break;
		}
		s += n + 1;
	}
	return rw_error_set(RW_ERR_USAGE,
		"invalid platform '%s': expected os/arch[/variant], e.g. linux/amd64", platform);
}

typedef struct {
	const char *os;
	const char *arch;
	const char *variant; /* NULL when none */
} platform_spec;

/* An index entry's platform; false when it has none worth choosing. */
static bool entry_platform(platform_spec *p, json_t *entry)
{
	json_t *plat = json_object_get(entry, "platform");

	p->os = json_string_value(json_object_get(plat, "os"));
	p->arch = json_string_value(json_object_get(plat, "architecture"));
	p->variant = json_string_value(json_object_get(plat, "variant"));
	if (p->variant && !p->variant[0])
		p->variant = NULL;
	if (!p->os || !p->arch)
		return false;
	/* buildx lists its attestation manifests as unknown/unknown. */
	return strcmp(p->os, "unknown") || strcmp(p->arch, "unknown");
}

/* The variant a platform means when it names none: arm64 is always v8
 * (containerd's normalisation; buildx often omits it). */
static const char *implied_variant(const platform_spec *p)
{
	if (p->variant)
		return p->variant;
	return !strcmp(p->arch, "arm64") ? "v8" : NULL;
}

/* 2: exact fit, 1: acceptable (some variant when none was asked), 0: no fit. */
static int platform_fit(const platform_spec *want, const platform_spec *have)
{
	const char *wv = implied_variant(want), *hv = implied_variant(have);

	if (strcmp(want->os, have->os) || strcmp(want->arch, have->arch))
		return 0;
	if (wv)
		return hv && !strcmp(wv, hv) ? 2 : 0;
	return hv ? 1 : 2;
}

static char *platform_string(const platform_spec *p)
{
	if (p->variant)
		return rw_printf("%s/%s/%s", p->os, p->arch, p->variant);
	return rw_printf("%s/%s", p->os, p->arch);
}

static int no_platform(json_t *manifests, const char *platform)
{
	rw_strlist seen = RW_STRLIST_INIT;
	rw_buf list = RW_BUF_INIT;
	platform_spec have;
	size_t i;
	json_t *entry;

	json_array_foreach(manifests, i, entry) {
		char *s;

		if (!entry_platform(&have, entry))
			continue;
		s = platform_string(&have);
		if (rw_strlist_contains(&seen, s)) {
			free(s);
			continue;
		}
		rw_buf_printf(&list, "%s%s", seen.count ? ", " : "", s);
		rw_strlist_push_owned(&seen, s);
	}
	if (seen.count)
		rw_error_set(RW_ERR_PROTOCOL, "no image for platform %s; the index has %s",
			platform, list.ptr);
	else
		rw_error_set(RW_ERR_PROTOCOL,
			"no image for platform %s; the index lists no platforms", platform);
	rw_strlist_dispose(&seen);
	rw_buf_dispose(&list);
	return RW_ENOTFOUND;
}

/* Splits a validated "os/arch[/variant]" held in buf, in place. */
static void platform_split(platform_spec *p, char *buf)
{
	char *arch = strchr(buf, '/');
	char *variant;

	*arch++ = '\0';
	variant = strchr(arch, '/');
	if (variant)
		*variant++ = '\0';
	p->os = buf;
	p->arch = arch;
	p->variant = variant;
}

/* The first entry that fits best, or NULL. */
static json_t *best_entry(json_t *manifests, const platform_spec *want)
{
	json_t *best = NULL, *entry;
	int best_fit = 0;
	platform_spec have;
	size_t i;

	json_array_foreach(manifests, i, entry) {
		int fit = entry_platform(&have, entry) ? platform_fit(want, &have) : 0;

		if (fit > best_fit) {
			best = entry;
			best_fit = fit;
		}
	}
	return best;
}

int rw_manifest_select_platform(const char **digest, const rw_manifest *m, const char *platform)
{
	json_t *manifests = json_object_get(m->root, "manifests");
	platform_spec want;
	char *buf;
	json_t *entry;
	const char *d;

	*digest = NULL;
	if (m->kind != RW_MANIFEST_INDEX)
		return rw_error_set(RW_ERR_INTERNAL, "manifest is not an index");
	if (rw_platform_validate(platform) < 0)
		return RW_ERROR;
	buf = rw_strdup(platform);
	platform_split(&want, buf);
	entry = best_entry(manifests, &want);
	free(buf);
	if (!entry)
		return no_platform(manifests, platform);
	d = json_string_value(json_object_get(entry, "digest"));
	if (!rw_digest_valid(d))
		return rw_error_set(RW_ERR_PROTOCOL, "index entry for platform %s has an invalid "
			"digest '%s'", platform, d ? d : "");
	*digest = d;
	return 0;
}

/* The order of trust: what the builder recorded, then what the pusher said. */
static int config_created(int64_t *out, json_t *config, bool has_fallback, int64_t fallback)
{
	json_t *labels = json_object_get(json_object_get(config, "config"), "Labels");

	if (usable_time(out, json_string_value(json_object_get(config, "created"))))
		return 0;
	if (has_fallback) {
		*out = fallback;
		return 0;
	}
	if (usable_time(out, json_string_value(json_object_get(labels, CREATED_KEY))))
		return 0;
	return RW_ENOTFOUND;
}

int rw_image_config_created(int64_t *out, const char *body, size_t len,
	bool has_fallback, int64_t fallback)
{
	json_error_t jerr;
	json_t *root = json_loadb(body, len, 0, &jerr);
	int error;

	if (!root)
		return rw_error_set(RW_ERR_PROTOCOL, "image config is not valid JSON: %s",
			jerr.text);
	if (json_is_object(root))
		error = config_created(out, root, has_fallback, fallback);
	else
		error = rw_error_set(RW_ERR_PROTOCOL, "image config is not a JSON object");
	json_decref(root);
	return error;
}

static int base64url_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* JOSE base64url, padding optional; false when s is not base64url. */
static bool base64url_decode(rw_buf *out, const char *s)
{
	size_t n = strlen(s);
	unsigned int acc = 0;
	int bits = 0;

	while (n && s[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return false;
	for (size_t i = 0; i < n; i++) {
		int v = base64url_value(s[i]);

		if (v < 0)
			return false;
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			rw_buf_putc(out, (char)((acc >> bits) & 0xff));
		}
	}
	return true;
}

/* formatLength and formatTail of one signature's protected header. */
static int jws_format(json_int_t *length, rw_buf *tail, json_t *signature)
{
	const char *protected = json_string_value(json_object_get(signature, "protected"));
	rw_buf header = RW_BUF_INIT;
	json_t *h = NULL, *jlen;
	const char *jtail;
	int error = RW_ERROR;

	if (protected && base64url_decode(&header, protected))
		h = json_loadb(header.ptr ? header.ptr : "", header.size, 0, NULL);
	jlen = json_object_get(h, "formatLength");
	jtail = json_string_value(json_object_get(h, "formatTail"));
	if (json_is_integer(jlen) && json_integer_value(jlen) >= 0 && jtail &&
	    base64url_decode(tail, jtail)) {
		*length = json_integer_value(jlen);
		error = 0;
	}
	json_decref(h);
	rw_buf_dispose(&header);
	return error;
}

/* Every signature must describe the same payload, as libtrust requires. */
static int signed_payload(rw_buf *out, json_t *signatures, const char *body, size_t len)
{
	rw_buf tail = RW_BUF_INIT, first_tail = RW_BUF_INIT;
	json_int_t length = 0, first_length = 0;
	size_t i;
	json_t *sig;

	json_array_foreach(signatures, i, sig) {
		rw_buf_clear(&tail);
		if (jws_format(&length, &tail, sig) < 0) {
			rw_error_set(RW_ERR_PROTOCOL, "signed manifest: signature %zu has no "
				"valid formatLength and formatTail", i + 1);
			goto fail;
		}
		if (i == 0) {
			first_length = length;
			rw_buf_put(&first_tail, tail.ptr, tail.size);
		} else if (length != first_length || tail.size != first_tail.size ||
			   memcmp(tail.ptr, first_tail.ptr, tail.size)) {
			rw_error_set(RW_ERR_PROTOCOL, "signed manifest: signatures disagree on "
				"the signed payload");
			goto fail;
		}
	}
	if ((uint64_t)first_length > len) {
		rw_error_set(RW_ERR_PROTOCOL, "signed manifest: formatLength %lld is past "
			"its end (%zu bytes)", (long long)first_length, len);
		goto fail;
	}
	rw_buf_put(out, body, (size_t)first_length);
	rw_buf_put(out, first_tail.ptr, first_tail.size);
	rw_buf_dispose(&tail);
	rw_buf_dispose(&first_tail);
	return 0;
fail:
	rw_buf_dispose(&tail);
	rw_buf_dispose(&first_tail);
	return RW_ERROR;
}

/* Only schema 1 is ever signed; it is served as its types or a generic one. */
static bool may_be_signed(const char *content_type, bool *says_signed)
{
	char *type = header_media_type(content_type);
	rw_manifest_kind kind = RW_MANIFEST_IMAGE;
	bool maybe = !type || (known_type(type, &kind) && kind == RW_MANIFEST_SCHEMA1);

	*says_signed = type && !strcasecmp(type, RW_MT_DOCKER_V1_SIGNED);
	free(type);
	return maybe;
}

int rw_manifest_payload(rw_buf *out, const char *content_type, const char *body, size_t len)
{
	json_error_t jerr;
	json_t *root, *signatures;
	bool says_signed;
	int error = 0;

	rw_buf_clear(out);
	if (!may_be_signed(content_type, &says_signed)) {
		rw_buf_put(out, body, len);
		return 0;
	}
	root = json_loadb(body, len, 0, &jerr);
	if (!root && says_signed)
		return rw_error_set(RW_ERR_PROTOCOL, "manifest is not valid JSON: %s", jerr.text);
	signatures = json_object_get(root, "signatures");
	if (json_is_array(signatures) && json_array_size(signatures) > 0 &&
	    (says_signed || json_integer_value(json_object_get(root, "schemaVersion")) == 1))
		error = signed_payload(out, signatures, body, len);
	else
		rw_buf_put(out, body, len);
	json_decref(root);
	return error;
}
