#!/usr/bin/env bash
# helm-check: the Helm chart and the images, checked without a cluster, a Docker engine or any
# download but Go modules (docs/adr/0007-helm-chart-and-images.md).
#
#   1. helm (pinned) via `go install` and tools/k8s-validate via `go build`, into
#      ${MW_CACHE_DIR:-~/.cache/metaweave}/go/bin, reused when present;
#   2. `go test` of the validator;
#   3. for every helm/metaweave/ci/*-values.yaml: `helm lint --strict`, then `helm template` piped
#      through the validator (every object strictly decoded into its Kubernetes API type);
#      and through tools/helm-wiring/check.cjs (the URLs the services call each other on reach
#      the right pods, NetworkPolicies allow those calls, password routes have keys);
#   4. every helm/metaweave/ci-invalid/*.yaml (applied over ci/minimal-values.yaml) must be refused
#      by `helm template` with the message on its "# expect:" line;
#   5. deploy/docker/service.Dockerfile: one stage and CMD per service, every path it copies exists
#      (the compiled ones after `npm run build`: skipped when dist/ is missing), and each service's
#      command starts and stops at configuration validation (exit 78) on an empty environment;
#   6. the environment each scenario renders for each service passes that service's own config
#      validation (apps/<service>/src/config.ts, compiled; skipped when dist/ is missing), and the
#      console's passes its server's (apps/console/server/serve.mjs loadConfig);
#   7. deploy/docker/console.Dockerfile: base, user, CMD, the paths it copies, and its command
#      stopping at configuration validation (exit 78) on an empty environment.
#
# Quiet unless something fails; the last line is "helm-check: N passed, N failed, N skipped".
# Needs bash, Go and Node only.
set -euo pipefail
cd "$(dirname "$0")/.."

HELM_VERSION=v3.22.0
# helm v3.22.0 is built against client-go v0.37 (Kubernetes 1.37): what its Makefile stamps in.
HELM_K8S_MAJOR=1
HELM_K8S_MINOR=37
CHART=helm/metaweave
DOCKERFILE=deploy/docker/service.Dockerfile
CONSOLE_DOCKERFILE=deploy/docker/console.Dockerfile
SERVICES=(exchange-connector nt4-connector join-engine password-service projection-service)

cache="${MW_CACHE_DIR:-$HOME/.cache/metaweave}"
bin="$cache/go/bin"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$bin"

passed=0 failed=0 skipped=0
pass() { passed=$((passed + 1)); [[ -z ${MW_HELM_CHECK_VERBOSE:-} ]] || echo "helm-check: ok   $1" >&2; }
skip() { skipped=$((skipped + 1)); echo "helm-check: skip $1" >&2; }
fail() {
  failed=$((failed + 1))
  echo "helm-check: FAIL $1" >&2
  if [[ -n ${2:-} && -s $2 ]]; then sed -e 's/^/    /' "$2" | head -40 >&2; fi
}

# ---- tools ------------------------------------------------------------------------------------
if ! command -v go >/dev/null 2>&1; then
  if [[ -x /usr/local/go/bin/go ]]; then PATH="$PATH:/usr/local/go/bin"; else echo "helm-check: go not found" >&2; exit 2; fi
fi
# helm and the validator share the Kubernetes modules and their compiled packages (same flags).
export CGO_ENABLED=0
export GOFLAGS="$(go env GOFLAGS) -trimpath -buildvcs=false"
# helm keeps its own state out of the user's home.
export HELM_CACHE_HOME="$work/helm/cache" HELM_CONFIG_HOME="$work/helm/config" HELM_DATA_HOME="$work/helm/data"

validator_sum="$(cat tools/k8s-validate/go.mod tools/k8s-validate/go.sum tools/k8s-validate/*.go | sha256sum | cut -c1-16)"
validator="$bin/k8s-validate-$validator_sum"
if [[ ! -x $validator ]]; then
  started=$SECONDS
  if ! (cd tools/k8s-validate && go build -ldflags='-s -w' -o "$validator" .) >"$work/validator-build.log" 2>&1; then
    fail "build tools/k8s-validate" "$work/validator-build.log"
    echo "helm-check: $passed passed, $failed failed, $skipped skipped"
    exit 1
  fi
  find "$bin" -maxdepth 1 -name 'k8s-validate-*' ! -name "k8s-validate-$validator_sum" -delete
  echo "helm-check: built tools/k8s-validate in $((SECONDS - started)) s" >&2
fi

