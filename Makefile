# gpiohil: `make run` runs the main job, `make test` the tests. Both install what they need
# (Debian packages via apt-get when run as root, and the VM kernel, cached after the first build).
SHELL := bash
.SHELLFLAGS := -o pipefail -ec

GO        ?= go
BIN       := bin/gpiohil
BIN_ARM64 := bin/gpiohil-arm64
JUNIT_DIR := build/junit
# Static, so the binary can be the VM guest's first process. bin/gpiohil-agent is gpiohil with
# only that first process in it: `gpiohil vm run` boots faster with it (docs/vm.md).
GOBUILD   := CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=auto -ldflags='-s -w'

.PHONY: all build build-arm64 deps kernel rpi3-kernel rpi3-userland rpi4-qemu run test unit bench semantics clean

all: build

build:
	@$(GOBUILD) -o bin/ ./cmd/gpiohil ./cmd/gpiohil-agent
	@$(GO) test -c -ldflags='-s -w' -o bin/suites.test ./suites

# gpiohil and the suites for the emulated Raspberry Pi 3 (static arm64, put in its initramfs).
build-arm64:
	@GOARCH=arm64 $(GOBUILD) -o $(BIN_ARM64) ./cmd/gpiohil
	@GOARCH=arm64 CGO_ENABLED=0 $(GO) test -c -ldflags='-s -w' -o bin/suites-arm64.test ./suites

deps:
	@ci/deps.sh

kernel:
	@ci/kernel/build.sh >/dev/null

# Debian's arm64 kernel for the emulated Raspberry Pi 3 (downloaded, never installed; cached).
rpi3-kernel:
	@ci/rpi3/fetch.sh >/dev/null

# Debian's Python and GPIO tools for the emulated Pi, a trimmed arm64 userland per release
# (bookworm, trixie), built from Debian's packages without installing them; cached.
rpi3-userland:
	@ci/rpi3/userland.sh >/dev/null

# QEMU 10 for the emulated Raspberry Pi 4 (bookworm's QEMU 7.2 has no raspi4b), unpacked from
# bookworm-backports without installing it, and the Pi 4's device tree; cached.
rpi4-qemu: rpi3-kernel
	@ci/rpi4/fetch.sh >/dev/null

# The emulated Pis' lanes: the Pi 3 and the Pi 4, each Debian userland with
# persist_gpio_outputs off and on.
RPI3_LANES   := bookworm-persist-off bookworm-persist-on trixie-persist-off trixie-persist-on \
                pi4-bookworm-persist-off pi4-bookworm-persist-on pi4-trixie-persist-off pi4-trixie-persist-on
rpi3_reports  = $(foreach l,$(RPI3_LANES),$(JUNIT_DIR)/$(1)-vm-rpi3-$(l).xml)

# The main job: every suite for every built-in tool on the default bench (gpio-sim on this
# kernel when it has it, else the VM) and on the emulated Raspberry Pi 3 and 4 (Debian bookworm
# and trixie, persist off and on), JUnit in build/junit/, then the semantics matrix with a
# column per platform.
run: deps kernel rpi3-kernel rpi3-userland rpi4-qemu build build-arm64
	@$(BIN) run --junit $(JUNIT_DIR)/suites.xml --log build/gpiohil-run.log
	@$(BIN) run --bench vm-rpi3 --junit $(JUNIT_DIR)/suites-vm-rpi3.xml --log build/gpiohil-run-vm-rpi3.log
	@echo "The answer: what a line is left as once the program that set it is gone"
	@$(BIN) report --answer --md build/semantics.md --html build/semantics.html --json build/semantics.json $(JUNIT_DIR)/suites.xml $(call rpi3_reports,suites)
	@echo; echo "semantics matrix: build/semantics.html, build/semantics.md, build/semantics.json; logs: build/gpiohil-run*.log"

# The suites' reports of make test: the VM lane (from go test ./suites) and the emulated Pi's.
SUITE_REPORTS := $(JUNIT_DIR)/suites-vm.xml $(call rpi3_reports,suites)

