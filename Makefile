# Entry points for people and CI. `make help` lists them.
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
BUILD := .build
COLLECTIONS := $(CURDIR)/$(BUILD)/collections
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export CONTAINERS_CONF := $(CURDIR)/$(BUILD)/lab/containers.conf
export PATH := $(CURDIR)/$(BIN):$(PATH)
SCENARIOS ?= htcondor
