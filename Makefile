# MahlerNet Studio: `make run` opens the app, `make test` runs the whole test suite.
# Both set everything up first (Debian packages, .venv, the project with its test extras).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup system-packages run test lint clean

setup: system-packages $(STAMP)

system-packages:
	@bash scripts/install_system_packages.sh

# Re-install only when the project's requirements change.
$(STAMP): pyproject.toml requirements/constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip setuptools
	$(BIN)/python -m pip install -q -c requirements/constraints.txt -e ".[test]"
	@touch $(STAMP)

run: setup
	$(BIN)/python main.py $(ARGS)

test: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) build *.egg-info
