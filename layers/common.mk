# Shared recipe pieces for the layer Makefiles. `sam build` runs them (BuildMethod: makefile) as
#   make --makefile <abs path>/Makefile build-<LogicalId>
# with ARTIFACTS_DIR set to .aws-sam/build/<LogicalId> and the working directory set to a scratch
# copy of the layer's ContentUri (so relative paths in recipes point into that copy).
#
# Lambda's /opt is read-only, so a layer without bytecode recompiles every module on every cold
# start. We ship .pyc compiled with --invalidation-mode unchecked-hash: timestamp-based .pyc would
# be rejected on Lambda (zip keeps mtimes at 2 s resolution, so the recorded source mtime no longer
# matches) and recompiled in memory each cold start; unchecked-hash .pyc are used as they are.
# -d /opt/python makes the compiled file names match where Lambda mounts the layer.

# Lambda's runtime Python: pyenv's 3.12 if there is one (a bare `python3.12` may be a pyenv shim
# that refuses to run), else python3.12 from PATH. Override with `make LAMBDA_PYTHON=...`. Not
# named PYTHON on purpose: a PYTHON=... given to the top-level make reaches this make through
# MAKEFLAGS (sam build passes the environment on) and would compile bytecode for another version.
LAMBDA_PYTHON ?= $(or $(shell pyenv prefix 3.12 2>/dev/null | head -n1 | sed 's,$$,/bin/python3.12,'),$(lastword $(sort $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12))),python3.12)
PY_VERSION := 3.12
# Lambda python3.12/3.13 run on Amazon Linux 2023 (glibc 2.34). numpy/scipy/sklearn/onnx wheels
# need glibc >= 2.27 and onnxruntime >= 2.28, so manylinux2014 (glibc 2.17) finds no wheel; and
# pip 23 does not treat manylinux_2_34 as including older tags, so name 2_28 exactly.
PLATFORM := manylinux_2_28_x86_64
LAYER_PY = $(ARTIFACTS_DIR)/python

# $(call pip_install,<requirements file>)
define pip_install
	$(LAMBDA_PYTHON) -m pip install --quiet --disable-pip-version-check --no-compile --no-warn-script-location \
	  --platform $(PLATFORM) --implementation cp --python-version $(PY_VERSION) \
	  --only-binary=:all: --upgrade --target "$(LAYER_PY)" -r $(1)
endef

# Drop what is never imported at run time: test suites and their data, console scripts (their
# shebang points at the build machine), C/Cython sources, and any bytecode not made below.
define trim
	rm -rf "$(LAYER_PY)/bin"
	find "$(LAYER_PY)" -depth -type d \( -name tests -o -name __pycache__ \) -exec rm -rf {} +
	find "$(LAYER_PY)" -type f \( -name '*.pyc' -o -name '*.pyo' -o -name '*.pyx' -o -name '*.pxd' \
	  -o -name '*.pxi' -o -name '*.c' -o -name '*.cpp' \) -delete
endef

define compile
	$(LAMBDA_PYTHON) -m compileall -q -j 0 --invalidation-mode unchecked-hash -d /opt/python "$(LAYER_PY)"
endef
