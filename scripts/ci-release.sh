#!/usr/bin/env bash
# CI entry point for a release: runs the `release/<env>` deployment on the Prefect server at
# PREFECT_API_URL (with PREFECT_API_KEY for Prefect Cloud) and waits for its outcome.
#   scripts/ci-release.sh <env> <version> [--auto-approve] [--fault error_rate=0.05]
# Exit 0: promoted; 1: rolled back, refused or cancelled; 2: bad input.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 2 ]; then
  echo "error: usage: scripts/ci-release.sh <env> <version> [--auto-approve]" >&2
  exit 2
fi
env_name=$1 version=$2
shift 2
export PATH="$HOME/.local/bin:$PATH"
exec uv run --frozen petswipe-ops ci-release --env "$env_name" --version "$version" "$@"
