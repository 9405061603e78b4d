# The two commands of the README. Each installs what a fresh Debian 12 machine lacks first.
PYTHON ?= python3
APT_PACKAGES := busybox-static runc crun libseccomp2 iproute2 procps containerd podman systemd

.PHONY: setup example test lint

setup:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
	$(PYTHON) -m pip install -q --disable-pip-version-check -e '.[dev]'
	@# An editable install leaves no bytecode; compile it once so that every CLI run (an
	@# engine starts one per operation) does not recompile the library from source.
	$(PYTHON) -m compileall -q libcontainer specconv pyrunc >/dev/null

example: setup
	$(PYTHON) examples/run_busybox.py

test: setup
	$(PYTHON) -m pytest -q tests

lint: setup
	$(PYTHON) -m ruff check libcontainer specconv pyrunc tests examples benchmarks
	$(PYTHON) -m mypy
