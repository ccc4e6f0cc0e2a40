GO ?= go
BIN ?= bin/lumina
TEST_TIMEOUT ?= 30m

.PHONY: run build test lint fmt bench fuzz soak bench-alerts bench-alerts-capacity

## run: start Lumina with every role in one process on the embedded default
run:
	$(GO) run ./cmd/lumina serve

## build: a static binary in bin/lumina
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' -o $(BIN) ./cmd/lumina

## test: lint, then every test of the server and of the SDK module (integration tests use
## the LUMINA_TEST_* services when set)
test: lint
	CGO_ENABLED=0 $(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...
	@if [ -f sdk/go.mod ]; then cd sdk && CGO_ENABLED=0 $(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...; fi

## lint: go vet and gofmt
lint:
	$(GO) vet ./...
	@if [ -f sdk/go.mod ]; then cd sdk && $(GO) vet ./...; fi
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

fmt:
	gofmt -w $$(git ls-files '*.go')

## bench: Go benchmarks of the hot paths (see BENCHMARKS.md for the load-generator runs)
bench:
	CGO_ENABLED=0 $(GO) test -run '^$$' -bench . -benchmem ./internal/...

## fuzz: run every fuzz test for FUZZTIME each (make test already runs their seed corpora);
## FUZZMINIMIZETIME bounds the minimizing of each new input (Go's default of 60s, on a
## seed of a few KB, spent whole runs minimizing)
FUZZTIME ?= 20s
FUZZMINIMIZETIME ?= 5s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; \
			CGO_ENABLED=0 $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) $$pkg || exit 1; \
		done; \
	done

## soak: run the real binary under load for SOAK_DURATION (10m) at SOAK_SPAN_RATE spans/s
## (3500), SIGKILL it SOAK_KILLS (4) times, and check the load generator's ledger;
## SOAK_DATABASE_URL soaks PostgreSQL instead of SQLite
soak:
	CGO_ENABLED=0 $(GO) test -tags soak -count=1 -timeout 90m -run '^TestSoak$$' -v ./cmd/lumina

## bench-alerts: trace-to-alert latency over ALERTBENCH_PROBES (50) cost spikes under
## ALERTBENCH_SPAN_RATE (4000) spans/s of background load; ALERTBENCH_DATABASE_URL for PostgreSQL
bench-alerts:
	CGO_ENABLED=0 $(GO) test -tags alertbench -count=1 -timeout 30m -run '^TestAlertLatency$$' -v ./cmd/lumina

## bench-alerts-capacity: the drain and sustained rates of bench-alerts' Lumina (ALERTBENCH_DATABASE_URL too)
bench-alerts-capacity:
	CGO_ENABLED=0 $(GO) test -tags alertbench -count=1 -timeout 20m -run '^TestAlertBenchCapacity$$' -v ./cmd/lumina

## bench-compare: Lumina (storage off, SQLite, PostgreSQL) side by side with the OpenTelemetry
## Collector built from its Go modules (bench/), same load generator; see BENCHMARKS.md
.PHONY: bench-compare
bench-compare: ; bench/side-by-side.sh
