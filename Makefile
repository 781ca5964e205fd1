# Sluice developer entry points. Two commands do everything on a fresh Debian 12:
#   make run    install what is missing, build, start sluice-mock + sluice, print how to call it
#   make test   install what is missing, build (ASan+UBSan) and run every test
# Also: make build (release), make bench, make fmt, make fmt-check, make clean.
SHELL := /bin/bash
MAKEFLAGS += --no-print-directory
JOBS ?= $(shell nproc)
export CCACHE_SLOPPINESS := pch_defines,time_macros,include_file_mtime,include_file_ctime
export CCACHE_DIR ?= $(CURDIR)/.cache/ccache
export CCACHE_MAXSIZE ?= 2G

.PHONY: all deps build run test test-unit test-e2e bench fmt fmt-check clean

all: build

deps:
	@scripts/install-deps all

build:
	@scripts/install-deps build
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS) --target sluice sluice-mock

run: build
	@scripts/run-local build/release

test:
	@scripts/install-deps test
	@$(MAKE) --no-print-directory fmt-check
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)
	@scripts/run-tests build/asan

bench:
	@scripts/install-deps bench
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)
	@python3 bench/run.py --build build/release

fmt:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

fmt-check:
	@git ls-files '*.cc' '*.h' | xargs clang-format --dry-run --Werror \
	  || { echo "formatting differs from .clang-format: run 'make fmt'" >&2; exit 1; }

clean:
	@rm -rf build
