# Two virtualenvs: the current Airflow 3 and Airflow 2.11. Both are built from PyPI on first use.
PYTHON ?= python3
AIRFLOW3 ?= 3.3.2
AIRFLOW2 ?= 2.11.2
VENV3 := .venv-af3
VENV2 := .venv-af2
TMP := .tmp

.PHONY: demo test lint test-af3 test-af2 bench clean

$(VENV3)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV3)
	$(VENV3)/bin/pip install -q --upgrade pip
	$(VENV3)/bin/pip install -q "apache-airflow==$(AIRFLOW3)" -e ".[test]"
	touch $@

$(VENV2)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV2)
	$(VENV2)/bin/pip install -q --upgrade pip
	$(VENV2)/bin/pip install -q "apache-airflow==$(AIRFLOW2)" -e ".[test]"
	touch $@

## demo: run the example escalation DAG through Airflow against the local emulator
demo: $(VENV3)/.installed
	rm -rf $(TMP)/demo-airflow && mkdir -p $(TMP)/demo-airflow
	AIRFLOW_HOME=$(CURDIR)/$(TMP)/demo-airflow AIRFLOW__CORE__LOAD_EXAMPLES=False \
		$(VENV3)/bin/airflow db migrate > $(TMP)/demo-airflow/db-migrate.log 2>&1
	AIRFLOW_HOME=$(CURDIR)/$(TMP)/demo-airflow $(VENV3)/bin/python scripts/demo.py

## test: lint, type-check, and the whole suite on Airflow 3 and Airflow 2.11
test: lint test-af3 test-af2

lint: $(VENV3)/.installed
	$(VENV3)/bin/ruff check .
	$(VENV3)/bin/ruff format --check .
	$(VENV3)/bin/mypy

test-af3: $(VENV3)/.installed
	$(VENV3)/bin/python -m pytest -q

test-af2: $(VENV2)/.installed
	$(VENV2)/bin/python -m pytest -q

## bench: performance figures (not part of test: timings are noisy)
bench: $(VENV3)/.installed
	$(VENV3)/bin/pip install -q apache-airflow-providers-http "apache-airflow==$(AIRFLOW3)"
	$(VENV3)/bin/python benchmarks/run.py

clean:
	rm -rf $(VENV3) $(VENV2) $(TMP)
