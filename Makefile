# The four commands of the contract. Everything a fresh machine needs is installed here.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV_VERSION := 0.13.8
BOOT := .data/bootstrap
UV := $(BOOT)/bin/uv
export UV_PROJECT_ENVIRONMENT := .venv
RUN := $(UV) run --locked --no-sync
ASYNCAPI := .data/tools/asyncapi-parser
ASYNCAPI_PACKAGE := tests/contract/asyncapi
PROMQL := .data/tools/promql-metrics
PROMQL_SOURCE := deploy/grafana/promql-metrics
KUSTOMIZE_VERSION := v5.8.2
KUSTOMIZE := .data/tools/kustomize/$(KUSTOMIZE_VERSION)
COMPOSE_CONFIG := .data/tools/compose-config
COMPOSE_CONFIG_SOURCE := deploy/compose-config

.PHONY: help up down clean test check lint typecheck imports-alone bench format tools schemas up-cluster down-cluster chaos

help:
	@echo "make up | down | clean | test | check | bench | chaos | schemas | up-cluster | down-cluster"

$(UV):
	@command -v python3 >/dev/null || { echo "make: python3 (3.11+) is required: apt-get install python3 python3-venv"; exit 1; }
	@python3 -m venv $(BOOT) || { echo "make: python3 venv support is required: apt-get install python3-venv"; exit 1; }
	@$(BOOT)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/.synced: $(UV) uv.lock pyproject.toml */pyproject.toml libs/*/pyproject.toml deploy/*/pyproject.toml
	@$(UV) sync --locked --all-packages --quiet
	@touch $@

up: .venv/.synced
	@$(RUN) onboarding-stack up

down: .venv/.synced
	@$(RUN) onboarding-stack down

# Three Kafka nodes, two replicas of every service, Toxiproxy in between (.data/cluster/).
up-cluster: .venv/.synced tools
	@$(RUN) onboarding-stack up --cluster

down-cluster: .venv/.synced
	@$(RUN) onboarding-stack down --cluster

clean: .venv/.synced
	@$(RUN) onboarding-stack clean

lint: .venv/.synced
	$(RUN) ruff check .
	$(RUN) ruff format --check .

typecheck: .venv/.synced
	$(RUN) mypy libs/*/src *-service/src deploy/*/src

# Each workspace package installed alone, as its image installs it, imports every module of
# its src/ (tests/repo/imports_alone.py): a dependency it forgot to declare fails here.
imports-alone: .venv/.synced
	$(RUN) python -m tests.repo.imports_alone

check: lint typecheck imports-alone

# Kafka's jars, FerretDB and Toxiproxy (built with Go), each installed once under .data/tools.
tools: .venv/.synced $(ASYNCAPI)/installed $(PROMQL)/installed $(KUSTOMIZE)/installed $(COMPOSE_CONFIG)/installed
	@$(RUN) onboarding-stack tools

# Prometheus's own PromQL parser (pinned by the go.mod beside it), as a small program that
# prints the metric names the Grafana dashboard's queries use (tests/deploy, tests/e2e);
# built again when its sources change.
$(PROMQL)/installed: $(PROMQL_SOURCE)/main.go $(PROMQL_SOURCE)/go.mod $(PROMQL_SOURCE)/go.sum
	@command -v go >/dev/null || { echo "make: Go 1.26.7+ is required to build $(PROMQL_SOURCE): go.dev/dl"; exit 1; }
	@mkdir -p $(PROMQL) && rm -f $@
	cd $(PROMQL_SOURCE) && CGO_ENABLED=0 GOTOOLCHAIN=local go build -trimpath -buildvcs=false \
		-o $(CURDIR)/$(PROMQL)/promql-metrics.partial .
	@mv $(PROMQL)/promql-metrics.partial $(PROMQL)/promql-metrics && touch $@

# kustomize, built from its Go module at the version pinned above (its dependencies checked
# against the Go checksum database), renders deploy/kubernetes's overlays for
# tests/deploy/test_kubernetes.py; a new version builds into a new folder. v5.8.3 and later
# need Go 1.27.
$(KUSTOMIZE)/installed:
	@command -v go >/dev/null || { echo "make: Go 1.26+ is required to build kustomize: go.dev/dl"; exit 1; }
	@rm -rf $(dir $(KUSTOMIZE)) && mkdir -p $(KUSTOMIZE)
	CGO_ENABLED=0 GOTOOLCHAIN=local GOBIN=$(CURDIR)/$(KUSTOMIZE) \
		go install -trimpath sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)
	@touch $@
# The Compose specification's own loader (compose-go, pinned by the go.mod beside it), as a
# small program that prints docker-compose.yml resolved for given profiles and variables
# (tests/deploy/test_compose.py), with no Docker engine; built again when its sources change.
$(COMPOSE_CONFIG)/installed: $(COMPOSE_CONFIG_SOURCE)/main.go $(COMPOSE_CONFIG_SOURCE)/go.mod $(COMPOSE_CONFIG_SOURCE)/go.sum
	@command -v go >/dev/null || { echo "make: Go 1.26.7+ is required to build $(COMPOSE_CONFIG_SOURCE): go.dev/dl"; exit 1; }
	@mkdir -p $(COMPOSE_CONFIG) && rm -f $@
	cd $(COMPOSE_CONFIG_SOURCE) && CGO_ENABLED=0 GOTOOLCHAIN=local go build -trimpath -buildvcs=false \
		-o $(CURDIR)/$(COMPOSE_CONFIG)/compose-config.partial .
	@mv $(COMPOSE_CONFIG)/compose-config.partial $(COMPOSE_CONFIG)/compose-config && touch $@

# The official AsyncAPI parser that checks docs/asyncapi.yaml (tests/contract), pinned with
# its dependencies by the lock file beside its package.json; installed again when they change.
$(ASYNCAPI)/installed: $(ASYNCAPI_PACKAGE)/package.json $(ASYNCAPI_PACKAGE)/package-lock.json
	@if command -v npm >/dev/null; then \
		rm -rf $(ASYNCAPI) && mkdir -p $(ASYNCAPI) && cp $^ $(ASYNCAPI)/ && \
		npm ci --prefix $(ASYNCAPI) --no-audit --no-fund --loglevel=error && touch $@; \
	else \
		echo "make: npm not found, so docs/asyncapi.yaml goes unchecked (apt-get install nodejs npm)"; \
	fi

# The JSON Schemas under docs/schemas, written again from the models in libs/onboarding-events.
schemas: .venv/.synced
	$(RUN) python -m onboarding_events.schemas docs/schemas

test: check tools
	@command -v go >/dev/null || { echo "make: Go 1.24+ is required: apt-get install golang (or go.dev/dl)"; exit 1; }
	cd deploy/ferretdb && go vet ./... && go test ./...
	$(RUN) pytest

format: .venv/.synced
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

# The fault-injection ledger run on a three-node cluster (about a quarter of an hour); the
# report goes to .data/chaos/<time>/report.md and .json. ARGS="--short" for the few-minute one.
chaos: .venv/.synced tools
	$(RUN) python -m tests.chaos $(ARGS)

bench: .venv/.synced
	$(RUN) python -m tests.bench $(B) $(ARGS)
