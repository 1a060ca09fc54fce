# FreeLLMAPI build. `make` builds build/freellmapi; `make test` runs every test;
# `make run` builds and starts the gateway. Missing Debian packages are installed
# by scripts/install-deps.sh (apt-get as root, sudo otherwise).

PKGS     := libuv libmicrohttpd libcurl jansson sqlite3 libcrypto libopusenc flac lame
BUILD    ?= build
CC       ?= gcc
SAN      ?=
CFLAGS   ?= -O2 -g
WARN     := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wstrict-prototypes
CPPFLAGS += -std=c11 -D_GNU_SOURCE -Isrc -MMD -MP
DEPS_OK  := $(BUILD)/.deps-ok

SRC      := $(shell find src -name '*.c' ! -path 'src/main.c' | sort)
OBJ      := $(SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/catalog_data.o \
            $(BUILD)/obj/gen/web_assets.o
# The dashboard's sources (web/); its build output is embedded like the catalog.
WEB_SRC  := $(shell find web -path web/node_modules -prune -o -path web/dist -prune -o \
              -type f -print 2>/dev/null)
MAIN_OBJ := $(BUILD)/obj/src/main.o
UNIT_SRC := $(shell find tests/unit -name '*_test.c' 2>/dev/null | sort)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit/%)

ifneq ($(SAN),)
CFLAGS   := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=address,undefined
endif

.PHONY: all deps run test unit e2e asan check clean
all: $(BUILD)/freellmapi

deps: $(DEPS_OK)
$(DEPS_OK): scripts/install-deps.sh
	@scripts/install-deps.sh
	@mkdir -p $(BUILD) && touch $@

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libsonic (audio speed change) ships no .pc file.
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lsonic -lm

# Short lines unless V=1.
Q := $(if $(V),,@)

$(BUILD)/obj/%.o: %.c | $(DEPS_OK)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) $(WARN) -c $< -o $@

# The default catalog is compiled in, so the binary runs with no files beside it.
$(BUILD)/gen/catalog_data.c: catalog/catalog.json scripts/embed.py
	@mkdir -p $(dir $@)
	$(Q)python3 scripts/embed.py gw_catalog_builtin $< > $@

# The dashboard: built by npm when its sources changed (scripts/build-web.sh),
# then compiled in, precompressed.
$(BUILD)/gen/web_assets.c: $(WEB_SRC) scripts/build-web.sh scripts/embed-web.py
	@mkdir -p $(dir $@)
	$(Q)scripts/build-web.sh
	$(Q)python3 scripts/embed-web.py web/dist > $@

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -Isrc -c $< -o $@

$(BUILD)/libgw.a: $(OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(BUILD)/freellmapi: $(MAIN_OBJ) $(BUILD)/libgw.a
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/unit/%: tests/unit/%.c $(BUILD)/libgw.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST    $@")
	$(Q)$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) $(WARN) -Itests/unit -o $@ $< $(BUILD)/libgw.a \
		$(LDFLAGS) $(PKG_LIBS) $(shell pkg-config --libs cmocka)

run: $(BUILD)/freellmapi
	./$(BUILD)/freellmapi serve

unit: $(UNIT_BIN)
	@scripts/run-unit.sh $(UNIT_BIN)

e2e: $(BUILD)/freellmapi
	@scripts/run-e2e.sh $(BUILD)/freellmapi

# The whole suite, as CI runs it: plain build and source checks first, then unit + e2e
# under ASan+UBSan.
test: $(DEPS_OK)
	$(MAKE) all
	$(MAKE) check
	$(MAKE) BUILD=build-san SAN=1 unit e2e

asan:
	$(MAKE) BUILD=build-san SAN=1 all

check:
	@scripts/checksrc.sh
	@python3 catalog/build.py --check

# Benchmarks (bench/run.sh): gateway vs the mock upstream direct vs a peer; writes
# docs/benchmarks.md. BENCH_QUICK=1 for a short run.
.PHONY: bench
BENCH_BIN := $(BUILD)/bench/mock $(BUILD)/bench/loadgen
$(BUILD)/bench/%: bench/%.c bench/httphead.h | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=c11 -D_GNU_SOURCE -O2 -g $(WARN) $(shell pkg-config --cflags libuv) -o $@ $< \
		$(shell pkg-config --libs libuv)

# The analytics benchmark links the gateway's library (it times the store's own queries);
# so does the estimator's replay (make sim-estimates).
$(BUILD)/bench/analytics $(BUILD)/bench/estimate_replay: $(BUILD)/bench/%: bench/%.c $(BUILD)/libgw.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) $(WARN) -o $@ $< $(BUILD)/libgw.a \
		$(LDFLAGS) $(PKG_LIBS)

bench: $(BUILD)/freellmapi $(BENCH_BIN) $(BUILD)/bench/analytics
	@bench/run.sh $(BUILD)

# Routing-quality simulation: traffic profiles against the real binary with mock
# providers that enforce free-tier caps (bench/sim/README.md); ~2-3 minutes.
.PHONY: sim
sim: $(BUILD)/freellmapi
	@node bench/sim/sim.mjs --bin $(BUILD)/freellmapi

# The prompt-token estimator replayed over the simulator's request streams (docs/routing.md).
.PHONY: sim-estimates
sim-estimates: $(BUILD)/bench/estimate_replay
	@node bench/sim/estimates.mjs --replay $(BUILD)/bench/estimate_replay

# libFuzzer drivers (tests/fuzz), built with Debian's clang against a library
# compiled for fuzzing in build-fuzz/. `make fuzz` runs each for FUZZ_SECONDS
# (default 60), two at a time; scripts/run-fuzz.sh prints one line per driver.
.PHONY: fuzz fuzz-build
FUZZ_CC     ?= clang-14
FUZZ_DIR    := build-fuzz
FUZZ_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
               -fno-sanitize-recover=undefined
FUZZ_SRC    := $(sort $(wildcard tests/fuzz/*_fuzz.c))
FUZZ_BIN    := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_DIR)/fuzz/%)

$(FUZZ_DIR)/.deps-ok: scripts/install-deps.sh
	@scripts/install-deps.sh fuzz
	@mkdir -p $(FUZZ_DIR) && touch $@

fuzz-build: $(DEPS_OK) $(FUZZ_DIR)/.deps-ok
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_DIR) CC=$(FUZZ_CC) CFLAGS="$(FUZZ_CFLAGS)" \
		DEPS_OK=$(DEPS_OK) $(FUZZ_DIR)/libgw.a
	@$(MAKE) --no-print-directory $(FUZZ_BIN)

$(FUZZ_DIR)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz_common.h $(FUZZ_DIR)/libgw.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(FUZZ_CC) $(CPPFLAGS) $(PKG_CFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(WARN) \
		-Itests/fuzz -o $@ $< $(FUZZ_DIR)/libgw.a $(PKG_LIBS)

fuzz: fuzz-build
	@scripts/run-fuzz.sh $(FUZZ_BIN)

clean:
	rm -rf build build-san build-fuzz

-include $(OBJ:.o=.d) $(MAIN_OBJ:.o=.d)
