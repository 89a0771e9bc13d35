# kenchi - build, test, fuzz, benchmark.
#
#   make demo    install what is missing, build, scan the bundled sample logs
#   make test    install what is missing, build with ASan+UBSan, run every test
#   make         release build only (build/release/kenchi)
#   make fuzz    build the libFuzzer targets (clang) into build/fuzz/
#   make bench   build and run the benchmarks
#   make format  clang-format the tree

CC      ?= cc
PKGS     = zlib libzstd sqlite3 libevtx libbfio libxxhash libmaxminddb yaml-0.1 libpcre2-8 jansson libcurl openssl
CSTD     = -std=c17 -D_GNU_SOURCE
WARN     = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
INC      = -Isrc
# Hyperscan (the Sigma literal prefilter) is x86-only: without it the
# prefilter is left out and every candidate rule is evaluated.
HAVE_HS   := $(shell pkg-config --exists libhs 2>/dev/null && echo 1)
ifeq ($(HAVE_HS),1)
PKGS    += libhs
HS_DEFS  = -DKENCHI_HAVE_HS
endif
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(HS_DEFS)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

REL_FLAGS = -O2 -g
DBG_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all

LIB_SRC  = $(sort $(wildcard src/*/*.c))
MAIN_SRC = src/main.c
UNIT_SRC = $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRC = $(sort $(wildcard fuzz/fuzz_*.c))
BENCH_SRC = $(sort $(wildcard bench/bench_*.c))

REL_OBJ  = $(LIB_SRC:src/%.c=build/release/obj/%.o)
DBG_OBJ  = $(LIB_SRC:src/%.c=build/debug/obj/%.o)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=build/debug/tests/%)
FUZZ_BIN = $(FUZZ_SRC:fuzz/%.c=build/fuzz/%)
BENCH_BIN = $(BENCH_SRC:bench/%.c=build/release/bench/%)

.PHONY: all build debug demo test setup fuzz bench format clean

all: build
build: build/release/kenchi
debug: build/debug/kenchi $(UNIT_BIN)

setup:
	@sh scripts/setup.sh

demo: setup
	@$(MAKE) --no-print-directory build
	@sh scripts/demo.sh

test: setup
	@$(MAKE) --no-print-directory debug build
	@sh tests/run.sh

build/release/obj/%.o: src/%.c $(wildcard src/*/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CSTD) $(WARN) $(REL_FLAGS) $(INC) $(PKG_CFLAGS) -c $< -o $@

build/debug/obj/%.o: src/%.c $(wildcard src/*/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC [asan] $<"
	@$(CC) $(CSTD) $(WARN) $(DBG_FLAGS) $(INC) $(PKG_CFLAGS) -c $< -o $@

build/release/libkenchi.a: $(REL_OBJ)
	@rm -f $@
	@ar rcs $@ $^

build/debug/libkenchi.a: $(DBG_OBJ)
	@rm -f $@
	@ar rcs $@ $^

build/release/kenchi: $(MAIN_SRC) build/release/libkenchi.a
	$(CC) $(CSTD) $(WARN) $(REL_FLAGS) $(INC) $(PKG_CFLAGS) $< build/release/libkenchi.a $(PKG_LIBS) -o $@

build/debug/kenchi: $(MAIN_SRC) build/debug/libkenchi.a
	$(CC) $(CSTD) $(WARN) $(DBG_FLAGS) $(INC) $(PKG_CFLAGS) $< build/debug/libkenchi.a $(PKG_LIBS) -o $@

build/debug/tests/%: tests/unit/%.c build/debug/libkenchi.a
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(DBG_FLAGS) $(INC) $(PKG_CFLAGS) $< build/debug/libkenchi.a $(PKG_LIBS) -lcmocka -o $@

# libFuzzer targets: clang, ASan+UBSan. The library is compiled once with
# coverage instrumentation (fuzzer-no-link) and linked into every target.
FUZZ_FLAGS = -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_LIB_FLAGS = -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
FUZZ_OBJ = $(LIB_SRC:src/%.c=build/fuzz/obj/%.o)
build/fuzz/obj/%.o: src/%.c $(wildcard src/*/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC [fuzz] $<"
	@clang $(CSTD) $(WARN) $(FUZZ_LIB_FLAGS) $(INC) $(PKG_CFLAGS) -c $< -o $@
build/fuzz/libkenchi.a: $(FUZZ_OBJ)
	@rm -f $@
	@ar rcs $@ $^
build/fuzz/%: fuzz/%.c fuzz/fuzz-common.h build/fuzz/libkenchi.a
	@mkdir -p $(dir $@)
	@echo "  LD [fuzz] $@"
	@clang $(CSTD) $(WARN) $(FUZZ_FLAGS) $(INC) $(PKG_CFLAGS) $< build/fuzz/libkenchi.a $(PKG_LIBS) -o $@
fuzz: $(FUZZ_BIN)

build/release/bench/%: bench/%.c build/release/libkenchi.a
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(REL_FLAGS) $(INC) $(PKG_CFLAGS) $< build/release/libkenchi.a $(PKG_LIBS) -o $@
bench: setup
	@$(MAKE) --no-print-directory build $(BENCH_BIN)
	@sh bench/run.sh

format:
	clang-format -i $$(find src tests fuzz bench -name '*.[ch]')

clean:
	rm -rf build
