# The two commands of the README. Each runs `setup` first, which installs what a fresh
# Debian 12 machine lacks: the apt packages below, then a virtual environment ($(VENV)) made
# from $(PYTHON), holding the package (editable, with its C extension built) and the test
# and dev tools. Every target then uses the venv's python, never the system's: Debian's
# python3 refuses `pip install` outside a venv (PEP 668, EXTERNALLY-MANAGED).
#
#   make test                        # the venv made from `python3` on the PATH
#   make test PYTHON=/usr/bin/python3
PYTHON ?= python3
VENV ?= .venv
VPYTHON := $(VENV)/bin/python
# The runtimes and engines the tests drive; uidmap (newuidmap/newgidmap) for rootless
# containers with more than one id mapped; strace for benchmarks/exec_path.py; python3-venv,
# python3-dev and gcc to make the venv and compile nsenter/ for Debian's python3.
APT_PACKAGES := busybox-static runc crun libseccomp2 iproute2 procps containerd podman systemd \
	uidmap strace python3-venv python3-dev gcc

.PHONY: setup apt venv example test lint

setup: venv
	@# editable_mode=compat: the checkout is put on the path by a plain .pth line, which the
	@# pyrunc launcher (bin/pyrunc, started with -I -S) reads; the default mode's import hook
	@# would need the whole `site` machinery on every CLI call.
	$(VPYTHON) -m pip install -q --disable-pip-version-check \
		--config-settings editable_mode=compat -e '.[dev]'
	@# An editable install leaves no bytecode; compile it once so that every CLI run (an
	@# engine starts one per operation) does not recompile the library from source.
	$(VPYTHON) -m compileall -q libcontainer specconv pyrunc >/dev/null

apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

# (Re)made when missing, broken, or made from another interpreter than $(PYTHON). No
# --system-site-packages: every dependency comes from pip (libseccomp is loaded from the
# apt library by cffi's ABI mode), so nothing of Debian's python3-* packages is needed.
venv: apt
	@base=$$($(PYTHON) -c 'import os, sys; print(os.path.realpath(sys.executable))') || exit 1; \
	if [ "$$(cat $(VENV)/.made-from 2>/dev/null)" != "$$base" ] || ! $(VPYTHON) -c '' 2>/dev/null; then \
		echo "making $(VENV) from $$base"; \
		rm -rf $(VENV) && $(PYTHON) -m venv $(VENV) && echo "$$base" > $(VENV)/.made-from; \
	fi

example: setup
	$(VPYTHON) examples/run_busybox.py

test: setup
	$(VPYTHON) -m pytest -q tests

lint: setup
	$(VPYTHON) -m ruff check libcontainer specconv pyrunc tests examples benchmarks
	$(VPYTHON) -m ruff format --check libcontainer specconv pyrunc tests examples benchmarks
	$(VPYTHON) -m mypy
