# image-classifier platform. `make help` lists the targets; ENV picks the environment.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

ENV ?= local
BOOT_PYTHON ?= python3
VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python

# Tool locations and engine settings come from one place: ops/toolchain/install.py.
$(shell mkdir -p build && $(BOOT_PYTHON) -m ops.toolchain env --format make > build/make.env)
include build/make.env
export PATH := $(TOOLS_BIN):$(VENV)/bin:$(PATH)
export PYTHONPATH := $(CURDIR)

.PHONY: help setup venv tools system plugins env check-env cluster-up cluster-down \
        native keys train serve image up down test test-fast bench lint lock lock-go

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

setup: venv system native tools plugins ## Install everything (idempotent; cached under ~/.cache/image-classifier)

venv: ## Python virtualenv from requirements.lock, linked as .venv
	@$(BOOT_PYTHON) -m ops.toolchain venv

native: ## The service's native resize kernel, compiled with gcc when out of date
	@$(BOOT_PYTHON) -m ops.toolchain native

system: ## podman, runc, buildah, skopeo, CNI plugins, iptables from Debian, configured for this host
	@$(BOOT_PYTHON) -m ops.toolchain system

tools: ## helm 3/4, pulumi + plugins, Kubernetes (control plane + node), etcd, containerd, CoreDNS, registry: built from Go modules
	@$(BOOT_PYTHON) -m ops.toolchain tools

plugins: tools ## Register the built Pulumi kubernetes provider (no downloads)
	@$(BOOT_PYTHON) -m ops.toolchain plugins

env: ## Print exports: eval "$$(make -s env)" to use helm, pulumi, kubectl by hand (ENV=local: its passphrase too)
	@$(BOOT_PYTHON) -m ops.toolchain env --stack $(ENV)

check-env: venv
	@$(PY) -m envconfig $(ENV)

cluster-up: tools system ## Start the local cluster (control plane + one real node + registry) and write KUBECONFIG
	@$(PY) -m ops.localcluster up

cluster-down: ## Stop the local cluster; leaves no process, mount, interface, iptables chain or cgroup behind
	@$(PY) -m ops.localcluster down

keys: check-env ## Make ENV's model signing and data keys (needed once for staging/prod; never replaces one)
	@$(PY) -m modelartifact.keystore create $(ENV)

train: check-env venv ## Train ENV's model into models/ENV/ (ENV=local|dev|staging|prod)
	@$(PY) -m training --env $(ENV)

serve: check-env venv native ## Serve ENV's latest model on localhost:8080 (trains one first if none)
	@$(PY) -m ops.deploy.serve --env $(ENV)

image: check-env venv system ## Build ENV's images (TF + slim LiteRT/OpenVINO int8), model baked in; record in build/images/ENV.json
	@$(PY) -m imagebuild --env $(ENV)

up: check-env setup ## Main job: model -> image -> pulumi up -s ENV (push + release; local: serves 127.0.0.1:8080)
	@$(PY) -m ops.deploy up --env $(ENV)

down: check-env ## Reverse `make up` for ENV
	@$(PY) -m ops.deploy down --env $(ENV)

test: setup ## The whole suite in two lanes (tests/lanes.py): every layer, real tools, local cluster
	@$(PY) -m tests.lanes $(PYTEST_ARGS)

bench: setup ## Service benchmark of ENV's model (trained if none): reports/service-benchmark-ENV.md
	@$(PY) -m ops.bench --env $(ENV)

lint: venv ## ruff + mypy
	@$(PY) -m ruff check . && $(PY) -m ruff format --check . && $(PY) -m mypy .

lock: venv ## Re-resolve pyproject.toml's pins into requirements.lock (with every file's sha256)
	@$(PY) -m ops.toolchain lock

lock-go: ## Re-resolve the Go modules the tool builds generate into ops/toolchain/gomod/
	@$(BOOT_PYTHON) -m ops.toolchain lock-go
