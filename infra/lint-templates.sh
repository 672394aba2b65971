#!/usr/bin/env bash
# cfn-lint over the synthesized dev and prod templates; any error or warning fails (.cfnlintrc lists the ignored ones).
set -euo pipefail
cd "$(dirname "$0")/.."
# `--version`, not `command -v`: a pyenv shim exists even where the active Python lacks cfn-lint.
if ! cfn-lint --version >/dev/null 2>&1; then
  echo "cfn-lint is not installed: pip install cfn-lint (the CI machine image has it)" >&2
  exit 1
fi
npx cdk synth --quiet -c stage=prod -o cdk.out.prod >/dev/null
cfn-lint --non-zero-exit-code warning -- cdk.out/*.template.json cdk.out.prod/*.template.json
echo "cfn-lint: dev and prod templates clean"
