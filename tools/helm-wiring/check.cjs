#!/usr/bin/env node
// Checks the service-to-service wiring of a rendered chart (helm template output), the paths the
// services call each other on (docs/adr/0080-helm-keys-auth-and-service-to-service.md):
//   - the projection service's MW_CONNECTOR_URLS names every rendered connector under the name that
//     connector uses, and each URL reaches that connector's pods through a rendered Service;
//   - MW_JOIN_ENGINE_URL and the console's upstreams reach the join engine / API service pods;
//   - every MW_PASSWORD_CONNECTORS entry is a rendered NT4 connector of that domain with password
//     keys mounted (else its commands could never be opened);
//   - with NetworkPolicies, each of those calls is allowed by the caller's egress and the callee's
//     ingress (pod selectors in the release's namespace; other peers do not count);
//   - every *_FILE setting with an absolute path, in every container of every workload (Deployments,
//     Jobs, CronJobs), names a file a volume of that pod puts there.
// Usage: node tools/helm-wiring/check.cjs rendered.yaml   (used by scripts/helm-check.sh)
'use strict';
const fs = require('node:fs');
const YAML = require('yaml');

const docs = YAML.parseAllDocuments(fs.readFileSync(process.argv[2], 'utf8')).map((d) => d.toJS()).filter(Boolean);
const of = (kind) => docs.filter((d) => d.kind === kind);
const problems = [];
const matches = (selector, labels) => Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);

const deployments = of('Deployment').map((d) => {
  const c = d.spec.template.spec.containers[0];
  const env = Object.fromEntries((c.env ?? []).filter((e) => 'value' in e).map((e) => [e.name, String(e.value)]));
  return { name: d.metadata.name, container: c.name, labels: d.spec.template.metadata.labels, env, ports: Object.fromEntries((c.ports ?? []).map((p) => [p.name, p.containerPort])) };
});
const services = of('Service');
const policies = of('NetworkPolicy');
const connectorOf = (d) =>
  d.container === 'exchange-connector' ? d.env.MW_CONNECTOR_NAME ?? 'exchange' : d.container === 'nt4-connector' ? d.env.MW_CONNECTOR_NAME ?? `nt4-${d.env.MW_NT4_DOMAIN.toLowerCase()}` : null;

/** The pods and container port a URL reaches through a rendered Service, or a problem. */
function resolve(url, what) {
  const u = new URL(url);
  const svcName = u.hostname.split('.')[0];
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  const svc = services.find((s) => s.metadata.name === svcName);
  if (!svc) return problems.push(`${what}: ${url}: no rendered Service ${svcName}`), null;
  const sp = svc.spec.ports.find((p) => p.port === port);
  if (!sp) return problems.push(`${what}: ${url}: Service ${svcName} has no port ${port}`), null;
  const targets = deployments.filter((d) => matches(svc.spec.selector, d.labels));
  if (targets.length !== 1) return problems.push(`${what}: ${url}: Service ${svcName} selects ${targets.length} Deployments, expected 1`), null;
  const target = targets[0];
  const containerPort = typeof sp.targetPort === 'number' ? sp.targetPort : target.ports[sp.targetPort];
  if (!containerPort) return problems.push(`${what}: ${url}: Deployment ${target.name} has no port ${sp.targetPort}`), null;
  return { target, containerPort, portName: Object.keys(target.ports).find((n) => target.ports[n] === containerPort) };
}

const portOk = (ports, number, name) => !ports || ports.length === 0 || ports.some((p) => p.port === number || p.port === name);
const peerOk = (peers, labels) => !peers || peers.length === 0 || peers.some((p) => p.podSelector && !p.namespaceSelector && !p.ipBlock && matches(p.podSelector.matchLabels, labels));

/** With NetworkPolicies on the pods, is caller → target:port allowed both ways? */
function allowed(caller, target, containerPort, portName, what) {
  for (const np of policies.filter((p) => matches(p.spec.podSelector.matchLabels, target.labels) && p.spec.policyTypes.includes('Ingress'))) {
    if (!(np.spec.ingress ?? []).some((r) => portOk(r.ports, containerPort, portName) && peerOk(r.from, caller.labels))) {
      problems.push(`${what}: NetworkPolicy ${np.metadata.name} does not let ${caller.name} in on ${portName}`);
    }
  }
  for (const np of policies.filter((p) => matches(p.spec.podSelector.matchLabels, caller.labels) && p.spec.policyTypes.includes('Egress'))) {
    if (!(np.spec.egress ?? []).some((r) => portOk(r.ports, containerPort, portName) && peerOk(r.to, target.labels))) {
      problems.push(`${what}: NetworkPolicy ${np.metadata.name} does not let ${caller.name} out to ${target.name}:${containerPort}`);
    }
  }
}

