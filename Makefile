# Ooda: make demo to see it work, make test to pass its tests.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
BENCHTIME ?= 1s

.PHONY: all demo demo-web test build bench fuzz clean

all: build

## demo: play a scripted incident with nothing configured
demo:
	@$(GO) run -ldflags "$(LDFLAGS)" ./cmd/ooda demo

## demo-web: the demo, then its web UI kept up at http://localhost:8080 (Ctrl-C stops it)
demo-web:
	@$(GO) run -ldflags "$(LDFLAGS)" ./cmd/ooda demo --serve

## test: vet and race-test everything (what CI runs)
test:
	$(GO) vet ./...
	$(GO) test -race -timeout 20m ./...

## build: the ooda binary in bin/
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/ooda ./cmd/ooda

## bench: every benchmark, with allocations; figures are printed, never asserted
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

clean:
	rm -rf bin
