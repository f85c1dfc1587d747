# From Hopfield to Transformers — the two commands of the README, each creating its environment by itself.
#
#   make run     execute the notebooks (NOTEBOOKS="00 01", PROFILE=smoke|cpu|gpu) and write build/REPORT.md
#   make test    unit tests of utils/ + every notebook in the smoke profile (nbval) + the student versions
#   make student write the student versions (solutions removed) to build/student/
#   make report  rebuild build/REPORT.md and build/results.png from the last runs (runs nothing)
#
# VENV        where the virtual environment lives (default .venv; CI keeps one outside the clone)
# TORCH_SPEC  how torch is installed, before everything else, so pip never picks a multi-GB CUDA build
#             by accident (e.g. TORCH_SPEC="torch --index-url https://download.pytorch.org/whl/cpu")
# PYTHON      the interpreter that creates the venv (3.11 or 3.12)

PYTHON     ?= python3
VENV       ?= .venv
TORCH_SPEC ?= torch==2.13.0
PROFILE    ?=
NOTEBOOKS  ?=
PYTEST_ARGS ?=

# An offline mirror next to the clone (as on the course's lab and CI machines) is used when present.
export COURSE_DATA_MIRROR ?= $(if $(wildcard ../shared/data/SHA256SUMS),$(abspath ../shared/data),)

PY    := $(VENV)/bin/python
STAMP := $(VENV)/.course-installed

.PHONY: run test env lint clean student report

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check $(TORCH_SPEC)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e . \
	  || $(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

env: $(STAMP)

run: $(STAMP)
	$(PY) -m utils.run $(NOTEBOOKS) $(if $(PROFILE),--profile $(PROFILE))

report: $(STAMP)
	$(PY) -m utils.run --report-only

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

student: $(STAMP)
	$(PY) -m utils.exercises student $(NOTEBOOKS)

lint: $(STAMP)
	$(PY) -m ruff check utils tests notebooks

clean:
	rm -rf build .pytest_cache