helm="$bin/helm"
if [[ ! -x $helm || "$("$helm" version --template '{{.Version}}' 2>/dev/null || true)" != "$HELM_VERSION" ]]; then
  started=$SECONDS
  ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    ldflags+=" -X $pkg.k8sVersionMajor=$HELM_K8S_MAJOR -X $pkg.k8sVersionMinor=$HELM_K8S_MINOR"
  done
  if ! GOBIN="$bin" go install -ldflags="$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >"$work/helm-install.log" 2>&1; then
    fail "go install helm $HELM_VERSION" "$work/helm-install.log"
    echo "helm-check: $passed passed, $failed failed, $skipped skipped"
    exit 1
  fi
  echo "helm-check: installed helm $HELM_VERSION in $((SECONDS - started)) s ($helm)" >&2
fi

# ---- the validator's own tests ------------------------------------------------------------------
if (cd tools/k8s-validate && go test ./...) >"$work/go-test.log" 2>&1; then
  pass "go test tools/k8s-validate"
else
  fail "go test tools/k8s-validate" "$work/go-test.log"
fi

# ---- scenarios that must render and validate -----------------------------------------------------
shopt -s nullglob
scenarios=("$CHART"/ci/*-values.yaml)
if ((${#scenarios[@]} == 0)); then fail "no $CHART/ci/*-values.yaml scenario"; fi
for values in "${scenarios[@]}"; do
  name="$(basename "$values" .yaml)"
  if "$helm" lint --strict "$CHART" -f "$values" >"$work/lint-$name.log" 2>&1; then
    pass "helm lint --strict ($name)"
  else
    fail "helm lint --strict -f $values" "$work/lint-$name.log"
  fi
  if ! "$helm" template metaweave "$CHART" --namespace metaweave -f "$values" >"$work/$name.yaml" 2>"$work/template-$name.log"; then
    fail "helm template -f $values" "$work/template-$name.log"
  else
    if "$validator" -env-json "$work/env-$name.json" "$work/$name.yaml" >"$work/validate-$name.log" 2>&1; then
      pass "helm template + k8s-validate ($name)"
    else
      fail "k8s-validate of helm template -f $values" "$work/validate-$name.log"
    fi
    # The calls between the services: URLs reach the right pods, NetworkPolicies allow them.
    if node tools/helm-wiring/check.cjs "$work/$name.yaml" >"$work/wiring-$name.log" 2>&1; then
      pass "service-to-service wiring ($name)"
    else
      fail "service-to-service wiring of helm template -f $values" "$work/wiring-$name.log"
    fi
  fi
done

# ---- values that must be refused, with their message -------------------------------------------
for values in "$CHART"/ci-invalid/*.yaml; do
  name="$(basename "$values" .yaml)"
  expect="$(sed -n 's/^# expect: //p' "$values" | head -1)"
  if [[ -z $expect ]]; then fail "$values has no '# expect: <message>' line"; continue; fi
  if "$helm" template metaweave "$CHART" -f "$CHART/ci/minimal-values.yaml" -f "$values" >"$work/invalid-$name.log" 2>&1; then
    fail "$values was accepted; expected: $expect"
  elif grep -qF -- "$expect" "$work/invalid-$name.log"; then
    pass "refused: $name"
  else
    echo "expected: $expect" >>"$work/invalid-$name.log"
    fail "$values was refused with another message" "$work/invalid-$name.log"
  fi
done

# ---- images -----------------------------------------------------------------------------------
# The Dockerfile's shape: the pinned base, a non-root user, one stage and exact CMD per service.
{
  grep -q '^ARG NODE_IMAGE=node:20-bookworm-slim$' "$DOCKERFILE" || echo "base image is not node:20-bookworm-slim"
  grep -q '^USER 10001:10001$' "$DOCKERFILE" || echo "no USER 10001:10001"
  for svc in "${SERVICES[@]}"; do
    cmd="CMD [\"node\", \"-r\", \"./tools/bin/register-paths.cjs\", \"dist/apps/$svc/src/main.js\"]"
    stage_cmd="$(awk -v s="$svc" '$1 == "FROM" && $NF == s {on = 1; next} $1 == "FROM" {on = 0} on && $1 == "CMD"' "$DOCKERFILE")"
    [[ $stage_cmd == "$cmd" ]] || echo "stage $svc: expected $cmd, found '${stage_cmd}'"
  done
  for app in apps/*/src/main.ts; do
    svc="$(basename "$(dirname "$(dirname "$app")")")"
    [[ $svc == mw ]] && continue
    [[ " ${SERVICES[*]} " == *" $svc "* ]] || echo "apps/$svc has no image (add it to $DOCKERFILE and SERVICES here)"
  done
  # Paths copied from the build context exist and are let in by the .dockerignore allowlist.
  while read -r src; do
    [[ -e $src ]] || { echo "COPY source $src does not exist"; continue; }
    allowed=no
    while read -r rule; do
      [[ $src == "$rule" || $src == "$rule"/* ]] && allowed=yes
    done < <(sed -n 's/^!//p' .dockerignore)
    [[ $allowed == yes ]] || echo "COPY source $src is excluded by .dockerignore"
  done < <(awk '$1 == "COPY" && $2 !~ /^--from=/ { for (i = 2; i < NF; i++) print $i }' "$DOCKERFILE" | sed 's#^\./##')
} >"$work/dockerfile.log"
if [[ -s $work/dockerfile.log ]]; then fail "$DOCKERFILE" "$work/dockerfile.log"; else pass "$DOCKERFILE stages and context"; fi

# The compiled paths each image copies (COPY --from=build /src/<path>) and its command starting.
if [[ ! -d dist/apps ]]; then
  skip "image build output: dist/ is missing (run npm run build first)"
else
  mapfile -t built < <(awk '$1 == "COPY" && $2 == "--from=build" {print $3}' "$DOCKERFILE" | sed 's#^/src/##')
  for svc in "${SERVICES[@]}"; do
    : >"$work/image-$svc.log"
    for path in "${built[@]}"; do
      [[ $path == dist/apps/* && $path != "dist/apps/$svc" ]] && continue
      [[ -e $path ]] || echo "missing build output $path (COPY --from=build /src/$path)" >>"$work/image-$svc.log"
    done
    main="dist/apps/$svc/src/main.js"
    if [[ ! -f $main ]]; then
      echo "missing $main (the image's CMD)" >>"$work/image-$svc.log"
    else
      # The image's command on an empty environment: it must load (path aliases, dependencies)
      # and stop at configuration validation with exit code 78, naming a missing setting.
      set +e
      env -i PATH="$PATH" HOME="$work" timeout 60 node -r ./tools/bin/register-paths.cjs "$main" >"$work/start-$svc.log" 2>&1
      code=$?
      set -e
      if [[ $code -ne 78 ]] || ! grep -q "^$svc: invalid configuration: .*MW_KAFKA_BROKERS" "$work/start-$svc.log"; then
        echo "node -r ./tools/bin/register-paths.cjs $main on an empty environment: exit $code, expected 78 with '$svc: invalid configuration: ... MW_KAFKA_BROKERS'" >>"$work/image-$svc.log"
        head -20 "$work/start-$svc.log" >>"$work/image-$svc.log"
      fi
    fi
    if [[ -s $work/image-$svc.log ]]; then fail "image $svc" "$work/image-$svc.log"; else pass "image $svc: build output and command"; fi
  done
fi

# The console's image: the same base and user, its exact command, the paths it copies from the
# build context, and that command on an empty environment stopping at configuration (exit 78).
{
  grep -q '^ARG NODE_IMAGE=node:20-bookworm-slim$' "$CONSOLE_DOCKERFILE" || echo "base image is not node:20-bookworm-slim"
  grep -q '^USER 10001:10001$' "$CONSOLE_DOCKERFILE" || echo "no USER 10001:10001"
  grep -qx 'CMD \["node", "apps/console/server/serve.mjs"\]' "$CONSOLE_DOCKERFILE" || echo 'no CMD ["node", "apps/console/server/serve.mjs"]'
  while read -r src; do
    [[ -e $src ]] || { echo "COPY source $src does not exist"; continue; }
    allowed=no
    while read -r rule; do
      [[ $src == "$rule" || $src == "$rule"/* ]] && allowed=yes
    done < <(sed -n 's/^!//p' .dockerignore)
    [[ $allowed == yes ]] || echo "COPY source $src is excluded by .dockerignore"
  done < <(awk '$1 == "COPY" && $2 !~ /^--from=/ { for (i = 2; i < NF; i++) print $i }' "$CONSOLE_DOCKERFILE" | sed 's#^\./##')
  set +e
  env -i PATH="$PATH" HOME="$work" timeout 30 node apps/console/server/serve.mjs >"$work/start-console.log" 2>&1
  code=$?
  set -e
  if [[ $code -ne 78 ]] || ! grep -q 'MW_CONSOLE_PROJECTION_URL' "$work/start-console.log"; then
    echo "node apps/console/server/serve.mjs on an empty environment: exit $code, expected 78 naming MW_CONSOLE_PROJECTION_URL"
    head -20 "$work/start-console.log"
  fi
} >"$work/console-dockerfile.log"
if [[ -s $work/console-dockerfile.log ]]; then fail "$CONSOLE_DOCKERFILE" "$work/console-dockerfile.log"; else pass "$CONSOLE_DOCKERFILE stages, context and command"; fi

# The environment every scenario renders, through each service's own configuration schema (the
# compiled apps/<service>/src/config.ts): the chart sets exactly what the services read. Values
# from an existingSecret are not in the rendered stream; they get a well-formed stand-in.
cat >"$work/check-env.cjs" <<'JS'
const fs = require('node:fs');
const path = require('node:path');
const [file, ...services] = process.argv.slice(2);
const { loadConfig } = require('@metaweave/platform');
const crypto = require('node:crypto');
const os = require('node:os');
const pem = (type) => crypto.generateKeyPairSync(type).publicKey.export({ type: 'spki', format: 'pem' }).toString();
// A well-formed stand-in for what comes from an existingSecret (not in the rendered stream).
const standIn = { MW_DATABASE_URL: 'postgres://from-existing-secret/metaweave', MW_AUTH_PUBLIC_KEYS: pem('ed25519') };
// Files the chart mounts from Secrets under /etc/metaweave/ (not on this machine): a well-formed
// stand-in file each, so the service's own check of the file's content runs.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'helm-check-files-'));
const standInFile = (name, text) => { const f = path.join(dir, name); fs.writeFileSync(f, text); return f; };
const nt4Pair = crypto.generateKeyPairSync('x25519');
const fileStandIns = {
  MW_NT4_PASSWORD_KEYS_FILE: () => standInFile('password-keys.json', JSON.stringify([{ kid: 'stand-in', privateKeyPem: nt4Pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) }])),
  MW_TLS_CERT_FILE: () => standInFile('tls.crt', '-----BEGIN CERTIFICATE-----\nstand-in\n-----END CERTIFICATE-----\n'),
  MW_TLS_KEY_FILE: () => standInFile('tls.key', '-----BEGIN PRIVATE KEY-----\nstand-in\n-----END PRIVATE KEY-----\n'),
};
let bad = 0;
(async () => {
for (const { deployment, container, env, fromExistingSecrets } of JSON.parse(fs.readFileSync(file, 'utf8'))) {
  if (container === 'console') {
    // The console's server, with a stand-in for the built app (dist/console, in its image).
    const { loadConfig: loadConsoleConfig } = await import(path.resolve('apps/console/server/serve.mjs'));
    const distDir = fs.mkdtempSync(path.join(dir, 'console-'));
    fs.writeFileSync(path.join(distDir, 'index.html'), '<!doctype html>');
    try {
      loadConsoleConfig({ MW_CONSOLE_DIST: distDir, ...env });
    } catch (error) {
      bad++;
      console.error(`${deployment} (console): ${error.message}`);
    }
    continue;
  }
  if (!services.includes(container)) continue;
  const { configSchema } = require(path.resolve('dist/apps', container, 'src/config.js'));
  const full = { ...env };
  for (const key of fromExistingSecrets) full[key] = standIn[key] ?? 'from-existing-secret';
  for (const [key, make] of Object.entries(fileStandIns)) {
    if (full[key]?.startsWith('/etc/metaweave/') && !fs.existsSync(full[key])) full[key] = make();
  }
  try {
    loadConfig(configSchema, full);
  } catch (error) {
    bad++;
    console.error(`${deployment} (${container}): ${error.message}`);
  }
}
process.exit(bad ? 1 : 0);
})();
JS
for values in "${scenarios[@]}"; do
  name="$(basename "$values" .yaml)"
  if [[ ! -d dist/apps ]]; then
    skip "service config validation of $name: dist/ is missing"
  elif [[ ! -f $work/env-$name.json ]]; then
    fail "service config validation of $name: the scenario did not render"
  elif node -r ./tools/bin/register-paths.cjs "$work/check-env.cjs" "$work/env-$name.json" "${SERVICES[@]}" >"$work/env-$name.log" 2>&1; then
    pass "rendered environment passes the services' config validation ($name)"
  else
    fail "the environment rendered by $values fails the services' own config validation" "$work/env-$name.log"
  fi
done

echo "helm-check: $passed passed, $failed failed, $skipped skipped"
((failed == 0))
