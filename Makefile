# The one front door: CI runs `make test`, newcomers run `make test` and `make demo`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
CLUSTER := $(BIN)/python tests/cluster/localcluster.py
CLUSTERS ?= local-a local-b
export CLUSTERS
# Parallel integration workers: the first uses the clusters `make integration` starts, each other its own.
INTEGRATION_WORKERS ?= 2
# The integration test files (or directories, or file::test ids) `make integration` runs.
INTEGRATION_TESTS ?= tests/integration
# The inventory `make simulate` works on, and where its reports go (./simulate unless set).
INVENTORY ?= inventories/local
SIMULATE_DIR ?=
# Set (SIMULATE_OFFLINE=true) to simulate without reading the clusters the inventory names.
SIMULATE_OFFLINE ?=
# Our venv and our kubectl/istioctl come first for every recipe.
export PATH := $(CURDIR)/$(BIN):$(CURDIR)/.localcluster/bin:$(PATH)
# ansible-test wants the collection at ansible_collections/<namespace>/<name>, as real files.
SANITY_ROOT := .build/ansible_collections/meshops/aws_egress

.PHONY: help setup copy format lint sanity unit integration test generated rbac demo simulate cluster-build cluster-up cluster-down cluster-status clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

setup: $(VENV)/.ready .collections/ansible_collections/meshops/aws_egress ## Python venv with pinned requirements
	@:

$(VENV)/.ready: requirements/runtime.txt requirements/dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "setup: $(PYTHON) not found; install Python 3.11" >&2; exit 1; }
	@echo "setup: creating $(VENV) from requirements/dev.txt"
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	@touch $@

.collections/ansible_collections/meshops/aws_egress:
	@mkdir -p $(@D) && ln -sfn ../../.. $@

# A copy of the checkout under ansible_collections/meshops/aws_egress, kubernetes.core beside it: ansible-test
# and antsibull-docs want the collection where Ansible finds collections, as real files.
copy: setup
	@rm -rf $(SANITY_ROOT) && mkdir -p $(SANITY_ROOT)
	@git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -xf - -C $(SANITY_ROOT)
	@rm -rf .build/ansible_collections/kubernetes && mkdir -p .build/ansible_collections/kubernetes
	@cp -r $$($(BIN)/python -c 'import ansible_collections.kubernetes.core as m; print(m.__path__[0])') .build/ansible_collections/kubernetes/core
	@# A repository of its own, or ansible-test sees the copy as ignored by ours.
	@cd $(SANITY_ROOT) && git init -q && git add -A

format: setup ## format the Python as `make lint` wants it (ruff format), and fix what ruff check can
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lint: copy ## ruff (format and check), ansible-lint (production profile), the changelog and documentation linters
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/ansible-lint --profile production
	$(BIN)/antsibull-changelog lint
	cd $(SANITY_ROOT) && ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/.build $(CURDIR)/$(BIN)/antsibull-docs lint-collection-docs \
		--plugin-docs --validate-collection-refs all --disallow-unknown-collection-refs .

sanity: copy ## ansible-test sanity on the copy under ansible_collections/
	@mkdir -p ~/.ansible/test/cache
	@cp tests/sanity/get_pip.py ~/.ansible/test/cache/get_pip_24_2.py
	cd $(SANITY_ROOT) && PATH=$(CURDIR)/$(BIN):$$PATH ansible-test sanity --venv --python 3.11 --color no

unit: setup ## unit and property tests of the filter and helpers
	$(BIN)/pytest tests/unit -q -n auto

integration: setup cluster-build ## integration tests against local clusters (or MESHOPS_TEST_KUBECONFIG), INTEGRATION_WORKERS in parallel
	@if [ -n "$${MESHOPS_TEST_KUBECONFIG:-}" ]; then \
		echo "integration: using the existing cluster(s) in MESHOPS_TEST_KUBECONFIG=$$MESHOPS_TEST_KUBECONFIG"; \
		$(BIN)/pytest $(INTEGRATION_TESTS) -q; \
	else \
		$(CLUSTER) up; \
		status=0; $(BIN)/pytest $(INTEGRATION_TESTS) -q -n $(INTEGRATION_WORKERS) --dist loadfile --durations=25 || status=$$?; \
		$(MAKE) --no-print-directory cluster-down; exit $$status; \
	fi

test: setup lint sanity unit integration ## everything CI runs: lint, sanity, unit, integration

generated: setup ## write the files built from the kinds table: templates/resources.yaml.j2 and files/rbac.yaml
	$(BIN)/python tests/integration/generated_files.py --write

rbac: setup ## write roles/istio_aws_egress/files/rbac.yaml, the role's RBAC for the defaults
	$(BIN)/python tests/integration/generated_files.py --write --rbac

demo: cluster-up ## start the local clusters if needed and roll the egress out to them
	ansible-playbook playbooks/site.yml
	@echo
	@echo "The clusters keep running. Look around:"
	@echo "  export KUBECONFIG=$(CURDIR)/.localcluster/kubeconfig"
	@echo "  .localcluster/bin/kubectl --context local-a get serviceentries -n istio-system"
	@echo "  .venv/bin/ansible-playbook playbooks/verify.yml   # drift check"
	@echo "  make demo                                         # again: changed=0"
	@echo "  make cluster-down                                 # stop them"

simulate: setup cluster-build ## what Istio's proxies do with the egress of every cluster of INVENTORY (reports in SIMULATE_DIR, ./simulate)
	ansible-playbook -i $(INVENTORY) playbooks/simulate.yml $(if $(SIMULATE_DIR),-e simulate_dir=$(abspath $(SIMULATE_DIR))) \
	  $(if $(SIMULATE_OFFLINE),-e simulate_offline=$(SIMULATE_OFFLINE))

cluster-build: setup ## build kube-apiserver, kubectl, istioctl and toxiproxy (cached)
	@$(CLUSTER) build

cluster-up: cluster-build ## start the local clusters named in CLUSTERS (LATENCY_MS=N: N ms per round trip)
	@$(CLUSTER) up

cluster-down: ## stop the local clusters (and any a test worker left) and delete their state
	@if [ -x $(BIN)/python ]; then \
		$(CLUSTER) down; \
		for dir in .localcluster/workers/*/; do if [ -d "$$dir" ]; then LOCALCLUSTER_DIR=$(CURDIR)/$$dir $(CLUSTER) down >/dev/null; fi; done; \
		rm -rf .localcluster/workers; \
	else echo "no venv, so no clusters"; fi

cluster-status: ## show the local clusters
	@$(CLUSTER) status

clean: cluster-down ## remove the venv, build copies and local state
	rm -rf $(VENV) .build .collections .localcluster
