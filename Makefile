# gpiohil: `make run` runs the main job, `make test` the tests. Both install what they need
# (Debian packages via apt-get when run as root, and the VM kernel, cached after the first build).
SHELL := bash
.SHELLFLAGS := -o pipefail -ec

GO        ?= go
BIN       := bin/gpiohil
BIN_ARM64 := bin/gpiohil-arm64
JUNIT_DIR := build/junit
# Static, so the binary can be the VM guest's first process.
GOBUILD   := CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w'

.PHONY: all build build-arm64 deps kernel rpi3-kernel run test unit bench semantics clean

all: build

build:
	$(GOBUILD) -o $(BIN) ./cmd/gpiohil
	$(GO) test -c -o bin/suites.test ./suites

# gpiohil and the suites for the emulated Raspberry Pi 3 (static arm64, put in its initramfs).
build-arm64:
	GOARCH=arm64 $(GOBUILD) -o $(BIN_ARM64) ./cmd/gpiohil
	GOARCH=arm64 CGO_ENABLED=0 $(GO) test -c -ldflags='-s -w' -o bin/suites-arm64.test ./suites

deps:
	ci/deps.sh

kernel:
	ci/kernel/build.sh >/dev/null

# Debian's arm64 kernel for the emulated Raspberry Pi 3 (downloaded, never installed; cached).
rpi3-kernel:
	ci/rpi3/fetch.sh >/dev/null

# The main job: every suite for every built-in tool on the default bench (gpio-sim on this
# kernel when it has it, else the VM) and on the emulated Raspberry Pi 3 (persist off and on),
# JUnit in build/junit/, then the semantics matrix with a column per platform.
run: deps kernel rpi3-kernel build build-arm64
	$(BIN) run --junit $(JUNIT_DIR)/suites.xml
	$(BIN) run --bench vm-rpi3 --junit $(JUNIT_DIR)/suites-vm-rpi3.xml
	$(BIN) report --md build/semantics.md --html build/semantics.html $(JUNIT_DIR)/suites.xml $(JUNIT_DIR)/suites-vm-rpi3-persist-*.xml
	@echo "semantics matrix: build/semantics.md, build/semantics.html"

# Every test, VM tests included (a missing VM lane fails instead of skipping). JUnit lands in
# build/junit/: go-test.xml for every package (go-junit-report), suites-vm.xml from the Ginkgo
# suites; both are checked against ci/junit/junit.xsd.
test: deps kernel rpi3-kernel build build-arm64
	@mkdir -p $(JUNIT_DIR)
	GPIOHIL_REQUIRE_VM=1 GPIOHIL_BIN=$(abspath $(BIN)) GPIOHIL_BIN_ARM64=$(abspath $(BIN_ARM64)) \
	  GPIOHIL_JUNIT=$(abspath $(JUNIT_DIR))/suites-vm.xml \
	  $(GO) test -v -count=1 -timeout 30m ./... 2>&1 \
	  | $(GO) tool go-junit-report -set-exit-code -iocopy -out $(JUNIT_DIR)/go-test.xml
	$(BIN) run --bench vm-rpi3 --junit $(JUNIT_DIR)/suites-vm-rpi3.xml >$(JUNIT_DIR)/suites-vm-rpi3.log 2>&1 \
	  || { tail -50 $(JUNIT_DIR)/suites-vm-rpi3.log; exit 1; }
	tail -3 $(JUNIT_DIR)/suites-vm-rpi3.log
	xmllint --noout --schema ci/junit/junit.xsd $(JUNIT_DIR)/*.xml

# Tests that need neither QEMU nor a kernel.
unit:
	$(GO) test ./harness/vm/wire/... ./harness/vm/initramfs/... ./harness/sim/... ./cmd/...

# Benchmarks (medians, side by side where there is a baseline); numbers go to docs/performance.md.
bench: deps kernel rpi3-kernel build build-arm64
	GPIOHIL_BIN=$(abspath $(BIN)) $(GO) test -run '^$$' -bench Boot -benchtime 9x ./harness/vm/
	GPIOHIL_BIN=$(abspath $(BIN)) $(GO) test -run '^$$' -bench Observe -benchtime 500x ./harness/bench/
	$(GO) test -run '^$$' -bench RunnerOverhead -benchtime 500x ./harness/runner/
	GPIOHIL_BIN=$(abspath $(BIN)) $(GO) test -run '^$$' -bench FullRun -benchtime 3x -timeout 30m ./suites/launch/
	GPIOHIL_BIN_ARM64=$(abspath $(BIN_ARM64)) $(GO) test -run '^$$' -bench Boot -benchtime 5x ./harness/vm/rpi3/

clean:
	rm -rf bin build