# Every test, VM tests included (a missing VM lane fails instead of skipping), then the suites
# on the emulated Pis' eight lanes (Pi 3 and Pi 4, two userlands, persist off and on); then every lane's report is held to ci/expected-skips.yaml (nothing
# went missing) and every tool outcome of the expectations is shown to be load-bearing
# (gpiohil report --flips; its full output stays in build/junit/flips.txt). JUnit lands in
# build/junit/: go-test.xml for every package (go-junit-report), suites-*.xml from the Ginkgo
# suites, which are checked against ci/junit/junit.xsd (go-junit-report's own output carries a testsuites@skipped attribute that
# schema lacks; Jenkins' junit plugin and GitLab read it all the same). Last, actionlint checks
# the GitHub workflows in ci/github/ (docs/ci.md) and shellcheck the scripts in ci/.
test: deps kernel rpi3-kernel rpi3-userland rpi4-qemu build build-arm64
	@mkdir -p $(JUNIT_DIR)
	GPIOHIL_REQUIRE_VM=1 GPIOHIL_BIN=$(abspath $(BIN)) GPIOHIL_BIN_ARM64=$(abspath $(BIN_ARM64)) \
	  GPIOHIL_JUNIT=$(abspath $(JUNIT_DIR))/suites-vm.xml \
	  $(GO) test -v -count=1 -timeout 30m ./... 2>&1 \
	  | $(GO) tool go-junit-report -set-exit-code -iocopy -out $(JUNIT_DIR)/go-test.xml
	$(BIN) run --bench vm-rpi3 --junit $(JUNIT_DIR)/suites-vm-rpi3.xml >$(JUNIT_DIR)/suites-vm-rpi3.log 2>&1 \
	  || { tail -50 $(JUNIT_DIR)/suites-vm-rpi3.log; exit 1; }
	tail -3 $(JUNIT_DIR)/suites-vm-rpi3.log
	xmllint --noout --schema ci/junit/junit.xsd $(JUNIT_DIR)/suites-*.xml
	$(BIN) report --expected-skips ci/expected-skips.yaml $(SUITE_REPORTS)
	$(BIN) report --flips $(SUITE_REPORTS) >$(JUNIT_DIR)/flips.txt || { cat $(JUNIT_DIR)/flips.txt; exit 1; }
	grep -A100 '^[0-9]* flips of' $(JUNIT_DIR)/flips.txt | sed -n '/^No evidence/q;p'
	$(GO) tool actionlint -config-file ci/github/actionlint.yaml ci/github/*.yml
	shellcheck -x ci/*.sh ci/*/*.sh .ci/run

# Tests that need neither QEMU nor a kernel.
unit:
	$(GO) test ./harness/vm/wire/... ./harness/vm/initramfs/... ./harness/sim/... ./cmd/...

# Benchmarks (medians, side by side where there is a baseline); numbers go to docs/performance.md.
bench: deps kernel rpi3-kernel rpi3-userland rpi4-qemu build build-arm64
	GPIOHIL_BIN=$(abspath $(BIN)) GPIOHIL_BIN_ARM64=$(abspath $(BIN_ARM64)) GO=$(GO) ci/bench.sh

# docs/semantics.md: the matrix from a real run of the VM lane and the emulated Pi's lanes.
semantics: deps kernel rpi3-kernel rpi3-userland rpi4-qemu build build-arm64
	$(BIN) run --bench vm --junit $(JUNIT_DIR)/semantics-vm.xml
	$(BIN) run --bench vm-rpi3 --junit $(JUNIT_DIR)/semantics-vm-rpi3.xml
	{ printf '# Semantics matrix\n\nWhat a GPIO line is doing once the program that set it is gone, measured by gpiohil.\n'; \
	  printf 'Generated by `make semantics` on %s from a real run (gpiohil run on the VM lane and\n' "$$(date -u +%Y-%m-%d)"; \
	  printf 'on the emulated Raspberry Pi 3 and 4 with Debian bookworm and trixie userlands, persist_gpio_outputs off and on), then:\n\n'; \
	  printf '    gpiohil report build/junit/semantics-vm.xml build/junit/semantics-vm-rpi3-*.xml\n\n'; \
	  $(BIN) report $(JUNIT_DIR)/semantics-vm.xml $(call rpi3_reports,semantics); \
	} > docs/semantics.md

clean:
	rm -rf bin build
