# Infrastructure targets (template, tools, build, validation). Included from the top Makefile.
#   make tools         aws-sam-cli and checkov, each in its own venv under $(TOOLS) (they pin
#                      conflicting boto3 versions), linked into $(TOOLS)/bin
#   make build         sam build (layers compiled, trimmed) into .aws-sam/build
#   make validate      cfn-lint + sam validate --lint + checkov on template.yaml
#   make bundle-sizes  build, then per-function size (function + its layers), unzipped and zipped
#   make test-infra    tests/infrastructure (linters, template, and a sam build of the bundles)

VENV ?= .venv
TOOLS ?= .venv-tools
SAM_CLI_VERSION ?= 1.170.0
CHECKOV_VERSION ?= 3.3.30
TOOLS_STAMP := $(TOOLS)/.stamp-sam$(SAM_CLI_VERSION)-checkov$(CHECKOV_VERSION)

# Lambda's runtime Python (3.12): sam build needs it on PATH. Prefer pyenv, then the usual
# pyenv location, then whatever python3.12 is on PATH.
PY312_BIN ?= $(strip $(or \
  $(shell pyenv prefix 3.12 2>/dev/null | head -n1 | sed 's,$$,/bin,'), \
  $(lastword $(sort $(wildcard $(HOME)/.pyenv/versions/3.12*/bin))), \
  $(patsubst %/python3.12,%,$(shell command -v python3.12 2>/dev/null))))
SAM_ENV := PATH="$(abspath $(PY312_BIN)):$$PATH" SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1}

.PHONY: tools build validate bundle-sizes test-infra

tools: $(TOOLS_STAMP)

$(TOOLS_STAMP):
	@test -x "$(PY312_BIN)/python3.12" || { echo "python3.12 not found (pyenv install 3.12?)"; exit 1; }
	rm -rf "$(TOOLS)"
	mkdir -p "$(TOOLS)/bin"
	"$(PY312_BIN)/python3.12" -m venv "$(TOOLS)/sam"
	"$(PY312_BIN)/python3.12" -m venv "$(TOOLS)/checkov"
	"$(TOOLS)/sam/bin/pip" install --quiet --disable-pip-version-check aws-sam-cli==$(SAM_CLI_VERSION)
	"$(TOOLS)/checkov/bin/pip" install --quiet --disable-pip-version-check checkov==$(CHECKOV_VERSION)
	ln -sf ../sam/bin/sam "$(TOOLS)/bin/sam"
	ln -sf ../checkov/bin/checkov "$(TOOLS)/bin/checkov"
	touch "$@"

build: $(TOOLS_STAMP)
	$(SAM_ENV) "$(TOOLS)/bin/sam" build --template-file template.yaml

validate: $(TOOLS_STAMP)
	$(VENV)/bin/cfn-lint template.yaml
	$(SAM_ENV) "$(TOOLS)/bin/sam" validate --lint --template-file template.yaml
	"$(TOOLS)/bin/checkov" --quiet --compact --skip-download --framework cloudformation -f template.yaml

bundle-sizes: build
	$(VENV)/bin/python tests/infrastructure/bundle_sizes.py --json .aws-sam/bundle-sizes.json

test-infra: $(TOOLS_STAMP)
	OMP_NUM_THREADS=1 $(VENV)/bin/python -m pytest tests/infrastructure -q
