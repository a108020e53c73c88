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
AWS_ENV ?= staging

export PATH := $(HOME)/.local/bin:$(PATH)
UV := uv
OPS := $(UV) run --frozen petswipe-ops

# User variables reach the command line through the environment (PETSWIPE_ARG_<NAME>),
# never pasted into a recipe: no shell parses a value such as `1.2.0;touch x`, $(value ...)
# keeps make from expanding one, and the CLI receives it as one argument and validates it.
USER_VARS := ENV VERSION FAULT BUDGET OVERRIDE SCENARIO STEPS PORT RUN REASON SCALE RATE_SCALE \
	SECRET FLAG STRATEGY PATHS AWS_ENV
$(foreach var,$(USER_VARS),$(eval export PETSWIPE_ARG_$(var) = $$(value $(var))))
unexport $(USER_VARS) AUTO_APPROVE REJECT
# $(call arg,option,NAME): "--option=<value of NAME>"; $(call opt,...): the same, if NAME is set.
arg = "--$(1)=$$PETSWIPE_ARG_$(2)"
opt = $${PETSWIPE_ARG_$(2):+"--$(1)=$$PETSWIPE_ARG_$(2)"}
# $(call need,NAME,target): stop with a hint when NAME is empty.
need = test -n "$$PETSWIPE_ARG_$(1)" || { echo "error: set $(1), e.g. make $(2) $(1)=1.2.0" >&2; exit 2; }
is_yes = $(filter 1 yes true,$(value $(1)))
APPROVAL = $(if $(call is_yes,AUTO_APPROVE),--auto-approve,--manual-approve)

.DEFAULT_GOAL := help
.PHONY: help setup demo test test-aws-stack lint release deploy-canary tf-plan tf-apply db-migrate \
	db-rollback db-status policy-validate sandbox-up sandbox-down sandbox-status ui
.PHONY: ui-down approve ci-release deployments-check

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

.venv/.ready: pyproject.toml uv.lock scripts/bootstrap.sh
	@scripts/bootstrap.sh
	@touch $@

setup: .venv/.ready ## install everything (uv, haproxy, postgresql, Python deps, k6, terraform)

demo: setup ## release a healthy version (promoted) and a faulty one (rolled back)
	@$(OPS) demo $(call arg,env,ENV)

