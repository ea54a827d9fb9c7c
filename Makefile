# The commands a newcomer needs. `make test` and `make demo` install missing packages first.
BUILD ?= build
JOBS  ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps build test run demo clean asan tsan

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

clean:
	rm -rf build build-asan build-tsan
