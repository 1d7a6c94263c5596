#!/usr/bin/env bash
# The run step of action.yml: turn the action's inputs (INPUT_* variables) into one
# `conformance run` and exit with its exit code. The api key travels in CONFORMANCE_API_KEY,
# never on a command line.
set -euo pipefail

args=(run --report-dir "${INPUT_REPORT_DIR:-reports/latest}")
[[ -n "${INPUT_BASE_URL:-}" ]] && args+=(--base-url "$INPUT_BASE_URL")
[[ -n "${INPUT_DEPLOYMENT:-}" ]] && args+=(--deployment "$INPUT_DEPLOYMENT")
[[ -n "${INPUT_SPEC:-}" ]] && args+=(--spec "$INPUT_SPEC")
[[ -n "${INPUT_BASELINE:-}" ]] && args+=(--baseline "$INPUT_BASELINE")
case "${INPUT_STRICT:-false}" in
  true | True | TRUE | 1 | yes) args+=(--strict) ;;
  false | False | FALSE | 0 | no | "") ;;
  *) echo "conformance action: strict must be true or false, got '$INPUT_STRICT'" >&2; exit 2 ;;
esac
while IFS= read -r rule; do
  rule="${rule#"${rule%%[![:space:]]*}"}"
  rule="${rule%"${rule##*[![:space:]]}"}"
  [[ -n "$rule" ]] && args+=(--narrow "$rule")
done <<< "${INPUT_NARROW:-}"
if [[ -n "${INPUT_EXTRA_ARGS:-}" ]]; then
  # Shell-style quoting is honoured (xargs splits like a shell), nothing is evaluated.
  mapfile -d '' extra < <(printf '%s' "$INPUT_EXTRA_ARGS" | xargs printf '%s\0')
  args+=("${extra[@]}")
fi
if [[ -n "${INPUT_API_KEY:-}" ]]; then
  export CONFORMANCE_API_KEY="$INPUT_API_KEY"
fi

exec conformance "${args[@]}"
