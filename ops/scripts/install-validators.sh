#!/usr/bin/env bash
# Install the independent validators the catalogue tests run (tests/unit/catalog/test_validators.py):
#   * openapi-spec-validator and check-jsonschema into .venv (pip);
#   * @asyncapi/parser into .tools/node_modules (npm, with the machine's node >= 18).
# Idempotent: each tool is installed only when missing or at another version. A missing node/npm is
# installed from Debian when run as root, else the script fails; a failed install fails the script.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

OPENAPI_SPEC_VALIDATOR_VERSION="0.9.0"
CHECK_JSONSCHEMA_VERSION="0.39.0"
ASYNCAPI_PARSER_VERSION="3.6.3"

py=.venv/bin/python
if [ ! -x "$py" ]; then
  echo "install-validators: no .venv here; run ops/scripts/setup.sh first" >&2
  exit 1
fi

installed_version() {  # the installed version of a Python distribution, or nothing
  "$py" -c "import importlib.metadata as m, sys
try: print(m.version(sys.argv[1]))
except m.PackageNotFoundError: pass" "$1"
}

want=()
[ "$(installed_version openapi-spec-validator)" = "$OPENAPI_SPEC_VALIDATOR_VERSION" ] \
  || want+=("openapi-spec-validator==$OPENAPI_SPEC_VALIDATOR_VERSION")
[ "$(installed_version check-jsonschema)" = "$CHECK_JSONSCHEMA_VERSION" ] \
  || want+=("check-jsonschema==$CHECK_JSONSCHEMA_VERSION")
if [ "${#want[@]}" -gt 0 ]; then
  echo "install-validators: pip install ${want[*]}" >&2
  "$py" -m pip install --quiet "${want[@]}"
fi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "install-validators: installing Debian nodejs and npm for the AsyncAPI parser" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "install-validators: node/npm not found and not root: install nodejs and npm (the AsyncAPI parser test fails without them)" >&2
    exit 1
  fi
fi
tools="$root/.tools"
pkg="$tools/node_modules/@asyncapi/parser/package.json"
have="$(node -e 'try{console.log(require(process.argv[1]).version)}catch(e){}' "$pkg" 2>/dev/null || true)"
if [ "$have" != "$ASYNCAPI_PARSER_VERSION" ]; then
  mkdir -p "$tools"
  [ -f "$tools/package.json" ] || echo '{"name":"simpul-tools","private":true}' >"$tools/package.json"
  echo "install-validators: npm install @asyncapi/parser@$ASYNCAPI_PARSER_VERSION into .tools/" >&2
  npm install --prefix "$tools" --no-audit --no-fund --loglevel=error \
    "@asyncapi/parser@$ASYNCAPI_PARSER_VERSION"
fi
echo "install-validators: openapi-spec-validator $(installed_version openapi-spec-validator)," \
  "check-jsonschema $(installed_version check-jsonschema)," \
  "@asyncapi/parser $(node -e 'console.log(require(process.argv[1]).version)' "$pkg")" >&2
