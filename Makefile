# PetSwipe ops pipelines: thin targets over the `petswipe-ops` command line.
ENV ?= local
VERSION ?=
FAULT ?=
BUDGET ?=
SCENARIO ?= smoke
STEPS ?= 1
AUTO_APPROVE ?= 1
PORT ?= 4200
RUN ?=
REJECT ?=
REASON ?=

export PATH := $(HOME)/.local/bin:$(PATH)
UV := uv
OPS := $(UV) run --frozen petswipe-ops
APPROVAL := $(if $(filter 1 yes true,$(AUTO_APPROVE)),--auto-approve,--manual-approve)

.DEFAULT_GOAL := help
.PHONY: help setup demo test lint release deploy-canary tf-plan tf-apply db-migrate \
	db-rollback db-status policy-validate sandbox-up sandbox-down sandbox-status ui
.PHONY: ui-down approve ci-release deployments-check

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

.venv/.ready: pyproject.toml uv.lock scripts/bootstrap.sh
	@scripts/bootstrap.sh
	@touch $@

setup: .venv/.ready ## install everything (uv, haproxy, postgresql, Python deps, k6, terraform)

demo: setup ## release a healthy version (promoted) and a faulty one (rolled back)
	@$(OPS) demo --env $(ENV)

test: setup ## run the test suite (unit and integration)
	@$(UV) run --frozen pytest -q -n 3 --dist loadfile; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$status

lint: setup ## ruff lint and format check
	@$(UV) run --frozen ruff check . && $(UV) run --frozen ruff format --check .

release: setup ## make release ENV=local VERSION=1.2.0 [FAULT=error_rate=0.05|latency_ms=800] [BUDGET=0..1]
	@test -n "$(VERSION)" || { echo "error: set VERSION, e.g. make release VERSION=1.2.0" >&2; exit 2; }
	@$(OPS) release --env $(ENV) --version $(VERSION) $(if $(FAULT),--fault $(FAULT)) $(if $(BUDGET),--error-budget $(BUDGET)) $(APPROVAL)

deploy-canary: setup ## only the canary: make deploy-canary ENV=local VERSION=1.2.0
	@test -n "$(VERSION)" || { echo "error: set VERSION, e.g. make deploy-canary VERSION=1.2.0" >&2; exit 2; }
	@$(OPS) deploy-canary --env $(ENV) --version $(VERSION) $(if $(FAULT),--fault $(FAULT)) $(if $(BUDGET),--error-budget $(BUDGET))

tf-plan: setup ## terraform plan of terraform/environments/$(ENV), saved
	@$(OPS) tf plan --env $(ENV) $(if $(VERSION),--version $(VERSION))

tf-apply: setup ## apply the plan saved by tf-plan
	@$(OPS) tf apply --env $(ENV)

db-migrate: setup ## alembic upgrade to head with recorded history
	@$(OPS) db migrate --env $(ENV)

db-rollback: setup ## alembic downgrade by STEPS (default 1)
	@$(OPS) db rollback --env $(ENV) --steps $(STEPS)

db-status: setup ## current revision, pending and history
	@$(OPS) db status --env $(ENV)

policy-validate: setup ## rego policy tests and the manifest of $(ENV)
	@$(OPS) policy-validate --env $(ENV)

sandbox-up: setup ## start the local sandbox (service + HAProxy on 127.0.0.1)
	@$(OPS) sandbox up --env $(ENV)

sandbox-down: setup ## stop the local sandbox, leaving no process behind
	@$(OPS) sandbox down --env $(ENV)

sandbox-status: setup ## versions running and HAProxy's weights
	@$(OPS) sandbox status --env $(ENV)

ui: setup ## Prefect server, a process worker and the deployments; UI on http://127.0.0.1:$(PORT)
	@$(OPS) ui up --port $(PORT)

ui-down: setup ## stop what `make ui` started
	@$(OPS) ui down

approve: setup ## make approve RUN=<flow-run-id> [REJECT=1] [REASON="change ticket 42"]
	@test -n "$(RUN)" || { echo "error: set RUN to the paused flow run's id, e.g. make approve RUN=<id>" >&2; exit 2; }
	@$(OPS) approve "$(RUN)" $(if $(filter 1 yes true,$(REJECT)),--reject) --reason "$(REASON)"

ci-release: setup ## run the release/$(ENV) deployment and wait: make ci-release VERSION=1.2.0
	@test -n "$(VERSION)" || { echo "error: set VERSION, e.g. make ci-release VERSION=1.2.0" >&2; exit 2; }
	@$(OPS) ci-release --env $(ENV) --version $(VERSION) $(if $(FAULT),--fault $(FAULT)) $(APPROVAL)

deployments-check: setup ## every environment has a release deployment, none with a deployment concurrency limit
	@$(OPS) deployments check

# k6 load-test campaigns
SCALE ?=
RATE_SCALE ?=
.PHONY: load-test
load-test: setup ## k6 scenarios: make load-test ENV=local [SCENARIO=smoke|load|stress|spike|soak|all] [SCALE=0.02] [VERSION=9.9.9 FAULT=latency_ms=800]
	@$(OPS) load-test --env $(ENV) --scenario $(SCENARIO) $(if $(SCALE),--scale $(SCALE)) \
		$(if $(RATE_SCALE),--rate-scale $(RATE_SCALE)) \
		$(if $(VERSION),--version $(VERSION)) $(if $(FAULT),--fault $(FAULT))

.PHONY: backup backup-verify dr-test
backup: setup ## back up $(ENV)'s database (tiered, encrypted, copied to the DR vault, pruned)
	@$(OPS) backup run --env $(ENV)

backup-verify: setup ## backup controls of $(ENV): RPO, tiers, checksums, encryption, DR copy, restore
	@$(OPS) backup verify --env $(ENV)

dr-test: setup ## DR drill: restore the latest backup, verify with great-expectations, RTO and RPO
	@$(OPS) backup dr-test --env $(ENV)

# The AWS sandbox: moto server + terraform/environments/aws applied to it + an ALB emulator
AWS_ENV ?= staging
.PHONY: aws-sandbox-up aws-sandbox-status aws-sandbox-down
aws-sandbox-up: setup ## AWS APIs (moto) on 127.0.0.1, the staging root applied, the emulated ALB listener
	@$(OPS) aws-sandbox up --env $(AWS_ENV)

aws-sandbox-status: setup ## the emulated listener's URL, its weights, the ECS services and task definitions
	@$(OPS) aws-sandbox status --env $(AWS_ENV)

aws-sandbox-down: setup ## stop moto, the emulator and its tasks, leaving no process behind
	@$(OPS) aws-sandbox down --env $(AWS_ENV)

# Backups of an AWS environment: RDS snapshots tagged with their tier, copied to the DR region
.PHONY: aws-backup aws-backup-verify aws-dr-test
aws-backup: setup ## RDS snapshot of $(AWS_ENV) (tiered), copied to the DR region, pruned
	@$(OPS) aws-backup run --env $(AWS_ENV)

aws-backup-verify: setup ## backup controls of $(AWS_ENV) on its RDS snapshots (or AWS Backup recovery points)
	@$(OPS) aws-backup verify --env $(AWS_ENV)

aws-dr-test: setup ## restore $(AWS_ENV)'s newest snapshot into a scratch instance; RTO (moto: restore path only)
	@$(OPS) aws-backup dr-test --env $(AWS_ENV)
