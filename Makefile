# StarPath: `make run` installs and serves the demo; `make test` runs the suite.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
AS_OF ?= 2021-03-15
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install run test lint format db demo clean

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

db: install
	$(BIN)/flask --app wsgi db upgrade

demo: db
	$(BIN)/flask --app wsgi demo load

# Web, one rq worker and the scheduler, all on the embedded Redis (instance/redis/).
run: demo
	STARPATH_AS_OF=$(AS_OF) HOST=$(HOST) PORT=$(PORT) $(BIN)/python scripts/run_dev.py

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) instance
