# Entry points for people and CI; `make help` lists them.
#   make lab    the main job: a lab HTCondor pool in containers, and a job through it
#   make test   every test (CI runs this through .ci/run)
#   make check  the fast loop: lint + unit tests
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
VENV := .venv
BUILD := .build
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/$(BUILD)/collections
export CONTAINERS_CONF := $(CURDIR)/$(BUILD)/lab/containers.conf
# The lab operator's registry of onboarded endpoints is vault-encrypted with a lab password made on first use.
export ANSIBLE_VAULT_PASSWORD_FILE := $(CURDIR)/scripts/lab-vault-password.sh
export ANSIBLE_FORCE_COLOR := false
export PY_COLORS := 0
SCENARIOS ?= $(notdir $(patsubst %/molecule.yml,%,$(wildcard molecule/*/molecule.yml)))

.PHONY: help bootstrap collection lab-host lab-images lab lab-destroy check lint unit integration sanity package docs molecule faults test bench-htcondor-pool bench-rabbitmq-queues \
	bench-pulsar-endpoint bench-endpoint-converge bench-lab-connection bench-galaxy-network bench-network-converge \
	bench-network-routing bench-tes-list bench-tes-network bench-tpv-lint

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

bootstrap: ## install podman, runc, debootstrap and the Python tools (.venv)
	@scripts/bootstrap.sh

collection: bootstrap ## build the collection tarball and install it into .build/collections
	@scripts/install-collection.sh

lab-host: bootstrap ## podman settings, the Debian 13 lab image and the scenarios' volumes
	@scripts/lab-containers-conf.sh $(CONTAINERS_CONF)
	@scripts/lab-image.sh
	@scripts/lab-volumes.sh

lab-images: collection lab-host ## bake the lab's images: endpoint nodes (htcondor, pulsar, cvmfs), the Galaxy host (install phases; podman commit), the tools' job image
	@scripts/lab-images.sh

lab: collection lab-host ## main job: the lab network (two endpoints, the second joined by onboarding), then jobs through it
	ansible-playbook -i inventories/lab scripts/lab-containers.yml
	ansible-playbook -i inventories/lab-site scripts/lab-containers.yml
	ansible-playbook -i inventories/lab esg.pulsar_network.site
	ansible-playbook -i inventories/lab esg.pulsar_network.onboard_endpoint -e onboard_endpoint=lab_site \
	  -e onboard_staging_root=/srv/pulsar/staging -e onboard_cores=2 -e onboard_mem=2 -e onboard_join_dir=$(CURDIR)/$(BUILD)/lab
	ansible-playbook -i inventories/lab-site esg.pulsar_network.pulsar_endpoint -e @$(BUILD)/lab/join-lab_site.yml
	ansible-playbook -i inventories/lab esg.pulsar_network.galaxy_job_check
	ansible-playbook -i inventories/lab scripts/lab-network-demo.yml
	ansible-playbook -i inventories/lab esg.pulsar_network.network_health

lab-destroy: ## remove the lab's containers
	-podman rm -f $$(podman ps -aq --filter name=pn-lab-) >/dev/null 2>&1
	-rm -f inventories/lab/pulsar_network_onboarded.yml $(BUILD)/lab/join-*.yml
	-podman network rm pulsar-network-lab >/dev/null 2>&1
	-podman volume rm pulsar-network-lab-shared pulsar-network-lab-site-staging >/dev/null 2>&1

check: lint unit ## fast loop: lint + unit tests

lint: collection ## yamllint, ansible-lint (production profile), changelog fragments
	yamllint --strict .
	ansible-lint --profile production
	antsibull-changelog lint

unit: collection ## pytest unit tests: the collection's, then the TES service's
	pytest tests/unit
	pytest services/tes/tests

integration: collection ## tests that run ansible-playbook on the installed roles: preflight table, phase tags, -vvv secrets
	pytest tests/integration

sanity: bootstrap ## ansible-test sanity (in its own virtualenvs)
	scripts/sanity.sh

molecule: collection lab-host ## every molecule scenario; network in the background beside the others (SCENARIOS=... to pick)
	scripts/lab-images.sh node
	$(if $(filter network,$(SCENARIOS)),scripts/beside-network.sh) scripts/molecule-all.sh $(filter-out network,$(SCENARIOS))

faults: collection lab-host lab-images ## the fault matrix on the network scenario (converged if it is not), table in docs/reliability.md
	molecule converge -s network
	molecule side-effect -s network

package: collection ## galaxy-importer on the tarball; install it into ansible-core alone, with and without dependencies; ansible-builder
	scripts/package-check.sh

docs: collection ## render the docs as HTML with antsibull-docs and Sphinx; any warning fails (.build/docs/site/build/html)
	scripts/docs.sh

# The network scenario starts first and runs in the background beside all the rest (scripts/beside-network.sh).
# `make`, not $(MAKE): GNU make runs a line with $(MAKE) even under `make -n`, which would start the scenarios.
test: collection lab-host ## everything CI runs
	$(if $(filter network,$(SCENARIOS)),scripts/beside-network.sh) make check integration sanity package docs molecule \
	  SCENARIOS="$(filter-out network,$(SCENARIOS))"

bench-htcondor-pool: lab ## benchmark htcondor_pool_info and the htcondor_pool inventory at 5,000 and 20,000 slots
	python tests/benchmarks/htcondor_pool.py

bench-rabbitmq-queues: collection lab-host ## benchmark rabbitmq_queue_info, 10/100/1000 queues, AMQP vs management API
	molecule create -s rabbitmq && molecule prepare -s rabbitmq && molecule converge -s rabbitmq
	eph=$$(ls -d ~/.ansible/tmp/molecule.*.rabbitmq | head -n1); \
	python tests/benchmarks/rabbitmq_queues.py --ca-file $$eph/ca/ca.crt \
	  --broker $$(podman inspect mq-broker --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}') \
	  --password site-a-lab-password --monitoring-password monitoring-lab-password
	molecule destroy -s rabbitmq

bench-pulsar-endpoint: lab ## benchmark no-op jobs through Pulsar vs condor_submit (median of 10) and 50 jobs at once
	python tests/benchmarks/pulsar_endpoint_jobs.py

bench-endpoint-converge: collection lab-host ## time the endpoint converge and its re-run, from bare containers and from the node image
	scripts/lab-images.sh node
	python tests/benchmarks/endpoint_converge.py --nodes bare,baked

bench-galaxy-network: lab ## benchmark a Galaxy job through Pulsar vs the same tool on Galaxy's local runner (median of 5)
	python tests/benchmarks/galaxy_network_jobs.py

bench-lab-connection: collection lab-host ## time no-op tasks on a lab container over the podman connection and over SSH
	python tests/benchmarks/lab_connection.py

bench-network-converge: collection lab-host lab-images ## time the network scenario's converge (from the lab's images) and its re-run
	python tests/benchmarks/endpoint_converge.py --scenario network

bench-tes-list: bootstrap ## the TES service's GET /tasks with 10,000 tasks in its store (SQLite, PostgreSQL): page latency and memory
	python tests/benchmarks/tes_list.py

bench-tes-network: collection lab-host ## TES on the tes scenario: echo latency against pulsar_job, 200 tasks at once
	scripts/lab-images.sh node
	molecule converge -s tes
	python tests/benchmarks/tes_network.py

bench-network-routing: collection lab-host lab-images ## a burst of 20 jobs on two endpoints against one, and the failover time
	molecule create -s network && molecule prepare -s network && molecule converge -s network
	python tests/benchmarks/network_routing.py; rc=$$?; molecule destroy -s network; exit $$rc

bench-tpv-lint: collection lab-host ## tpv lint on a new Galaxy host with the role's mypy settings and with mypy's defaults
	scripts/lab-images.sh galaxy
	python tests/benchmarks/tpv_lint.py
