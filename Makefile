# Passerelle: the two everyday commands are `make run` and `make test`.
# Both install what is missing first (scripts/setup.sh; a second run skips what is done).

VENV      := .venv
BIN       := $(VENV)/bin
EVAL_FILE ?= ../shared/eval/questions.jsonl
# Benchmarks are the bench/*.py modules with a __main__ block, run as `python -m bench.NAME`;
# `make bench BENCH=retrieval` runs one.
BENCH     ?= $(basename $(notdir $(shell grep -l "__name__ == .__main__." bench/*.py 2>/dev/null)))

# Everything runs offline: no model hub, no telemetry.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: help setup setup-test run test lint bench eval clean-venv

help:
	@echo "make run    install if needed, ingest corpus/, serve the chat UI, API and widget"
	@echo "make test   install if needed (with test tools), ruff check, pytest"
	@echo "make bench  run every benchmark (bench/*.py; BENCH=name for one)"
	@echo "make eval   score answers on $(EVAL_FILE)"

setup:
	bash scripts/setup.sh

setup-test:
	bash scripts/setup.sh --test

# A file that fails to index is reported by ingest; the chat still starts with the rest.
run: setup
	-$(BIN)/passerelle ingest corpus
	$(BIN)/passerelle serve

lint: setup-test
	$(BIN)/ruff check .

test: setup-test
	$(BIN)/ruff check .
	$(BIN)/pytest

bench: setup
	@test -n "$(BENCH)" || { echo "no runnable bench/*.py"; exit 1; }
	@set -e; for b in $(BENCH); do echo "== bench.$$b"; $(BIN)/python -m bench.$$b $(BENCH_ARGS); done

eval: setup
	$(BIN)/passerelle eval $(EVAL_FILE)

clean-venv:
	rm -rf $(VENV)
