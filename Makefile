# mlflowtrace-go developer and CI entry points. `make test` is the test
# command (.ci/run calls exactly that).

GO        ?= go
PYTHON_ENV = MLFLOWTRACE_PYTHON=$(CURDIR)/.venv/bin/python \
             MLFLOWTRACE_PYTHON_OLD=$(CURDIR)/.venv-mlflow33/bin/python \
             MLFLOWTRACE_REQUIRE_MLFLOW=1
GO_TEST_FLAGS ?= -race -count=1 -timeout 30m
BENCH     ?= .
# Modules nested in this repository (their own go.mod: dependencies kept out
# of the root module's graph); every target below covers them too.
NESTED    = autoinstrument/genkit

.PHONY: test setup-python fmt-check vet go-test bench-smoke conformance tree-check quickstart bench bench-side

test: setup-python fmt-check vet go-test bench-smoke conformance tree-check

setup-python:
	@bash scripts/setup-python.sh

fmt-check:
	@files="$$(gofmt -l $$($(GO) list -f '{{.Dir}}' ./...) $$(for m in $(NESTED); do (cd $$m && $(GO) list -f '{{.Dir}}' ./...); done))"; \
	if [ -n "$$files" ]; then echo "gofmt: these files need formatting (run gofmt -w):"; echo "$$files"; exit 1; fi

# staticcheck, pinned; `go run` fetches it from the module proxy on a fresh
# machine (it is not a dependency of the module).
STATICCHECK = $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

vet:
	$(GO) vet ./...
	$(STATICCHECK) ./...
	for m in $(NESTED); do (cd $$m && $(GO) vet ./... && $(STATICCHECK) ./...) || exit 1; done

go-test:
	$(PYTHON_ENV) $(GO) test $(GO_TEST_FLAGS) ./...
	for m in $(NESTED); do (cd $$m && $(PYTHON_ENV) $(GO) test $(GO_TEST_FLAGS) ./...) || exit 1; done

# Every benchmark once (-benchtime 1x): a benchmark that fails or panics
# fails the test command; the figures are not read.
bench-smoke:
	$(PYTHON_ENV) $(GO) test -run '^$$' -bench . -benchtime 1x ./...
	for m in $(NESTED); do (cd $$m && $(PYTHON_ENV) $(GO) test -run '^$$' -bench . -benchtime 1x ./...) || exit 1; done

conformance:
	$(PYTHON_ENV) $(CURDIR)/.venv/bin/python -m pytest conformance -q

# Tests write only into temporary directories: fail when a run left
# git-ignored output (mlruns/, binaries, test binaries) in the source tree.
# The venvs, caches and Python bytecode are the only expected ones.
tree-check:
	@left="$$(git status --porcelain --ignored . | grep '^!! ' | \
		grep -v -E '^!! "?(\.venv[^/]*/|\.cache/|bin/|.*__pycache__/|.*\.pytest_cache/)' || true)"; \
	if [ -n "$$left" ]; then echo "tree-check: the tests left files in the source tree:"; echo "$$left"; exit 1; fi

quickstart:
	$(GO) run ./examples/quickstart

bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem ./...
	for m in $(NESTED); do (cd $$m && $(GO) test -run '^$$' -bench '$(BENCH)' -benchmem ./...) || exit 1; done

# Side-by-side against MLflow's Python SDK on a real local server (BENCHMARKS.md).
bench-side: setup-python
	bash bench/run.sh
