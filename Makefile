# clustering: one Go workspace, one module per folder (see go.work).
# `make demo` runs a local cluster; `make test` runs every check CI runs.

GO        ?= go
MODULES   := $(shell $(GO) list -m -f '{{.Dir}}')
PKGS      := $(shell $(GO) list -m -f '{{.Path}}/...')
FUZZTIME  ?= 10s
BENCHTIME ?= 1s
COUNT     ?= 1

.PHONY: all test fmt-check vet race modules bench bench-report fuzz demo soak tidy

all: test

## test: gofmt check, go vet, per-module builds (GOWORK=off) and race tests of every module
test: fmt-check vet modules race

fmt-check:
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

race:
	$(GO) test -race -count=1 -timeout 15m $(PKGS)

## modules: every module builds and vets on its own, with only its replace directives
modules:
	@for d in $(MODULES); do echo "GOWORK=off $$d"; (cd $$d && GOWORK=off $(GO) vet ./...) || exit 1; done

## tidy: go mod tidy in every module
tidy:
	@for d in $(MODULES); do (cd $$d && GOWORK=off $(GO) mod tidy) || exit 1; done

## bench: every benchmark once (set COUNT=5 for medians)
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count $(COUNT) -benchtime $(BENCHTIME) $(PKGS)

## fuzz: each fuzz target for FUZZTIME
fuzz:
	@FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh $(PKGS)

## soak: the integration scenarios at the issue's full sizes (64 MiB transfers, a 10 s partition, a 60 s rekeying transfer)
soak:
	$(GO) test -race -count=1 -timeout 60m ./integration/ -run 'TestStreamTransfer|TestRekeys' -soak -v

## bench-report: every module's benchmarks with their baselines, medians of 5 runs, written to BENCHMARKS.md
bench-report:
	$(GO) run ./integration/cmd/benchreport -count 5

## demo: a three-node cluster on loopback with a throwaway PKI
demo:
	cd cmd && $(GO) run ./clusterd dev
