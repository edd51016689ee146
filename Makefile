# rewind: build, test, demo, install.
#   make            build build/release/rewind
#   make check      bootstrap, then the whole suite twice: a normal build and
#                   an AddressSanitizer+UBSan build
#   make demo       bootstrap, then the main job on an embedded sample
#   make install    PREFIX=/usr/local DESTDIR=
#   make bench      benchmarks (figures, no asserts)

PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
PKG_CONFIG ?= pkg-config
PYTHON ?= python3
VARIANT ?= release

PKGS := libcurl jansson libgit2 libssh2 libcrypto
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 $(WARN) -Iinclude
ifeq ($(VARIANT),asan)
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT := -O1 -g $(SAN)
LDSAN := $(SAN)
else
OPT := -O2 -g
LDSAN :=
endif
CFLAGS ?=
ALL_CFLAGS = $(BASE_CFLAGS) $(OPT) $(PKG_CFLAGS) $(CFLAGS)
LDLIBS = $(PKG_LIBS) -lm -pthread

B := build/$(VARIANT)
LIB_SRCS := $(wildcard util/*.c http/*.c registry/*.c timeline/*.c config/*.c orchestrator/*.c rollback/*.c)
CMD_SRCS := $(wildcard cmd/*.c)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/obj/%.o)
CMD_OBJS := $(CMD_SRCS:%.c=$(B)/obj/%.o)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
HEADERS := $(wildcard include/rewind/*.h)

.PHONY: all check check-variant unit integration demo install uninstall clean bootstrap bench memcheck
all: $(B)/rewind

$(B)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(B)/librewind.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(B)/rewind: $(CMD_OBJS) $(B)/librewind.a
	$(CC) $(LDSAN) -o $@ $(CMD_OBJS) $(B)/librewind.a $(LDLIBS)

$(B)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(B)/librewind.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(B)/librewind.a $(LDSAN) $(LDLIBS) -lcmocka

# The backend driver of the orchestrator integration tests (every backend
# linked in, whether a command references it or not).
$(B)/tests/drive: tests/orchestrator/drive.c $(B)/librewind.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< -Wl,--whole-archive $(B)/librewind.a -Wl,--no-whole-archive $(LDSAN) $(LDLIBS)

bootstrap:
	@sh scripts/bootstrap.sh

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

integration: $(B)/rewind $(B)/tests/drive
	$(PYTHON) tests/integration/run.py --rewind $(B)/rewind

check-variant: all unit integration

check: bootstrap
	$(MAKE) check-variant VARIANT=release
	$(MAKE) check-variant VARIANT=asan
	@echo "make check: all tests passed (release and asan+ubsan builds)"

demo: bootstrap all
	@$(PYTHON) scripts/demo.py --rewind $(B)/rewind

bench: bootstrap all
	$(PYTHON) bench/dates_bench.py --rewind $(B)/rewind

memcheck: bootstrap all $(UNIT_BINS) $(B)/tests/drive
	@set -e; for t in $(UNIT_BINS); do valgrind -q --leak-check=full --error-exitcode=9 $$t >/dev/null; done
	$(PYTHON) tests/integration/run.py --rewind $(B)/rewind --valgrind

install: $(B)/rewind
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(B)/rewind $(DESTDIR)$(PREFIX)/bin/rewind

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/rewind

clean:
	rm -rf build