function call(caller, url, what, expect) {
  const r = resolve(url, what);
  if (!r) return;
  if (expect && !expect(r.target)) problems.push(`${what}: ${url} reaches ${r.target.name}, not the expected workload`);
  allowed(caller, r.target, r.containerPort, r.portName, what);
}

const connectors = deployments.filter((d) => connectorOf(d));
for (const p of deployments.filter((d) => d.container === 'projection-service')) {
  const listed = new Map(
    (p.env.MW_CONNECTOR_URLS ?? '').split(',').filter(Boolean).map((part) => [part.slice(0, part.indexOf('=')), part.slice(part.indexOf('=') + 1)]),
  );
  for (const c of connectors) if (!listed.has(connectorOf(c))) problems.push(`${p.name}: MW_CONNECTOR_URLS has no entry for ${connectorOf(c)} (${c.name})`);
  for (const [name, url] of listed) call(p, url, `${p.name} MW_CONNECTOR_URLS ${name}`, (t) => connectorOf(t) === name);
  const engine = deployments.find((d) => d.container === 'join-engine');
  if (engine && !p.env.MW_JOIN_ENGINE_URL) problems.push(`${p.name}: no MW_JOIN_ENGINE_URL though the join engine is deployed`);
  if (p.env.MW_JOIN_ENGINE_URL) call(p, p.env.MW_JOIN_ENGINE_URL, `${p.name} MW_JOIN_ENGINE_URL`, (t) => t.container === 'join-engine');
}
for (const c of deployments.filter((d) => d.container === 'console')) {
  call(c, c.env.MW_CONSOLE_PROJECTION_URL, `${c.name} MW_CONSOLE_PROJECTION_URL`, (t) => t.container === 'projection-service');
  if (c.env.MW_CONSOLE_PASSWORD_URL) call(c, c.env.MW_CONSOLE_PASSWORD_URL, `${c.name} MW_CONSOLE_PASSWORD_URL`, (t) => t.container === 'password-service');
}
for (const p of deployments.filter((d) => d.container === 'password-service')) {
  for (const entry of JSON.parse(p.env.MW_PASSWORD_CONNECTORS ?? '[]')) {
    const nt4 = connectors.find((d) => d.container === 'nt4-connector' && connectorOf(d) === entry.connector);
    if (!nt4) problems.push(`${p.name}: MW_PASSWORD_CONNECTORS names ${entry.connector}, which no NT4 Deployment is`);
    else if (nt4.env.MW_NT4_DOMAIN.toUpperCase() !== entry.domain.toUpperCase()) problems.push(`${p.name}: ${entry.connector} is domain ${nt4.env.MW_NT4_DOMAIN}, not ${entry.domain}`);
    else if (!nt4.env.MW_NT4_PASSWORD_KEYS_FILE) problems.push(`${p.name}: ${entry.connector} gets password commands but ${nt4.name} has no password keys mounted`);
  }
}

/** The files a volume mounted at mountPath provides: null = any (no item list). */
function volumeFiles(volume) {
  const items = (src) => (src?.items ? src.items.map((i) => i.path) : null);
  if (volume.secret) return items(volume.secret);
  if (volume.configMap) return items(volume.configMap);
  if (volume.projected) {
    const all = volume.projected.sources.map((src) => items(src.secret ?? src.configMap));
    return all.includes(null) ? null : all.flat();
  }
  return null;
}
for (const w of docs.filter((d) => ['Deployment', 'Job', 'CronJob'].includes(d.kind))) {
  const pod = w.kind === 'CronJob' ? w.spec.jobTemplate.spec.template.spec : w.spec.template.spec;
  for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
    for (const e of c.env ?? []) {
      if (!e.name.endsWith('_FILE') || typeof e.value !== 'string' || !e.value.startsWith('/')) continue;
      const mount = (c.volumeMounts ?? []).find((m) => e.value.startsWith(`${m.mountPath.replace(/\/$/, '')}/`));
      if (!mount) {
        problems.push(`${w.kind} ${w.metadata.name} (${c.name}): ${e.name}=${e.value} is not under any volume mount`);
        continue;
      }
      const files = volumeFiles((pod.volumes ?? []).find((v) => v.name === mount.name) ?? {});
      const rel = e.value.slice(mount.mountPath.replace(/\/$/, '').length + 1);
      if (files && !files.includes(rel)) problems.push(`${w.kind} ${w.metadata.name} (${c.name}): ${e.name}=${e.value}: volume ${mount.name} has no item ${rel}`);
    }
  }
}

for (const p of problems) console.error(p);
process.exit(problems.length ? 1 : 0);
