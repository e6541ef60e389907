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

.PHONY: test setup-python fmt-check vet go-test bench-smoke conformance tree-snapshot tree-check quickstart bench bench-side

test: tree-snapshot setup-python fmt-check vet go-test bench-smoke conformance tree-check

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

# The byte-level decoders once more on a 32-bit platform (GOARCH=386 runs
# here on amd64 Linux): frame lengths, offsets and int conversions.
GO_TEST_32 = ./internal/spool/ ./internal/rawjson/ ./internal/eventstream/ ./internal/sse/ ./internal/encode/

go-test:
	$(PYTHON_ENV) $(GO) test $(GO_TEST_FLAGS) ./...
	GOARCH=386 $(GO) test -count=1 $(GO_TEST_32)
	for m in $(NESTED); do (cd $$m && $(PYTHON_ENV) $(GO) test $(GO_TEST_FLAGS) ./...) || exit 1; done

# Every benchmark once (-benchtime 1x): a benchmark that fails or panics
# fails the test command; the figures are not read.
bench-smoke:
	$(PYTHON_ENV) $(GO) test -run '^$$' -bench . -benchtime 1x ./...
	for m in $(NESTED); do (cd $$m && $(PYTHON_ENV) $(GO) test -run '^$$' -bench . -benchtime 1x ./...) || exit 1; done

conformance:
	$(PYTHON_ENV) $(CURDIR)/.venv/bin/python -m pytest conformance -q

# Tests write only into temporary directories: tree-check fails when a run
# left files in the source tree.
#  - git-ignored output (mlruns/, binaries, test binaries): every one counts;
#    the venvs, caches and Python bytecode are the only expected ones.
#  - untracked files git does not ignore: those that were not there when
#    tree-snapshot ran (first in `make test`), so a developer's own untracked
#    files do not count. Without a snapshot every untracked file counts.
# The snapshot stays in .cache/ (ignored) until the next tree-snapshot.
TREE_SNAPSHOT = .cache/tree-check/untracked-before

tree-snapshot:
	@mkdir -p $(dir $(TREE_SNAPSHOT)) && \
	git status --porcelain --untracked-files=all . | grep '^?? ' | LC_ALL=C sort >$(TREE_SNAPSHOT) || true

tree-check:
	@left="$$(git status --porcelain --ignored . | grep '^!! ' | \
		grep -v -E '^!! "?(\.venv[^/]*/|\.cache/|bin/|.*__pycache__/|.*\.pytest_cache/)' || true)"; \
	if [ -f $(TREE_SNAPSHOT) ]; then before=$(TREE_SNAPSHOT); else before=/dev/null; fi; \
	new="$$(git status --porcelain --untracked-files=all . | grep '^?? ' | LC_ALL=C sort | LC_ALL=C comm -13 $$before - || true)"; \
	if [ -n "$$left$$new" ]; then \
		echo "tree-check: the tests left files in the source tree:"; \
		if [ -n "$$left" ]; then echo "$$left"; fi; \
		if [ -n "$$new" ]; then echo "$$new"; fi; \
		if [ -n "$$new" ] && [ "$$before" = /dev/null ]; then echo "(no $(TREE_SNAPSHOT): every untracked file counts; run make tree-snapshot before the tests)"; fi; \
		exit 1; \
	fi

quickstart:
	$(GO) run ./examples/quickstart

bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem ./...
	for m in $(NESTED); do (cd $$m && $(GO) test -run '^$$' -bench '$(BENCH)' -benchmem ./...) || exit 1; done

# Side-by-side against MLflow's Python SDK on a real local server (BENCHMARKS.md).
bench-side: setup-python
	bash bench/run.sh
