# amoc-ts: every command a user or CI types. `make test` works on a fresh Debian clone: it installs what it needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help
NPM_STAMP := node_modules/.package-lock.json
SERVERS ?= all

.PHONY: help setup deps apt browser demo test typecheck lint format unit integration bench bench-xmpp bench-doc servers-up servers-down servers-status clean prepare deploy test-deploy

help:
	@echo "make demo          install everything, start Prosody, run a scenario, print the summary"
	@echo "make test          typecheck, lint, unit and integration tests (starts and stops its own servers)"
	@echo "make bench         benchmarks; figures go to .run/bench/results.jsonl, then docs/benchmarks.md is regenerated"
	@echo "make servers-up    start the local servers (SERVERS=prosody|ejabberd|nats|graphite|all)"
	@echo "make servers-down  stop them"
	@echo "make prepare|deploy INVENTORY=...  Ansible: prepare hosts, deploy the cluster (ansible/README.md)"

# npm ci only when the lock file changed since the last install
$(NPM_STAMP): package-lock.json
	npm ci --no-audit --no-fund --prefer-offline
	@touch $(NPM_STAMP)

deps: $(NPM_STAMP)

apt:
	bash scripts/install-deps.sh

setup: deps apt

# chromium for the HTML report's browser test (test/integration/report-browser.test.ts)
browser:
	bash scripts/install-deps.sh browser

typecheck: deps
	npx tsc --noEmit
	npx tsc -p web --noEmit

# eslint, prettier --check (printWidth 120) and the import rules of docs/architecture.md section 4
lint: deps
	npm run --silent lint

# rewrites every .ts/.js file in prettier's style (what `make lint` checks)
format: deps
	npm run --silent format

unit: deps
	npx vitest run --project unit

integration: setup browser
	npx vitest run --project integration

# the timing project alone first; then the deploy and container tests in the background beside unit + integration
test: setup browser typecheck lint
	bash scripts/test-all.sh

# Ansible (ansible/README.md): INVENTORY=ansible/inventory.ini, extra flags in ANSIBLE_ARGS (e.g. --check --diff)
INVENTORY ?= ansible/inventory.ini
ANSIBLE_PLAYBOOK = ANSIBLE_CONFIG=ansible/ansible.cfg ansible-playbook -i $(INVENTORY) $(ANSIBLE_ARGS)

prepare:
	bash scripts/install-deps.sh ansible
	$(ANSIBLE_PLAYBOOK) ansible/prepare.yml

deploy:
	$(ANSIBLE_PLAYBOOK) ansible/deploy.yml

# prepare + deploy over SSH into three hosts made as network namespaces, then a 4000-user cluster run (root)
test-deploy: setup
	bash scripts/install-deps.sh ansible
	bash scripts/test-deploy.sh

demo: setup
	bash scripts/demo.sh

bench: setup
	bash bench/run-all.sh

# tsung and amoc-ts side by side on the bench's own lean Prosody (~6 min); installs tsung itself (bench/README-xmpp.md)
bench-xmpp: setup
	bash bench/xmpp-vs-tsung.sh
	$(MAKE) --no-print-directory bench-doc

# 38,000 XMPP users online at once on one 2-core machine: worker --procs 2 against 3 ejabberd instances (~6 min)
.PHONY: bench-hold
bench-hold: setup
	bash bench/hold-38k.sh
	$(MAKE) --no-print-directory bench-doc

# docs/benchmarks.md from docs/benchmarks.template.md and the latest figures in .run/bench/results.jsonl
bench-doc:
	node --import tsx scripts/bench-doc.ts

servers-up: setup
	bash scripts/servers.sh up $(SERVERS)

servers-down:
	bash scripts/servers.sh down $(SERVERS)

servers-status:
	bash scripts/servers.sh status $(SERVERS)

clean: servers-down
	rm -rf .run

# containers (deploy/container/, README "Deploy with containers"): the OCI image, and a nats + 3 workers + master
# cluster of containers in a test (~1-3 min; root). AMOC_IMAGE_BASE=docker.io/library/node:20-slim where a registry is
# reachable; by default a local Debian + Node 20 base is built once (deploy/container/base.sh).
IMAGE ?= localhost/amoc-ts:latest
.PHONY: image test-containers
image: deps
	bash scripts/install-deps.sh container
	bash scripts/build-image.sh $(IMAGE)

test-containers: deps
	bash scripts/install-deps.sh container nats
	bash scripts/test-containers.sh
