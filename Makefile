# gort — top-level driver over CMake/CTest.  `make test` and `make demo` work
# on a fresh Debian 12 machine: `deps` installs what gcc/make/cmake lack.
BUILD      ?= build
JOBS       ?= $(shell nproc)
CC         ?= cc
CMAKE_ARGS ?=
CTEST_ARGS ?= --output-on-failure -j$(JOBS)

.PHONY: all deps build test demo bench test-asan test-tsan test-clang clean

all: build

deps:
	@if ! pkg-config --exists libdw 2>/dev/null; then \
	    echo "installing libdw-dev and pkg-config"; \
	    if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	    $$SUDO apt-get update -q && $$SUDO apt-get install -y -q libdw-dev pkg-config; \
	fi

define configure
	@mkdir -p $(1)
	@cd $(1) && cmake -S $(CURDIR) -B . -DCMAKE_C_COMPILER=$(2) $(3) $(CMAKE_ARGS) >/dev/null
endef

build: deps
	$(call configure,$(BUILD),$(CC),)
	@cmake --build $(BUILD) -j$(JOBS)

test: build
	cd $(BUILD) && ctest $(CTEST_ARGS)

demo: build
	@for e in primes pipeline; do \
	    echo "== examples/$$e"; ./$(BUILD)/examples/$$e || exit 1; echo; done

bench: build
	@tools/bench.sh $(BUILD)

test-asan: deps
	$(call configure,build-asan,$(CC),-DGORT_SANITIZE=address)
	@cmake --build build-asan -j$(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=0 ctest $(CTEST_ARGS)

test-tsan: deps
	$(call configure,build-tsan,$(CC),-DGORT_SANITIZE=thread)
	@cmake --build build-tsan -j$(JOBS)
	cd build-tsan && TSAN_OPTIONS=halt_on_error=1 ctest $(CTEST_ARGS)

test-clang: deps
	$(call configure,build-clang,clang,)
	@cmake --build build-clang -j$(JOBS)
	cd build-clang && ctest $(CTEST_ARGS)

clean:
	rm -rf $(BUILD) build-asan build-tsan build-clang
