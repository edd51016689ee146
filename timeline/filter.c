/* Tag filters: by environment suffix or by regular expression. */
#include "rewind/filter.h"
#include "rewind/errors.h"
#include "rewind/util.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

struct rw_tag_filter {
	char *suffix;
	bool has_regex;
	regex_t regex;
	char *description;
};

int rw_tag_filter_new(rw_tag_filter **out, const char *suffix, const char *pattern)
{
	rw_tag_filter *f = rw_calloc(1, sizeof(*f));

	if (pattern && *pattern) {
		int rc = regcomp(&f->regex, pattern, REG_EXTENDED | REG_NOSUB);

		if (rc) {
			char msg[256];

			regerror(rc, &f->regex, msg, sizeof(msg));
			free(f);
			return rw_error_set(RW_ERR_USAGE, "invalid --tag-pattern '%s': %s", pattern, msg);
		}
		f->has_regex = true;
		f->description = rw_printf("tags matching /%s/", pattern);
	} else if (suffix && *suffix) {
		f->suffix = rw_strdup(suffix);
		f->description = rw_printf("tags ending in -%s", suffix);
	} else {
		f->description = rw_strdup("all tags");
	}
	*out = f;
	return 0;
}

bool rw_tag_filter_match(const rw_tag_filter *f, const char *tag)
{
	size_t tl, sl;

	if (f->has_regex)
		return regexec(&f->regex, tag, 0, NULL, 0) == 0;
	if (!f->suffix)
		return true;
	tl = strlen(tag);
	sl = strlen(f->suffix);
	if (tl < sl || strcmp(tag + tl - sl, f->suffix))
		return false;
	return tl == sl || strchr("-_.", tag[tl - sl - 1]) != NULL;
}

const char *rw_tag_filter_describe(const rw_tag_filter *f)
{
	return f->description;
}

void rw_tag_filter_free(rw_tag_filter *f)
{
	if (!f)
		return;
	if (f->has_regex)
		regfree(&f->regex);
	free(f->suffix);
	free(f->description);
	free(f);
}
