/*
 * Image references in manifest text (see rewrite.h for the shapes).
 *
 * Two scanners feed one rule. The block scanner reads YAML line by line and
 * groups `key: value` lines into mappings by the column of their keys (a
 * "- " item starts a new mapping); the flow scanner reads JSON files and
 * YAML `{...}`/`[...]` values. Each finished mapping goes to
 * mapping_sites(), which knows which keys hold images. Every position is a
 * byte offset into the original text, so a rewrite can splice new bytes in
 * and copy everything else through untouched.
 */
#include "rewind/rewrite.h"
#include "rewind/errors.h"
#include "rewind/reference.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FLOW_MAX_DEPTH 64 /* deeper nesting is not a manifest; stop rather than recurse */

typedef enum { V_NONE, V_SCALAR, V_OTHER } value_kind;

/* One `key: value` of a mapping. */
typedef struct {
	char *key;
	value_kind kind;
	size_t pos;          /* the key's offset */
	size_t vstart, vend; /* V_SCALAR: the value's bytes, without quotes */
	size_t after;        /* just past the value (and its closing quote) */
	char quote;          /* 0 (plain), '\'' or '"' */
	bool key_quoted;
	size_t key_col;      /* block style: the key's column */
} entry;

typedef struct {
	entry *items;
	size_t count, alloc;
	char *parent; /* the key this mapping is the value of (or an item of), or NULL */
	bool block;
	size_t col;   /* block style: the column of its keys */
} mapping;

typedef struct {
	const char *text;
	size_t len;
	const char *repo;
	bool json;
	const char *eol;       /* the file's line ending, for inserted lines */
	size_t *lines;         /* offset of each line's first byte */
	size_t nlines;
	rw_image_sites *out;
} scanner;

/* --- lines ---------------------------------------------------------------- */

static void index_lines(scanner *s)
{
	size_t alloc = 64;

	s->lines = rw_malloc(alloc * sizeof(*s->lines));
	s->lines[s->nlines++] = 0;
	for (size_t i = 0; i < s->len; i++) {
		if (s->text[i] != '\n' || i + 1 == s->len)
			continue;
		if (s->nlines == alloc)
			s->lines = rw_realloc(s->lines, (alloc *= 2) * sizeof(*s->lines));
		s->lines[s->nlines++] = i + 1;
	}
	s->eol = "\n";
	for (size_t i = 0; i < s->len; i++)
		if (s->text[i] == '\n') {
			s->eol = i && s->text[i - 1] == '\r' ? "\r\n" : "\n";
			break;
		}
}