test: setup ## run the whole test suite: unit, integration, and the AWS sandbox on one worker
	@$(UV) run --frozen pytest -q -n 3 --dist loadfile --no-loadscope-reorder --durations=25; \
	status=$$?; if [ $$status -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$status

# The AWS stack's tests alone, in one process on one stack applied to moto.
test-aws-stack: setup ## the tests on the staging stack applied to a moto server, a staging release among them
	@$(UV) run --frozen pytest -q -m aws_stack tests/petswipe_ops/platform/aws; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$status

lint: setup ## ruff lint and format check
	@$(UV) run --frozen ruff check . && $(UV) run --frozen ruff format --check .

release: setup ## make release ENV=local VERSION=1.2.0 [FAULT=error_rate=0.05|latency_ms=800] [OVERRIDE="why, with the budget spent"]
	@$(call need,VERSION,release)
	@$(OPS) release $(call arg,env,ENV) $(call arg,version,VERSION) $(call opt,fault,FAULT) \
		$(call opt,error-budget,BUDGET) $(call opt,budget-override,OVERRIDE) $(APPROVAL)

deploy-canary: setup ## only the canary: make deploy-canary ENV=local VERSION=1.2.0
	@$(call need,VERSION,deploy-canary)
	@$(OPS) deploy-canary $(call arg,env,ENV) $(call arg,version,VERSION) $(call opt,fault,FAULT) \
		$(call opt,error-budget,BUDGET)

tf-plan: setup ## terraform plan of terraform/environments/$(ENV), saved
	@$(OPS) tf plan $(call arg,env,ENV) $(call opt,version,VERSION)

tf-apply: setup ## apply the plan saved by tf-plan
	@$(OPS) tf apply $(call arg,env,ENV)

db-migrate: setup ## alembic upgrade to head with recorded history
	@$(OPS) db migrate $(call arg,env,ENV)

db-rollback: setup ## alembic downgrade by STEPS (default 1)
	@$(OPS) db rollback $(call arg,env,ENV) $(call arg,steps,STEPS)

db-status: setup ## current revision, pending and history
	@$(OPS) db status $(call arg,env,ENV)

policy-validate: setup ## rego policy tests and the manifest of $(ENV)
	@$(OPS) policy-validate $(call arg,env,ENV)

sandbox-up: setup ## start the local sandbox (service + HAProxy on 127.0.0.1)
	@$(OPS) sandbox up $(call arg,env,ENV)

sandbox-down: setup ## stop the local sandbox, leaving no process behind
	@$(OPS) sandbox down $(call arg,env,ENV)

sandbox-status: setup ## versions running and HAProxy's weights
	@$(OPS) sandbox status $(call arg,env,ENV)

ui: setup ## Prefect server, a process worker and the deployments; UI on http://127.0.0.1:$(PORT)
	@$(OPS) ui up $(call arg,port,PORT)

ui-down: setup ## stop what `make ui` started
	@$(OPS) ui down

approve: setup ## make approve RUN=<flow-run-id> [REJECT=1] [REASON="change ticket 42"]
	@test -n "$$PETSWIPE_ARG_RUN" || { echo "error: set RUN to the paused flow run's id, e.g. make approve RUN=<id>" >&2; exit 2; }
	@$(OPS) approve $(if $(call is_yes,REJECT),--reject) $(call arg,reason,REASON) -- "$$PETSWIPE_ARG_RUN"

ci-release: setup ## run the release/$(ENV) deployment and wait: make ci-release VERSION=1.2.0
	@$(call need,VERSION,ci-release)
	@$(OPS) ci-release $(call arg,env,ENV) $(call arg,version,VERSION) $(call opt,fault,FAULT) $(APPROVAL)

deployments-check: setup ## every environment has a release deployment, none with a deployment concurrency limit
	@$(OPS) deployments check

# k6 load-test campaigns
SCALE ?=
RATE_SCALE ?=
.PHONY: load-test
load-test: setup ## k6 scenarios: make load-test ENV=local [SCENARIO=smoke|load|stress|spike|soak|all] [SCALE=0.02] [VERSION=9.9.9 FAULT=latency_ms=800]
	@$(OPS) load-test $(call arg,env,ENV) $(call arg,scenario,SCENARIO) $(call opt,scale,SCALE) \
		$(call opt,rate-scale,RATE_SCALE) $(call opt,version,VERSION) $(call opt,fault,FAULT)

.PHONY: backup backup-verify dr-test
backup: setup ## back up $(ENV)'s database (tiered, encrypted, copied to the DR vault, pruned; RDS snapshots on AWS)
	@$(OPS) backup run $(call arg,env,ENV)

backup-verify: setup ## backup controls of $(ENV): RPO, tiers, checksums, encryption, DR copy, restore
	@$(OPS) backup verify $(call arg,env,ENV)

dr-test: setup ## DR drill: restore the latest backup, verify with great-expectations, RTO and RPO (AWS: restore path and RTO)
	@$(OPS) backup dr-test $(call arg,env,ENV)

.PHONY: reconcile
reconcile: setup ## converge unfinished releases of $(ENV): stable 100 / candidate 0 on a live stable
	@$(OPS) reconcile $(call arg,env,ENV)

# Infra tests on the plans, security scan, cost, predictive scaling
.PHONY: infra-test security-scan cost-estimate cost-report predictive-scaling
infra-test: setup ## plan every AWS root offline and test the plans (encryption, HA, scaling, network, policies)
	@$(OPS) infra test

security-scan: setup ## checkov + trivy on the terraform, rego on plans and manifests, dependency audit; exit 1 on HIGH/CRITICAL
	@$(OPS) infra security-scan

cost-estimate: setup ## monthly cost of $(ENV)'s plan, a line per resource, and the diff against now
	@$(OPS) infra cost-estimate $(call arg,env,ENV)

cost-report: setup ## Cost Explorer spend of $(ENV) by cost allocation tag: table and chart per service and day
	@$(OPS) infra cost-report $(call arg,env,ENV)

predictive-scaling: setup ## forecast 48 h of load from 7 days of history and schedule capacity ahead of it
	@$(OPS) infra predictive-scaling $(call arg,env,ENV)

# SLOs and error budgets (Prometheus history, burn-rate alerts, the release freeze)
.PHONY: slo-status error-budget slo-rules
slo-status: setup ## SLO, objective, window, SLI, budget left, burn rate per window, alert state of $(ENV)
	@$(OPS) slo status $(call arg,env,ENV)

error-budget: setup ## budget left per SLO of $(ENV) and the time to exhaustion at the 1 h burn rate
	@$(OPS) slo budget $(call arg,env,ENV)

slo-rules: setup ## the Prometheus rules generated from deployments/$(ENV).yaml's SLOs
	@$(OPS) slo rules $(call arg,env,ENV)

# Secret rotation (Secrets Manager's four steps; local store or AWS)
SECRET ?=
.PHONY: rotate-secrets
rotate-secrets: setup ## rotate secrets: make rotate-secrets ENV=local [SECRET=db|api-key|jwt]
	@$(OPS) secrets rotate $(call arg,env,ENV) $(call opt,secret,SECRET)

# Feature flags (AppConfig's FeatureFlags format; local store or AppConfig)
FLAG ?=
STRATEGY ?= gradual
.PHONY: ff-list ff-enable ff-disable ff-analytics
ff-list: setup ## flags of $(ENV): name, state, rollout %, last change
	@$(OPS) flags list $(call arg,env,ENV)

ff-enable: setup ## make ff-enable ENV=local FLAG=recommended-feed [STRATEGY=gradual|canary|immediate] [SCALE=0.01]
	@$(call need,FLAG,ff-enable)
	@$(OPS) flags enable $(call arg,env,ENV) $(call arg,flag,FLAG) $(call arg,strategy,STRATEGY) $(call opt,scale,SCALE)

ff-disable: setup ## make ff-disable ENV=local FLAG=recommended-feed
	@$(call need,FLAG,ff-disable)
	@$(OPS) flags disable $(call arg,env,ENV) $(call arg,flag,FLAG)

ff-analytics: setup ## usage, error rate and latency with each flag on vs off
	@$(OPS) flags analytics $(call arg,env,ENV)

# CDN cache (Varnish locally, CloudFront on AWS)
PATHS ?=
.PHONY: invalidate-cache
invalidate-cache: setup ## make invalidate-cache ENV=local PATHS='/static/* /images/*'
	@$(call need,PATHS,invalidate-cache)
	@$(OPS) cdn invalidate $(call arg,env,ENV) $(call arg,paths,PATHS)

# The AWS sandbox: moto server + terraform/environments/aws applied to it + an ALB emulator
AWS_ENV ?= staging
.PHONY: aws-sandbox-up aws-sandbox-status aws-sandbox-down
aws-sandbox-up: setup ## AWS APIs (moto) on 127.0.0.1, the staging root applied, the emulated ALB listener
	@$(OPS) aws-sandbox up $(call arg,env,AWS_ENV)

aws-sandbox-status: setup ## the emulated listener's URL, its weights, the ECS services and task definitions
	@$(OPS) aws-sandbox status $(call arg,env,AWS_ENV)

aws-sandbox-down: setup ## stop moto, the emulator and its tasks, leaving no process behind
	@$(OPS) aws-sandbox down $(call arg,env,AWS_ENV)

