# The commands a newcomer needs. `make test` and `make demo` install missing packages first.
BUILD ?= build
JOBS  ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps build test run demo clean asan tsan fuzz

all: build

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja: CMakeLists.txt
	cmake -S . -B $(BUILD) -G Ninja -DSIMUL_WERROR=ON $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure --timeout 600

run: build
	$(BUILD)/server/simul-server --config config/server.yaml

demo: build
	bench/compare

# Sanitizer builds, each in its own directory (CI runs both). Warnings are fatal in the normal
# build only: GCC 12 reports false positives once sanitizers change inlining.
asan:
	$(MAKE) test BUILD=build-asan CMAKE_FLAGS="-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIMUL_SANITIZE=address,undefined -DSIMUL_WERROR=OFF"

tsan:
	$(MAKE) test BUILD=build-tsan CMAKE_FLAGS="-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIMUL_SANITIZE=thread -DSIMUL_WERROR=OFF"

# libFuzzer targets (tests/fuzz/, clang), each run for FUZZ_SECONDS. `make test` only replays
# their corpora (the fuzz_* tests), which needs no clang.
FUZZ_SECONDS ?= 10
fuzz:
	@scripts/deps.sh --fuzz
	CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DSIMUL_FUZZ=ON -DSIMUL_BUILD_TESTS=OFF \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)
	cmake --build build-fuzz -j $(JOBS) --target fuzz_targets
	scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS)

clean:
	rm -rf build build-asan build-tsan build-fuzz