/* 0-based index of the line holding offset */
static size_t line_of(const scanner *s, size_t off)
{
	size_t lo = 0, hi = s->nlines;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->lines[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* The end of line i's content: before "\n" or "\r\n". */
static size_t line_end(const scanner *s, size_t i)
{
	size_t end = i + 1 < s->nlines ? s->lines[i + 1] : s->len;

	if (end > s->lines[i] && s->text[end - 1] == '\n')
		end--;
	if (end > s->lines[i] && s->text[end - 1] == '\r')
		end--;
	return end;
}

static size_t next_line_start(const scanner *s, size_t i)
{
	return i + 1 < s->nlines ? s->lines[i + 1] : s->len;
}

/* --- mappings ------------------------------------------------------------- */

static mapping *mapping_new(const char *parent, bool block, size_t col)
{
	mapping *m = rw_calloc(1, sizeof(*m));

	m->parent = parent ? rw_strdup(parent) : NULL;
	m->block = block;
	m->col = col;
	return m;
}

static entry *mapping_add(mapping *m, char *key)
{
	entry *e;

	if (m->count == m->alloc) {
		m->alloc = m->alloc ? m->alloc * 2 : 8;
		m->items = rw_realloc(m->items, m->alloc * sizeof(*m->items));
	}
	e = &m->items[m->count++];
	memset(e, 0, sizeof(*e));
	e->key = key;
	return e;
}

static const entry *mapping_get(const mapping *m, const char *key)
{
	for (size_t i = 0; i < m->count; i++)
		if (!strcmp(m->items[i].key, key))
			return &m->items[i];
	return NULL;
}

static const entry *mapping_scalar(const mapping *m, const char *key)
{
	const entry *e = mapping_get(m, key);

	return e && e->kind == V_SCALAR ? e : NULL;
}

static void mapping_free(mapping *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->count; i++)
		free(m->items[i].key);
	free(m->items);
	free(m->parent);
	free(m);
}

/* --- sites ---------------------------------------------------------------- */

bool rw_rewrite_path_matches(const char *path, const char *repo)
{
	size_t n = strlen(path), r = strlen(repo);

	if (n < r || strcmp(path + n - r, repo))
		return false;
	return n == r || path[n - r - 1] == '/';
}

/* The Flux marker's policy on line i ("ns:policy[:tag]"), or NULL. */
static char *line_policy(const scanner *s, size_t i)
{
	static const char marker[] = "\"$imagepolicy\"";
	const char *start = s->text + s->lines[i], *end = s->text + line_end(s, i);
	const char *hash = memchr(start, '#', (size_t)(end - start));
	const char *p, *q;

	if (!hash || !(p = memmem(hash, (size_t)(end - hash), marker, sizeof(marker) - 1)))
		return NULL;
	p += sizeof(marker) - 1;
	while (p < end && (*p == ' ' || *p == '\t' || *p == ':'))
		p++;
	if (p == end || *p != '"' || !(q = memchr(p + 1, '"', (size_t)(end - p - 1))))
		return NULL;
	return rw_strndup(p + 1, (size_t)(q - p - 1));
}

static void site_take_policy(const scanner *s, rw_image_site *site, const entry *e)
{
	if (!e || site->policy || s->json)
		return;
	site->policy = line_policy(s, line_of(s, e->pos));
	if (!site->policy && e->kind == V_SCALAR)
		site->policy = line_policy(s, line_of(s, e->vstart));
}

static void site_dispose(rw_image_site *site)
{
	free(site->image);
	free(site->policy);
	for (size_t j = 0; j < site->nedits; j++) {
		free(site->edits[j].prefix);
		free(site->edits[j].suffix);
	}
}

static rw_image_site *site_add(scanner *s)
{
	rw_image_sites *l = s->out;

	if (l->count == l->alloc) {
		l->alloc = l->alloc ? l->alloc * 2 : 8;
		l->items = rw_realloc(l->items, l->alloc * sizeof(*l->items));
	}
	memset(&l->items[l->count], 0, sizeof(l->items[0]));
	return &l->items[l->count++];
}

static rw_rewrite_edit *site_edit(rw_image_site *site, int what, size_t start, size_t end)
{
	rw_rewrite_edit *ed = &site->edits[site->nedits++];

	ed->what = what;
	ed->start = start;
	ed->end = end;
	return ed;
}

/* Parses ref and checks it names repo; fills *out on success. */
static bool parse_matching(rw_reference *out, const char *ref, const char *repo)
{
	if (rw_reference_parse(out, ref) < 0) {
		rw_error_clear(); /* not an image reference: not ours to report */
		return false;
	}
	if (rw_rewrite_path_matches(out->path, repo))
		return true;
	rw_reference_dispose(out);
	return false;
}

/* length of the name part of ref: where ":tag" or "@digest" starts */
static size_t name_length(const char *ref)
{
	const char *at = strchr(ref, '@');
	size_t n = at ? (size_t)(at - ref) : strlen(ref);
	const char *slash = memrchr(ref, '/', n);
	const char *colon = memchr(slash ? slash : ref, ':', n - (size_t)((slash ? slash : ref) - ref));

	return colon ? (size_t)(colon - ref) : n;
}

/*
 * The site of ref (which it takes over) at byte offset when ref names an
 * image of the repository; NULL (ref freed) when it does not.
 */
static rw_image_site *site_of(scanner *s, char *ref, size_t offset, rw_reference *parsed)
{
	rw_image_site *site;

	if (!parse_matching(parsed, ref, s->repo)) {
		free(ref);
		return NULL;
	}
	site = site_add(s);
	site->image = ref;
	site->line = line_of(s, offset) + 1;
	site->has_tag = parsed->tag != NULL;
	site->has_digest = parsed->digest != NULL;
	return site;
}

/* `image: host/web:1.2.3`: the tag and digest are the end of one scalar. */
static void inline_site(scanner *s, const entry *e)
{
	char *ref = rw_strndup(s->text + e->vstart, e->vend - e->vstart);
	size_t name = name_length(ref), n = strlen(ref);
	const char *at = strchr(ref, '@');
	rw_reference parsed;
	rw_image_site *site = site_of(s, ref, e->vstart, &parsed);

	if (!site)
		return;
	site->tag_start = e->vstart + name + (parsed.tag ? 1 : 0);
	site->tag_end = e->vstart + (at ? (size_t)(at - ref) : n);
	site->digest_start = at ? e->vstart + (size_t)(at - ref) + 1 : e->vstart + n;
	site->digest_end = e->vstart + n;
	site_edit(site, RW_EDIT_SUFFIX, e->vstart + name, e->vend);
	site_take_policy(s, site, e);
	rw_reference_dispose(&parsed);
}

static char *scalar_text(const scanner *s, const entry *e)
{
	return e ? rw_strndup(s->text + e->vstart, e->vend - e->vstart) : rw_strdup("");
}

/* registry/repository:tag@digest from the parts (empty parts left out) */
static char *split_reference(const scanner *s, const entry *registry, const entry *repo,
	const entry *tag, const entry *digest)
{
	char *parts[4] = { scalar_text(s, registry), scalar_text(s, repo), scalar_text(s, tag),
		scalar_text(s, digest) };
	char *ref = rw_printf("%s%s%s%s%s%s%s", parts[0], *parts[0] ? "/" : "", parts[1],
		*parts[2] ? ":" : "", parts[2], *parts[3] ? "@" : "", parts[3]);

	for (size_t i = 0; i < RW_ARRAY_SIZE(parts); i++)
		free(parts[i]);
	return ref;
}

/*
 * The edit that sets an existing value (tag or digest). A plain one may
 * need quotes: in JSON always (a number), in YAML when the new value would
 * not read as a string.
 */
static void value_edit(scanner *s, rw_image_site *site, int what, const entry *e)
{
	rw_rewrite_edit *ed = site_edit(site, what, e->vstart, e->vend);

	if (e->quote == 0 && s->json)
		ed->prefix = rw_strdup("\""), ed->suffix = rw_strdup("\"");
	else
		ed->quote = e->quote == 0;
}

/*
 * The edit that adds a missing key after entry `after`: a line indented
 * like it (block style) or ", key: value" (flow style).
 */
static void insert_edit(scanner *s, rw_image_site *site, int what, const entry *after,
	const mapping *m, const char *key)
{
	rw_rewrite_edit *ed;
	size_t line = line_of(s, after->kind == V_SCALAR ? after->vstart : after->pos);
	size_t at = next_line_start(s, line);
	bool needs_eol = at == s->len && (!s->len || s->text[s->len - 1] != '\n');

	if (!m->block) {
		ed = site_edit(site, what, after->after, after->after);
		ed->insert = true;
		ed->prefix = after->key_quoted ? rw_printf(", \"%s\": \"", key) : rw_printf(", %s: \"", key);
		ed->suffix = rw_strdup("\"");
		return;
	}
	ed = site_edit(site, what, at, at);
	ed->insert = true;
	ed->prefix = rw_printf("%s%*s%s: \"", needs_eol ? s->eol : "", (int)after->key_col, "", key);
	ed->suffix = rw_printf("\"%s", needs_eol ? "" : s->eol);
}

/*
 * Helm values (repository + tag [+ digest] [+ registry]) or a kustomize
 * image (name/newName + newTag [+ digest]): tag and digest are values of
 * their own; a missing one is added after its sibling.
 */
static void split_site(scanner *s, const mapping *m, const entry *registry, const entry *repo,
	const char *tag_key, const char *digest_key)
{
	const entry *tag = mapping_scalar(m, tag_key), *digest = mapping_scalar(m, digest_key);
	char *ref = split_reference(s, registry, repo, tag, digest);
	rw_reference parsed;
	rw_image_site *site = site_of(s, ref, tag ? tag->vstart : repo->vstart, &parsed);

	if (!site)
		return;
	site->split = true;
	if (tag) {
		site->tag_start = tag->vstart, site->tag_end = tag->vend;
		value_edit(s, site, RW_EDIT_TAG, tag);
	} else {
		insert_edit(s, site, RW_EDIT_TAG, repo, m, tag_key);
	}
	if (digest) {
		site->digest_start = digest->vstart, site->digest_end = digest->vend;
		value_edit(s, site, RW_EDIT_DIGEST, digest);
	} else {
		insert_edit(s, site, RW_EDIT_DIGEST, tag ? tag : repo, m, digest_key);
	}
	site_take_policy(s, site, tag);
	site_take_policy(s, site, repo);
	site_take_policy(s, site, digest);
	rw_reference_dispose(&parsed);
}

static bool is_kustomize_image(const mapping *m)
{
	return mapping_scalar(m, "name") && (mapping_get(m, "newTag") || mapping_get(m, "newName") ||
		mapping_get(m, "digest") || (m->parent && !strcmp(m->parent, "images")));
}

/* The rule: which keys of a mapping hold an image. */
static void mapping_sites(scanner *s, const mapping *m)
{
	const entry *repo;

	for (size_t i = 0; i < m->count; i++)
		if (m->items[i].kind == V_SCALAR && !strcmp(m->items[i].key, "image"))
			inline_site(s, &m->items[i]);
	/* Marathon pods: "image": {"kind": "DOCKER", "id": "host/web:1.2.3"} */
	if (m->parent && !strcmp(m->parent, "image") && (repo = mapping_scalar(m, "id")))
		inline_site(s, repo);
	if ((repo = mapping_scalar(m, "repository")))
		split_site(s, m, mapping_scalar(m, "registry"), repo, "tag", "digest");
	else if (is_kustomize_image(m))
		split_site(s, m, NULL, mapping_scalar(m, "newName") ? mapping_scalar(m, "newName")
			: mapping_scalar(m, "name"), "newTag", "digest");
}

static void mapping_finish(scanner *s, mapping *m)
{
	mapping_sites(s, m);
	mapping_free(m);
}

/* --- flow style (JSON, YAML {...} and [...]) ------------------------------ */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static size_t flow_skip(const scanner *s, size_t p)
{
	while (p < s->len) {
		if (is_blank(s->text[p])) {
			p++;
		} else if (!s->json && s->text[p] == '#' && (!p || is_blank(s->text[p - 1]))) {
			while (p < s->len && s->text[p] != '\n')
				p++;
		} else {
			break;
		}
	}
	return p;
}

/* A quoted scalar starting at p: the offset past its closing quote, 0 when there is none before len. */
static size_t quoted_end(const char *text, size_t len, size_t p)
{
	char q = text[p++];

	while (p < len) {
		if (q == '"' && text[p] == '\\' && p + 1 < len)
			p += 2;
		else if (text[p] == q && q == '\'' && p + 1 < len && text[p + 1] == '\'')
			p += 2;
		else if (text[p] == q)
			return p + 1;
		else
			p++;
	}
	return 0;
}

/* where a plain scalar in flow context ends */
static size_t flow_plain_end(const scanner *s, size_t start)
{
	size_t p = start;

	while (p < s->len) {
		char c = s->text[p];

		if (strchr(",{}[]\n", c))
			break;
		if (c == ':' && (p + 1 == s->len || is_blank(s->text[p + 1]) || strchr(",{}[]", s->text[p + 1])))
			break;
		if (c == '#' && p > start && is_blank(s->text[p - 1]))
			break;
		p++;
	}
	while (p > start && is_blank(s->text[p - 1]))
		p--;
	return p;
}

/* A scalar at p (quoted or plain): fills e's value fields, returns the end. */
static size_t flow_scalar(const scanner *s, size_t p, entry *e)
{
	if (s->text[p] == '"' || s->text[p] == '\'') {
		size_t end = quoted_end(s->text, s->len, p);

		e->quote = s->text[p];
		e->vstart = p + 1;
		e->vend = end ? end - 1 : s->len;
		e->after = end ? end : s->len;
	} else {
		e->vstart = p;
		e->vend = e->after = flow_plain_end(s, p);
	}
	e->kind = V_SCALAR;
	return e->after;
}

static size_t flow_node(scanner *s, size_t p, const char *key, entry *e, int depth, bool *ok);

static size_t flow_mapping(scanner *s, size_t p, const char *parent, int depth, bool *ok)
{
	mapping *m = mapping_new(parent, false, 0);

	for (p++;;) {
		entry k = { 0 };
		entry *e;

		p = flow_skip(s, p);
		if (p >= s->len || s->text[p] == '}' || s->text[p] == ']')
			break;
		if (s->text[p] == ',') {
			p++;
			continue;
		}
		p = flow_skip(s, flow_scalar(s, p, &k));
		if (k.vend == k.vstart && k.after == k.vstart) {
			p++; /* a stray character: step over it */
			continue;
		}
		e = mapping_add(m, rw_strndup(s->text + k.vstart, k.vend - k.vstart));
		e->pos = k.vstart;
		e->key_quoted = k.quote != 0;
		if (p < s->len && s->text[p] == ':')
			p = flow_node(s, p + 1, e->key, e, depth + 1, ok);
	}
	if (p >= s->len || s->text[p] != '}')
		*ok = false;
	mapping_finish(s, m);
	return p < s->len ? p + 1 : p;
}

static size_t flow_sequence(scanner *s, size_t p, const char *parent, int depth, bool *ok)
{
	for (p++;;) {
		entry item = { 0 };
		size_t next;

		p = flow_skip(s, p);
		if (p >= s->len || s->text[p] == ']' || s->text[p] == '}')
			break;
		if (s->text[p] == ',') {
			p++;
			continue;
		}
		next = flow_node(s, p, parent, &item, depth + 1, ok);
		p = next > p ? next : p + 1;
	}
	if (p >= s->len || s->text[p] != ']')
		*ok = false;
	return p < s->len ? p + 1 : p;
}

/*
 * A value at p; key is the key it belongs to (items of a sequence inherit
 * the sequence's). *ok becomes false on unbalanced brackets.
 */
static size_t flow_node(scanner *s, size_t p, const char *key, entry *e, int depth, bool *ok)
{
	p = flow_skip(s, p);
	if (depth > FLOW_MAX_DEPTH) {
		*ok = false;
		return s->len;
	}
	if (p >= s->len || s->text[p] == ',' || s->text[p] == '}' || s->text[p] == ']') {
		e->kind = V_NONE;
		return p;
	}
	e->kind = V_OTHER;
	if (s->text[p] == '{')
		return e->after = flow_mapping(s, p, key, depth, ok);
	if (s->text[p] == '[')
		return e->after = flow_sequence(s, p, key, depth, ok);
	return flow_scalar(s, p, e);
}

/*
 * Flow text at p. Its sites are kept only when its brackets balance: a
 * stray "[" in a YAML line must not swallow the rest of the file.
 */
static size_t flow_scan(scanner *s, size_t p, const char *key, bool *ok)
{
	size_t before = s->out->count, end;
	entry e = { 0 };

	*ok = true;
	end = flow_node(s, p, key, &e, 0, ok);
	if (!*ok) {
		while (s->out->count > before)
			site_dispose(&s->out->items[--s->out->count]);
	}
	return end;
}

/* --- block style (YAML) --------------------------------------------------- */

typedef struct {
	size_t start, end;  /* the line's content */
	size_t indent;
	bool dash;          /* the key follows "- " */
	bool has_key;
	entry e;            /* when has_key (e.key owned) */
	size_t flow_at;     /* a flow value or item starts here (0: none) */
	bool has_flow;
} line_info;

static bool is_doc_marker(const char *p, size_t n)
{
	return n >= 3 && (!memcmp(p, "---", 3) || !memcmp(p, "...", 3)) && (n == 3 || p[3] == ' ' || p[3] == '\t');
}

/* past "&anchor" and "!tag" properties */
static size_t skip_properties(const scanner *s, size_t p, size_t end)
{
	while (p < end && (s->text[p] == '&' || s->text[p] == '!')) {
		while (p < end && s->text[p] != ' ' && s->text[p] != '\t')
			p++;
		while (p < end && (s->text[p] == ' ' || s->text[p] == '\t'))
			p++;
	}
	return p;
}

/* where a plain scalar in block context ends: before " #" and trailing blanks */
static size_t block_plain_end(const scanner *s, size_t p, size_t end)
{
	size_t q = p;

	while (q < end && !(s->text[q] == '#' && q > p && (s->text[q - 1] == ' ' || s->text[q - 1] == '\t')))
		q++;
	while (q > p && (s->text[q - 1] == ' ' || s->text[q - 1] == '\t'))
		q--;
	return q;
}

/* The value after "key:" at p, up to end. */
static void block_value(const scanner *s, line_info *li, size_t p)
{
	entry *e = &li->e;
	size_t end = li->end;

	while (p < end && (s->text[p] == ' ' || s->text[p] == '\t'))
		p++;
	p = skip_properties(s, p, end);
	e->kind = V_OTHER;
	if (p == end || s->text[p] == '#' || s->text[p] == '|' || s->text[p] == '>') {
		e->kind = V_NONE;
	} else if (s->text[p] == '{' || s->text[p] == '[') {
		li->has_flow = true, li->flow_at = p;
	} else if (s->text[p] == '"' || s->text[p] == '\'') {
		size_t close = quoted_end(s->text, end, p);

		if (close) {
			e->kind = V_SCALAR, e->quote = s->text[p];
			e->vstart = p + 1, e->vend = close - 1, e->after = close;
		}
	} else if (s->text[p] != '*') {
		e->kind = V_SCALAR;
		e->vstart = p;
		e->vend = e->after = block_plain_end(s, p, end);
	}
}

/* The key at p ("key:" then blank or end), or false. */
static bool block_key(const scanner *s, line_info *li, size_t p)
{
	size_t end = li->end, k = p;

	if (s->text[p] == '"' || s->text[p] == '\'') {
		k = quoted_end(s->text, end, p);
		if (!k)
			return false;
		li->e.key = rw_strndup(s->text + p + 1, k - p - 2);
		li->e.key_quoted = true;
		while (k < end && s->text[k] == ' ')
			k++;
		if (k == end || s->text[k] != ':') {
			free(li->e.key), li->e.key = NULL;
			return false;
		}
	} else {
		while (k < end && !(s->text[k] == ':' && (k + 1 == end || s->text[k + 1] == ' ' || s->text[k + 1] == '\t'))) {
			if (s->text[k] == '#' && k > p && s->text[k - 1] == ' ')
				return false;
			k++;
		}
		if (k == end || k == p)
			return false;
		li->e.key = rw_strndup(s->text + p, k - p);
		rw_str_trim(li->e.key);
	}
	li->has_key = true;
	li->e.pos = p;
	block_value(s, li, k + 1);
	return true;
}

/* Reads line i; false for blank lines, comments and directives. */
static bool block_line(const scanner *s, size_t i, line_info *li)
{
	size_t p;

	memset(li, 0, sizeof(*li));
	li->start = s->lines[i];
	li->end = line_end(s, i);
	for (p = li->start; p < li->end && s->text[p] == ' '; p++)
		;
	if (p == li->end || s->text[p] == '#' || (p == li->start && s->text[p] == '%'))
		return false;
	li->indent = p - li->start;
	while (p < li->end && s->text[p] == '-' && (p + 1 == li->end || s->text[p + 1] == ' ')) {
		li->dash = true;
		for (p++; p < li->end && s->text[p] == ' '; p++)
			;
	}
	li->e.key_col = p - li->start;
	if (p < li->end && (s->text[p] == '{' || s->text[p] == '['))
		li->has_flow = true, li->flow_at = p;
	else if (p < li->end && s->text[p] != '#')
		block_key(s, li, p);
	return true;
}

/* The open block mappings, outermost first. */
typedef struct {
	mapping **items;
	size_t count, alloc;
} mapping_stack;

static void stack_push(mapping_stack *st, mapping *m)
{
	if (st->count == st->alloc) {
		st->alloc = st->alloc ? st->alloc * 2 : 16;
		st->items = rw_realloc(st->items, st->alloc * sizeof(*st->items));
	}
	st->items[st->count++] = m;
}

/* Finishes the open mappings deeper than col (and the one at col when inclusive: a new item or document). */
static void stack_close_deeper(scanner *s, mapping_stack *st, size_t col, bool inclusive)
{
	while (st->count) {
		mapping *top = st->items[st->count - 1];

		if (top->col < col || (top->col == col && !inclusive))
			break;
		mapping_finish(s, top);
		st->count--;
	}
}

/* the key an item at this point belongs to: the open mapping's last key without a value */
static const char *stack_parent(const mapping_stack *st)
{
	const mapping *top = st->count ? st->items[st->count - 1] : NULL;
	const entry *last = top && top->count ? &top->items[top->count - 1] : NULL;

	return last && last->kind == V_NONE ? last->key : NULL;
}

/* Files the key of line li into the right mapping (see the file comment). */
static void block_add(scanner *s, mapping_stack *st, line_info *li)
{
	mapping *top;
	entry *e;
	char *key;

	stack_close_deeper(s, st, li->e.key_col, li->dash);
	top = st->count ? st->items[st->count - 1] : NULL;
	if (!top || top->col < li->e.key_col) {
		top = mapping_new(stack_parent(st), true, li->e.key_col);
		stack_push(st, top);
	}
	key = li->e.key;
	li->e.key = NULL;
	e = mapping_add(top, NULL);
	*e = li->e;
	e->key = key;
}

static void block_scan(scanner *s)
{
	mapping_stack st = { 0 };
	line_info li;

	for (size_t i = 0; i < s->nlines; i++) {
		size_t end = 0;
		bool ok = false;

		if (!block_line(s, i, &li))
			continue;
		if (li.indent == 0 && is_doc_marker(s->text + li.start, li.end - li.start)) {
			free(li.e.key); /* "--- a: b" */
			stack_close_deeper(s, &st, 0, true);
			continue;
		}
		if (li.has_key) {
			char *key = rw_strdup(li.e.key); /* block_add moves li.e.key into the mapping */

			block_add(s, &st, &li);
			if (li.has_flow)
				end = flow_scan(s, li.flow_at, key, &ok);
			free(key);
		} else if (li.has_flow) {
			end = flow_scan(s, li.flow_at, stack_parent(&st), &ok);
		}
		if (ok && end > li.end)
			i = line_of(s, end - 1); /* a flow collection over several lines */
	}
	stack_close_deeper(s, &st, 0, true);
	free(st.items);
}

/* --- finding -------------------------------------------------------------- */

static bool looks_like_json(const char *text, size_t len)
{
	size_t p = 0;

	if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
		p = 3;
	while (p < len && is_blank(text[p]))
		p++;
	return p < len && (text[p] == '{' || text[p] == '[');
}

static int site_cmp(const void *a, const void *b)
{
	const rw_image_site *x = a, *y = b;
	size_t xs = x->edits[0].start, ys = y->edits[0].start;

	return xs < ys ? -1 : xs > ys;
}

int rw_rewrite_find(rw_image_sites *out, const char *text, size_t len, const char *repo)
{
	scanner s = { 0 };
	size_t before = out->count;
	bool ok;

	if (!repo || !*repo)
		return rw_error_set(RW_ERR_INTERNAL, "rewrite: no repository");
	s.text = text;
	s.len = len;
	s.repo = repo;
	s.out = out;
	index_lines(&s);
	if (looks_like_json(text, len)) {
		size_t p = 0;

		s.json = true;
		while (p < len && (is_blank(text[p]) || (unsigned char)text[p] >= 0x80))
			p++;
		flow_scan(&s, p, NULL, &ok);
	} else {
		block_scan(&s);
	}
	if (out->count > before)
		qsort(out->items + before, out->count - before, sizeof(*out->items), site_cmp);
	free(s.lines);
	return 0;
}

void rw_image_sites_dispose(rw_image_sites *sites)
{
	for (size_t i = 0; i < sites->count; i++)
		site_dispose(&sites->items[i]);
	free(sites->items);
	sites->items = NULL;
	sites->count = sites->alloc = 0;
}

/* --- rewriting ------------------------------------------------------------ */

static bool all_in(const char *s, const char *set)
{
	return s[strspn(s, set)] == '\0';
}

/*
 * Would YAML read this plain scalar as something other than a string?
 * Helm would turn `tag: 1.10` into the float 1.1, and `tag: 20240101` into
 * an integer printed as 2.0240101e+07: such values must be quoted.
 */
static bool yaml_needs_quotes(const char *v)
{
	static const char *const words[] = { "y", "n", "yes", "no", "true", "false", "on", "off",
		"null", "~", ".inf", "-.inf", "+.inf", ".nan" };
	bool digit = false;

	if (!*v)
		return true;
	for (size_t i = 0; i < RW_ARRAY_SIZE(words); i++)
		if (!strcasecmp(v, words[i]))
			return true;
	if ((v[0] == '0' && (v[1] == 'x' || v[1] == 'o' || v[1] == 'b')) && v[2] && all_in(v + 2, "0123456789abcdefABCDEF_"))
		return true;
	for (const char *p = v; *p; p++)
		digit |= isdigit((unsigned char)*p) != 0;
	if (!digit || !all_in(v, "0123456789._+-eE") || strchr(strchr(v, '.') ? strchr(v, '.') + 1 : "", '.'))
		return false;
	/* digits with at most one '.', maybe an exponent: a number unless the signs sit oddly */
	for (const char *p = v + 1; *p; p++)
		if ((*p == '+' || *p == '-') && p[-1] != 'e' && p[-1] != 'E')
			return false;
	return true;
}

typedef struct {
	const rw_rewrite_edit *edit;
	char *bytes;
	size_t order;
} planned_edit;

static char *edit_bytes(const rw_rewrite_edit *ed, const char *tag, const char *digest, bool *skip)
{
	const char *value = ed->what == RW_EDIT_TAG ? tag : digest;

	*skip = false;
	if (ed->what == RW_EDIT_SUFFIX)
		return rw_printf("%s%s%s%s", tag ? ":" : "", tag ? tag : "", digest ? "@" : "", digest ? digest : "");
	if ((ed->what == RW_EDIT_TAG && !tag) || (ed->insert && !value)) {
		*skip = true;
		return NULL;
	}
	if (!value)
		value = "";
	if (ed->quote && yaml_needs_quotes(value))
		return rw_printf("\"%s\"", value);
	return rw_printf("%s%s%s", ed->prefix ? ed->prefix : "", value, ed->suffix ? ed->suffix : "");
}

static int planned_cmp(const void *a, const void *b)
{
	const planned_edit *x = a, *y = b;

	if (x->edit->start != y->edit->start)
		return x->edit->start < y->edit->start ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static size_t plan_edits(planned_edit **out, const rw_image_sites *sites, const char *tag, const char *digest)
{
	planned_edit *plan = rw_calloc(sites->count * 3 + 1, sizeof(*plan));
	size_t n = 0;

	for (size_t i = 0; i < sites->count; i++)
		for (size_t j = 0; j < sites->items[i].nedits; j++) {
			bool skip;
			char *bytes = edit_bytes(&sites->items[i].edits[j], tag, digest, &skip);

			if (skip)
				continue;
			plan[n].edit = &sites->items[i].edits[j];
			plan[n].bytes = bytes;
			plan[n].order = n;
			n++;
		}
	if (n)
		qsort(plan, n, sizeof(*plan), planned_cmp);
	*out = plan;
	return n;
}

int rw_rewrite_apply(rw_buf *out, const char *text, size_t len, const rw_image_sites *sites,
	const char *tag, const char *digest)
{
	planned_edit *plan;
	size_t n = plan_edits(&plan, sites, tag, digest), at = 0;
	int error = 0;

	for (size_t i = 0; i < n && !error; i++) {
		const rw_rewrite_edit *ed = plan[i].edit;

		if (ed->start < at || ed->end > len || ed->end < ed->start) {
			error = rw_error_set(RW_ERR_INTERNAL, "rewrite: overlapping or out-of-range edit at byte %zu", ed->start);
			break;
		}
		rw_buf_put(out, text + at, ed->start - at);
		rw_buf_puts(out, plan[i].bytes);
		at = ed->end;
	}
	if (!error)
		rw_buf_put(out, text + at, len - at);
	for (size_t i = 0; i < n; i++)
		free(plan[i].bytes);
	free(plan);
	return error;
}
