# gpiohil: `make run` runs the main job, `make test` the tests. Both install what they need
# (Debian packages via apt-get when run as root, and the VM kernel, cached after the first build).
SHELL := bash
.SHELLFLAGS := -o pipefail -ec

GO        ?= go
BIN       := bin/gpiohil
JUNIT_DIR := build/junit
# Static, so the binary can be the VM guest's first process.
GOBUILD   := CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w'

.PHONY: all build deps kernel run test unit bench clean

all: build

build:
	$(GOBUILD) -o $(BIN) ./cmd/gpiohil
	$(GO) test -c -o bin/suites.test ./suites

deps:
	ci/deps.sh

kernel:
	ci/kernel/build.sh >/dev/null

# The main job: every suite for every built-in tool on the default bench (gpio-sim on this
# kernel when it has it, else the VM), JUnit in build/junit/, then the semantics matrix.
run: deps kernel build
	$(BIN) run --junit $(JUNIT_DIR)/suites.xml
	$(BIN) report --md build/semantics.md --html build/semantics.html $(JUNIT_DIR)/suites.xml
	@echo "semantics matrix: build/semantics.md, build/semantics.html"

# Every test, VM tests included (a missing VM lane fails instead of skipping). JUnit lands in
# build/junit/: go-test.xml for every package (go-junit-report), suites-vm.xml from the Ginkgo
# suites; both are checked against ci/junit/junit.xsd.
test: deps kernel build
	@mkdir -p $(JUNIT_DIR)
	GPIOHIL_REQUIRE_VM=1 GPIOHIL_BIN=$(abspath $(BIN)) GPIOHIL_JUNIT=$(abspath $(JUNIT_DIR))/suites-vm.xml \
	  $(GO) test -v -count=1 -timeout 30m ./... 2>&1 \
	  | $(GO) tool go-junit-report -set-exit-code -iocopy -out $(JUNIT_DIR)/go-test.xml
	xmllint --noout --schema ci/junit/junit.xsd $(JUNIT_DIR)/go-test.xml $(JUNIT_DIR)/suites-vm.xml

# Tests that need neither QEMU nor a kernel.
unit:
	$(GO) test ./harness/vm/wire/... ./harness/vm/initramfs/... ./harness/sim/... ./cmd/...

# Benchmarks (medians, side by side where there is a baseline); numbers go to docs/performance.md.
bench: deps kernel build
	GPIOHIL_BIN=$(abspath $(BIN)) $(GO) test -run '^$$' -bench Boot -benchtime 9x ./harness/vm/
	GPIOHIL_BIN=$(abspath $(BIN)) $(GO) test -run '^$$' -bench Observe -benchtime 500x ./harness/bench/
	$(GO) test -run '^$$' -bench RunnerOverhead -benchtime 500x ./harness/runner/
	GPIOHIL_BIN=$(abspath $(BIN)) $(GO) test -run '^$$' -bench FullRun -benchtime 3x -timeout 30m ./suites/launch/

clean:
	rm -rf bin build
