# natlb: one plain Makefile (pkg-config for libpcap, GLib, json-glib; libnet-config for libnet).
# Targets a user wants: all, demo, test, bench, fuzz, pcaps, deps, clean.  SANITIZE=1 builds with ASan+UBSan.

CC       ?= cc
PKGS     := libpcap glib-2.0 json-glib-1.0
BUILD    := build
ifeq ($(SANITIZE),1)
BUILD    := build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

# Debian packages the build, the tests and the benchmark need (make deps installs them).
DEB_PKGS := build-essential pkg-config libpcap-dev libnet1-dev libglib2.0-dev \
            libjson-glib-dev libhttp-parser-dev tshark tcpreplay clang libclang-rt-14-dev time chromium

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LIBNET_LIBS    = $(shell libnet-config --libs 2>/dev/null)
LIBNET_DEFINES = $(shell libnet-config --defines 2>/dev/null)

CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -I. $(PKG_CFLAGS) $(SANFLAGS)
LDFLAGS += $(SANFLAGS)
LDLIBS  += $(PKG_LIBS) $(LIBNET_LIBS) -lhttp_parser -lm

LIB_SRCS   := $(wildcard common/*.c nat/*.c lb/*.c)
TOOL_SRCS  := $(wildcard tools/*.c)
TEST_SRCS  := $(wildcard tests/test_*.c)
FUZZ_SRCS  := $(wildcard tests/fuzz/fuzz_*.c)
BENCH_SRCS := $(wildcard tests/bench_*.c)

LIB_OBJS   := $(LIB_SRCS:%.c=$(BUILD)/%.o)
TOOL_OBJS  := $(TOOL_SRCS:%.c=$(BUILD)/%.o)
TEST_BINS  := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
BENCH_BINS := $(BENCH_SRCS:tests/%.c=$(BUILD)/tests/%)
FUZZ_BINS  := $(FUZZ_SRCS:tests/fuzz/%.c=build/fuzz/%)
LIBNATLB   := $(BUILD)/libnatlb.a
NATLB      := $(BUILD)/natlb

# natlb --version prints this; nothing else says the version.
VERSION    := 0.1.0
VERSION_DEFINE := -DNATLB_VERSION='"$(VERSION)"'

# Scenarios are embedded in the binary (natlb scenarios, the default lesson); a lesson named on the
# command line is read from ./scenarios or this checkout's scenarios/ first, so that edits count.
SCENARIOS_DIR_DEFINE := -DNATLB_SCENARIOS_DIR='"$(CURDIR)/scenarios"'
SCENARIOS  := $(sort $(wildcard scenarios/*.ini))
EMBED_C    := $(BUILD)/gen/scenarios_embedded.c

.PHONY: all natlb demo test bench fuzz pcaps deps clean
# The benchmarks are built with everything (make test too), so an API change cannot break them unseen.
all: natlb $(TEST_BINS) $(BENCH_BINS)

# ./natlb is the normal build; a SANITIZE=1 build stays in build/san/ (tests find it through NATLB).
natlb: $(NATLB)
	@[ "$(SANITIZE)" = 1 ] || ln -sf $(NATLB) natlb

$(BUILD)/%.o: %.c $(wildcard common/*.h nat/*.h lb/*.h tools/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(if $(filter tools/gen%,$<),$(LIBNET_DEFINES)) $(if $(filter tools/cli_scenario.c,$<),$(SCENARIOS_DIR_DEFINE)) \
	  $(if $(filter tools/natlb.c,$<),$(VERSION_DEFINE)) -c -o $@ $<

$(LIBNATLB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(EMBED_C): $(SCENARIOS) tools/embed_scenarios.sh
	@mkdir -p $(dir $@)
	sh tools/embed_scenarios.sh $(SCENARIOS) > $@

$(BUILD)/gen/scenarios_embedded.o: $(EMBED_C)
	$(CC) $(CFLAGS) -c -o $@ $<

# The lesson page (natlb replay --html) carries its template, styles and script: compiled in as
# C arrays, from files kept readable in tools/page/.
PAGE_FILES := tools/page/page.html tools/page/page.css tools/page/page.js
PAGE_C     := $(BUILD)/gen/page_assets.c
$(PAGE_C): $(PAGE_FILES) tools/embed_page.sh
	@mkdir -p $(dir $@)
	sh tools/embed_page.sh $(PAGE_FILES) > $@
$(BUILD)/gen/page_assets.o: $(PAGE_C) tools/page_assets.h
	$(CC) $(CFLAGS) -c -o $@ $<

$(NATLB): $(TOOL_OBJS) $(BUILD)/gen/scenarios_embedded.o $(BUILD)/gen/page_assets.o $(LIBNATLB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Each test links the library and the tool objects but main(), so verbs can be tested too.
TOOL_LIB_OBJS = $(filter-out $(BUILD)/tools/natlb.o,$(TOOL_OBJS)) $(BUILD)/gen/scenarios_embedded.o $(BUILD)/gen/page_assets.o
$(BUILD)/tests/%: tests/%.c $(wildcard tests/*.h) $(TOOL_LIB_OBJS) $(LIBNATLB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(TOOL_LIB_OBJS) $(LIBNATLB) $(LDLIBS)

deps:
	@sh tools/deps.sh $(DEB_PKGS)

demo: deps
	@$(MAKE) --no-print-directory natlb
	@sh tools/demo.sh

# prove runs every GTest binary (they print TAP) and counts the results.
test: deps
	@$(MAKE) --no-print-directory all fuzz
	@NATLB=$(abspath $(NATLB)) FUZZ_DIR=$(abspath build/fuzz) \
	  prove -j2 --exec '' $(TEST_BINS)

# libFuzzer harnesses (clang): one per parser of untrusted bytes, with the stage types the binary has.
# The library is compiled once for them (fuzzer-no-link: instrumented, without libFuzzer's main),
# and each harness links it: a dozen harnesses would otherwise compile every file a dozen times.
# UBSan stops a run at its first finding: a fuzzer that only printed one would never fail.
FUZZ_CFLAGS := -std=gnu11 -g -O1 -I. $(PKG_CFLAGS) -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_LIB_SRCS := $(LIB_SRCS) tools/stage_types.c
FUZZ_LIB_OBJS := $(FUZZ_LIB_SRCS:%.c=build/fuzz/obj/%.o)
build/fuzz/obj/%.o: %.c $(wildcard common/*.h nat/*.h lb/*.h tools/*.h)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<
# Named only in a pattern rule, the objects would count as intermediate and be deleted after each
# make fuzz, which would then compile the whole library again.
.SECONDARY: $(FUZZ_LIB_OBJS)
build/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_OBJS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJS) $(PKG_LIBS) $(LIBNET_LIBS) -lhttp_parser -lm
# make fuzz builds them; make fuzz FUZZ_SECONDS=N also runs each for N seconds, one at a time, from a
# temporary copy of its corpus (the tree stays clean), and prints a line per harness: executions,
# libFuzzer's cov: and ft:, crashes.  A crash keeps its temporary directory (the line names it) and
# fails the target.  make test keeps its short smoke run (tests/test_fuzz_smoke.c).
fuzz: $(FUZZ_BINS)
ifneq ($(FUZZ_SECONDS),)
	@failed=0; for bin in $(FUZZ_BINS); do \
	  name=$${bin#build/fuzz/fuzz_}; tmp=$$(mktemp -d); mkdir $$tmp/corpus $$tmp/crashes; \
	  if [ -d tests/fuzz/corpus/$$name ]; then cp tests/fuzz/corpus/$$name/* $$tmp/corpus/; fi; \
	  $$bin -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$$tmp/crashes/ $$tmp/corpus >$$tmp/log 2>&1; rc=$$?; \
	  runs=$$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' $$tmp/log | tail -n 1); \
	  [ -n "$$runs" ] || runs=$$(sed -n 's/^#\([0-9]*\).*/\1/p' $$tmp/log | tail -n 1); \
	  cov=$$(grep -o 'cov: [0-9]*' $$tmp/log | tail -n 1); ft=$$(grep -o 'ft: [0-9]*' $$tmp/log | tail -n 1); \
	  crashes=$$(ls $$tmp/crashes | wc -l); \
	  if [ $$rc -eq 0 ] && [ $$crashes -eq 0 ]; then \
	    printf '%-20s %10s execs in %ss, %s, %s, 0 crashes\n' fuzz_$$name "$${runs:-0}" $(FUZZ_SECONDS) "$${cov:-cov: ?}" "$${ft:-ft: ?}"; \
	    rm -rf $$tmp; \
	  else \
	    printf '%-20s %10s execs in %ss, %s, %s, %s crashes (exit %s; log and inputs in %s)\n' fuzz_$$name "$${runs:-0}" \
	      $(FUZZ_SECONDS) "$${cov:-cov: ?}" "$${ft:-ft: ?}" $$crashes $$rc $$tmp; failed=1; \
	  fi; \
	done; exit $$failed
endif

pcaps: natlb
	@sh tools/make_pcaps.sh $(NATLB)

bench: deps
	@$(MAKE) --no-print-directory natlb $(BENCH_BINS)
	@sh tools/bench.sh $(abspath $(NATLB)) $(abspath $(BUILD)/tests)

clean:
	rm -rf build natlb
