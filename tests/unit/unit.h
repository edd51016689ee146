/* What every cmocka unit test includes, in the order cmocka needs. */
#ifndef REWIND_TESTS_UNIT_H
#define REWIND_TESTS_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "rewind/errors.h"

/* Asserts the last error mentions `needle`. */
#define assert_error_contains(needle) do { \
	const rw_error *e_ = rw_error_last(); \
	assert_non_null(e_); \
	if (!strstr(e_->message, (needle))) \
		fail_msg("error '%s' does not mention '%s'", e_->message, (needle)); \
} while (0)

#endif
