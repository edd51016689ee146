/* The option table, shared by the files of config/. */
#ifndef REWIND_CONFIG_INTERNAL_H
#define REWIND_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "rewind/config.h"
#include "rewind/errors.h"

typedef enum { OPT_STRING, OPT_BOOL, OPT_INT, OPT_COUNT, OPT_LIST } option_type;

typedef struct {
	const char *name;    /* --name */
	const char *alias;   /* --alias, or -x when one letter */
	const char *env;     /* environment variable, NULL: none */
	const char *section; /* configuration section, NULL: none */
	const char *key;
	option_type type;
	size_t offset;       /* of the field in rw_options */
	unsigned commands;   /* RW_CMD_* that take it */
	const char *arg;     /* what the value is, NULL for flags */
	const char *help;
} option_def;

extern const option_def option_table[];

const option_def *option_find(const char *name, size_t len, unsigned cmd);
bool option_known_key(const char *section, const char *key);
bool option_known_section(const char *section);
/* "url, username, ..." of a section, for messages. */
void option_keys_of(rw_buf *out, const char *section);
/* Parses and stores a value; errors say where it came from (source). */
int option_set(rw_options *o, const option_def *d, const char *value, const char *source, rw_error_class klass);

#endif
