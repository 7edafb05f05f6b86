#!/usr/bin/env node
// verify.mjs [--deploy-dir dir] [--build] [--json]: checks deploy/ without a
// Docker engine or a cluster. It runs nothing in containers; it checks what can
// be checked from the files:
//  - every YAML file parses (and `kubectl kustomize` builds each overlay, when kubectl is installed);
//  - each service has a multi-stage, non-root Dockerfile with a HEALTHCHECK whose
//    entrypoint is the file the Nx build writes for it (with --build: the build is
//    run and the entrypoint, its relative requires and the dashboard assets must exist);
//  - compose and the kustomize base wire each service with env variables its
//    shipped code reads, set every variable distributed mode needs, and give it
//    health checks / probes on the paths service-kit serves;
//  - HPAs for serving and training, a NATS StatefulSet with JetStream.
// Exit 0 when every check passes, 1 otherwise; each failure names the file and what is wrong.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const deployDir = resolve(option('--deploy-dir') ?? join(root, 'deploy'));

const failures = [];
const passed = [];
const check = (ok, what, detail = '') => {
  if (ok) passed.push(what);
  else failures.push(detail ? `${what}: ${detail}` : what);
  return ok;
};
const rel = (p) => relative(deployDir, p) || '.';

// ---- the services and the env variables their shipped code reads -------------------------------

/** Services are the directories under services/ with a src/main.ts (what build.mjs turns into dist/services/<s>/src/main.js). */
const services = readdirSync(join(root, 'services')).filter((s) => existsSync(join(root, 'services', s, 'src/main.ts')));
const envKey = (s) => s.toUpperCase().replaceAll('-', '_');
const httpPortVar = (s) => `MLP_${envKey(s)}_PORT`;

function* tsFiles(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (!['testing', 'contract', 'node_modules'].includes(name)) yield* tsFiles(path);
    } else if (name.endsWith('.ts') && !name.endsWith('.spec.ts') && !name.endsWith('.d.ts') && !name.includes('.fixture.')) yield path;
  }
}

const VAR = /\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g;
// `MLP_${envKey(service)}_PORT`-style names, built per service at run time.
const TEMPLATE = /MLP_\$\{[^}]+\}_([A-Z][A-Z0-9_]*)/g;
const libNames = () => readdirSync(join(root, 'libs')).filter((l) => l !== 'testing');

function namesIn(files) {
  const names = new Set();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(VAR)) names.add(m[0]);
    for (const m of text.matchAll(TEMPLATE)) for (const s of services) names.add(`MLP_${envKey(s)}_${m[1]}`);
  }
  return names;
}
const libVars = namesIn(libNames().flatMap((l) => [...tsFiles(join(root, 'libs', l, 'src'))]));
/** Names that occur in the code an image of `s` ships: its own sources and the libraries (as build.mjs compiles them). */
const readBy = Object.fromEntries(services.map((s) => [s, new Set([...libVars, ...namesIn(tsFiles(join(root, 'services', s, 'src')))])]));

/** What a service needs set in distributed mode (the images and manifests run MLP_TRANSPORT=nats with auth on). */
const REQUIRED = ['MLP_TRANSPORT', 'NATS_URL', 'EVENTSTORE_URL', 'ARTIFACTS_URL', 'S3_ENDPOINT', 'S3_ACCESS_KEY', 'S3_SECRET_KEY', 'MLP_BIND_HOST', 'MLP_ADMIN_KEY'];
const NATS_CREDENTIALS = [['MLP_NATS_TOKEN'], ['MLP_NATS_USER', 'MLP_NATS_PASSWORD'], ['MLP_NATS_CREDS']];

/** The environment each deployed service gets (compose: `<NAME>` where compose interpolates; k8s: the dev Secret's values). */
const environments = {};
function checkEnv(where, service, env) {
  environments[where] = { service, env };
  const names = Object.keys(env);
  const unknown = names.filter((n) => !readBy[service].has(n));
  check(unknown.length === 0, `${where}: every variable is read by ${service}`, `not read anywhere in services/${service}/src or libs: ${unknown.join(', ')}`);
  const missing = REQUIRED.filter((n) => !names.includes(n));
  check(missing.length === 0, `${where}: the variables distributed mode needs are set`, `missing ${missing.join(', ')}`);
  check(env.MLP_TRANSPORT === undefined || env.MLP_TRANSPORT === 'nats', `${where}: MLP_TRANSPORT is nats`, `got ${env.MLP_TRANSPORT}`);
  const kinds = NATS_CREDENTIALS.filter((kind) => kind.some((n) => names.includes(n)));
  check(kinds.length === 1 && kinds[0].every((n) => names.includes(n)), `${where}: exactly one kind of NATS credential`, `got ${kinds.flat().join(', ') || 'none'}`);
}

// ---- YAML -----------------------------------------------------------------------------------------

function* yamlFiles(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* yamlFiles(path);
    else if (/\.ya?ml$/.test(name)) yield path;
  }
}
/** The documents of a YAML file (merge keys `<<` on, as compose reads them); parse errors are failures. */
function loadYaml(path) {
  const docs = parseAllDocuments(readFileSync(path, 'utf8'), { merge: true });
  const errors = docs.flatMap((d) => d.errors.map((e) => e.message.split('\n')[0]));
  check(errors.length === 0, `${rel(path)} parses`, errors.join('; '));
  return docs.filter((d) => d.errors.length === 0).map((d) => d.toJS({ maxAliasCount: -1 })).filter(Boolean);
}
const parsed = new Map();
for (const file of yamlFiles(deployDir)) parsed.set(file, loadYaml(file));
const docsOf = (path) => parsed.get(path) ?? (existsSync(path) ? loadYaml(path) : []);

// ---- Dockerfiles ----------------------------------------------------------------------------------

const entrypoint = (s) => `dist/services/${s}/src/main.js`;
for (const s of services) {
  const path = join(deployDir, 'docker', `${s}.Dockerfile`);
  if (!check(existsSync(path), `docker/${s}.Dockerfile exists`)) continue;
  const text = readFileSync(path, 'utf8').replace(/\\\n/g, ' ');
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const stages = lines.map((l, i) => [l, i]).filter(([l]) => /^FROM\s/i.test(l));
  const where = `docker/${s}.Dockerfile`;
  check(stages.length >= 2, `${where}: multi-stage`, `${stages.length} FROM line(s)`);
  const runtime = lines.slice(stages.at(-1)?.[1] ?? 0);
  const build = lines.slice(0, stages.at(-1)?.[1] ?? 0);
  check(build.some((l) => l.includes(`tools/scripts/build.mjs services/${s}`)), `${where}: the build stage runs the Nx build of services/${s}`);
  check(runtime.some((l) => /^COPY\s+--from=\S+\s+\S*dist\b/.test(l)), `${where}: the runtime stage copies the build output (dist)`);
  const user = runtime.filter((l) => /^USER\s/i.test(l)).at(-1)?.split(/\s+/)[1];
  check(user !== undefined && !/^(root|0)(:|$)/.test(user), `${where}: the runtime stage runs as a non-root user`, `USER ${user ?? '(none)'}`);
  const health = runtime.find((l) => /^HEALTHCHECK\s/i.test(l)) ?? '';
  check(/\/health\/(live|ready)/.test(health) && health.includes(httpPortVar(s)), `${where}: HEALTHCHECK calls /health on ${httpPortVar(s)}`);
  const cmd = runtime.filter((l) => /^(CMD|ENTRYPOINT)\s/i.test(l)).at(-1) ?? '';
  let argv = [];
  try {
    argv = JSON.parse(cmd.replace(/^(CMD|ENTRYPOINT)\s+/i, ''));
  } catch {
    // shell form: reported below
  }
  check(argv[0] === 'node' && argv[1] === entrypoint(s), `${where}: CMD runs ${entrypoint(s)}`, `got ${cmd || '(none)'}`);
  // Everything the build stage copies from the context must exist in the repo.
  for (const l of build.filter((l) => /^COPY\s/i.test(l) && !l.includes('--from='))) {
    const sources = l.split(/\s+/).slice(1, -1).filter((a) => !a.startsWith('--'));
    for (const src of sources) check(existsSync(join(root, src)), `${where}: COPY source ${src} exists`);
  }
  // The entrypoint is the compiled services/<s>/src/main.ts (build.mjs maps <dir>/x.ts to dist/<dir>/x.js).
  check(existsSync(join(root, entrypoint(s).replace(/^dist\//, '').replace(/\.js$/, '.ts'))), `${where}: ${entrypoint(s)} is built from services/${s}/src/main.ts`);
}

// The context is the repo root: keep the host's node_modules, dist and git history out of it.
const ignore = existsSync(join(root, '.dockerignore')) ? readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()) : [];
check(['node_modules', 'dist', '.git'].every((p) => ignore.includes(p)), '.dockerignore leaves node_modules, dist and .git out of the build context');

// With --build: run the build the images run and check its output.
if (flag('--build')) {
  execFileSync(process.execPath, [join(root, 'tools/scripts/build.mjs'), ...services.map((s) => `services/${s}`)], { cwd: root, stdio: 'pipe' });
  const requires = /require\("(\.{1,2}\/[^"]+)"\)/g;
  for (const s of services) {
    const main = join(root, entrypoint(s));
    if (!check(existsSync(main), `build: ${entrypoint(s)} exists`)) continue;
    // Walk the relative requires from main.js: each must exist, and stay inside what the image copies
    // (the service's own directory and libs/), since its Dockerfile copies only services/<s>.
    const seen = new Set();
    const queue = [main];
    const broken = [];
    while (queue.length) {
      const file = queue.pop();
      if (seen.has(file)) continue;
      seen.add(file);
      for (const m of readFileSync(file, 'utf8').matchAll(requires)) {
        const target = [resolve(dirname(file), m[1]), resolve(dirname(file), `${m[1]}.js`), resolve(dirname(file), m[1], 'index.js')].find((p) => existsSync(p) && statSync(p).isFile());
        const inside = target && (target.startsWith(join(root, 'dist/libs/')) || target.startsWith(join(root, `dist/services/${s}/`)));
        if (!target || !inside) broken.push(`${relative(root, file)} → ${m[1]}`);
        else queue.push(target);
      }
    }
    check(broken.length === 0, `build: every module ${entrypoint(s)} requires is in the image (${seen.size} files)`, broken.slice(0, 5).join(', '));
  }
  if (services.includes('monitoring')) {
    for (const asset of ['index.html', 'app.js', 'app.css']) {
      check(existsSync(join(root, 'dist/services/monitoring/src/dashboard/assets', asset)), `build: the dashboard's ${asset} ships with monitoring`);
    }
  }
}

// ---- docker-compose.yml ---------------------------------------------------------------------------

const composePath = join(deployDir, 'docker-compose.yml');
const compose = docsOf(composePath)[0] ?? {};
const composeServices = compose.services ?? {};
// Compose interpolation with nothing exported: `${X:-default}` is the default, `${X}` / `${X:?error}` stand as `<X>` (the operator sets them).
const interpolated = (v) => String(v).replace(/\$\{([A-Z0-9_]+)(?::?-([^}]*)|:?\?[^}]*)?\}/g, (_, name, fallback) => fallback ?? `<${name}>`);
for (const infra of ['nats', 'minio', 'eventstoredb', 'prometheus']) {
  check(composeServices[infra]?.healthcheck?.test !== undefined, `compose: ${infra} with a healthcheck`);
}
const natsCommand = (composeServices.nats?.command ?? []).map(interpolated).join(' ');
check(/(^|\s)(-js|--jetstream)(\s|$)/.test(natsCommand), 'compose: NATS runs JetStream');
check(/--auth\s+<MLP_NATS_TOKEN>/.test(natsCommand), 'compose: NATS requires the token the services send (MLP_NATS_TOKEN)');
for (const s of services) {
  const svc = composeServices[s];
  if (!check(svc !== undefined, `compose: service ${s}`)) continue;
  check(svc.build?.dockerfile === `deploy/docker/${s}.Dockerfile`, `compose: ${s} builds deploy/docker/${s}.Dockerfile`, `got ${svc.build?.dockerfile}`);
  const env = Object.fromEntries(Object.entries(svc.environment ?? {}).map(([k, v]) => [k, interpolated(v)]));
  checkEnv(`compose ${s}`, s, env);
  const port = env[httpPortVar(s)];
  const test = JSON.stringify(svc.healthcheck?.test ?? '');
  check(port !== undefined && test.includes(`:${port}/health/`), `compose: ${s}'s healthcheck calls /health on ${httpPortVar(s)}`, `${httpPortVar(s)}=${port}, test ${test}`);
  const deps = Array.isArray(svc.depends_on) ? svc.depends_on : Object.keys(svc.depends_on ?? {});
  check(['nats', 'minio'].every((d) => deps.includes(d)), `compose: ${s} starts after nats and minio`);
}
// Prometheus scrapes the compose services on their ports, with the config and rules mounted.
const promVolume = (composeServices.prometheus?.volumes ?? []).find((v) => String(v).endsWith(':/etc/prometheus:ro') || String(v).includes(':/etc/prometheus'));
const promDir = promVolume ? resolve(deployDir, String(promVolume).split(':')[0]) : undefined;
if (check(promDir !== undefined && existsSync(join(promDir, 'prometheus.yml')), 'compose: prometheus mounts a directory holding prometheus.yml')) {
  const prom = docsOf(join(promDir, 'prometheus.yml'))[0] ?? {};
  for (const file of prom.rule_files ?? []) check(existsSync(join(promDir, file)), `prometheus: rule file ${file} exists`);
  const targets = (prom.scrape_configs ?? []).flatMap((c) => (c.static_configs ?? []).flatMap((sc) => sc.targets ?? []));
  for (const s of services) {
    const port = composeServices[s]?.environment?.[httpPortVar(s)];
    check(targets.includes(`${s}:${port}`), `prometheus: scrapes ${s}:${port}`);
  }
}

// ---- kustomize ------------------------------------------------------------------------------------

/** The resources of a kustomization, recursively: [{kind, metadata, ...}] with the generators it declares. */
function kustomize(dir, seen = new Set()) {
  const out = { resources: [], secrets: {} };
  const file = ['kustomization.yaml', 'kustomization.yml'].map((f) => join(dir, f)).find(existsSync);
  if (!check(file !== undefined, `k8s: ${rel(dir)} has a kustomization.yaml`)) return out;
  if (seen.has(file)) return out;
  seen.add(file);
  const k = docsOf(file)[0] ?? {};
  for (const r of k.resources ?? []) {
    const path = resolve(dir, r);
    if (!check(existsSync(path), `k8s: ${rel(file)} resource ${r} exists`)) continue;
    if (statSync(path).isDirectory()) {
      const sub = kustomize(path, seen);
      out.resources.push(...sub.resources);
      Object.assign(out.secrets, sub.secrets);
    } else out.resources.push(...docsOf(path));
  }
  for (const g of k.secretGenerator ?? []) for (const l of g.literals ?? []) out.secrets[l.slice(0, l.indexOf('='))] = l.slice(l.indexOf('=') + 1);
  for (const p of k.patches ?? []) {
    if (p.path) check(existsSync(resolve(dir, p.path)), `k8s: ${rel(file)} patch ${p.path} exists`);
    if (p.target) {
      const re = new RegExp(`^(?:${p.target.name})$`);
      check(out.resources.some((r) => r.kind === p.target.kind && re.test(r.metadata?.name)), `k8s: ${rel(file)} patch target ${p.target.kind}/${p.target.name} exists`);
    }
  }
  return out;
}

const k8s = join(deployDir, 'k8s');
const base = kustomize(join(k8s, 'base'));
const find = (kind, name) => base.resources.find((r) => r.kind === kind && r.metadata?.name === name);
const overlays = existsSync(join(k8s, 'overlays')) ? readdirSync(join(k8s, 'overlays')) : [];
check(['dev', 'prod'].every((o) => overlays.includes(o)), 'k8s: overlays dev and prod', `found ${overlays.join(', ') || 'none'}`);
const overlayBuilds = Object.fromEntries(overlays.map((o) => [o, kustomize(join(k8s, 'overlays', o))]));
// The Secret: what the dev overlay generates (prod creates the same keys out of band).
const secrets = overlayBuilds.dev?.secrets ?? {};

for (const s of services) {
  const name = `mlp-${s}`;
  const deployment = find('Deployment', name);
  if (!check(deployment !== undefined, `k8s: Deployment ${name}`)) continue;
  check(find('Service', name) !== undefined, `k8s: Service ${name}`);
  const container = deployment.spec?.template?.spec?.containers?.[0] ?? {};
  check(container.image?.split(':')[0] === name, `k8s: ${name} runs the image ${name}`, `got ${container.image}`);
  const env = {};
  let secretRef = false;
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) {
      const cm = find('ConfigMap', from.configMapRef.name);
      if (check(cm !== undefined, `k8s: ${name}'s ConfigMap ${from.configMapRef.name} exists`)) Object.assign(env, cm.data);
    }
    if (from.secretRef) {
      secretRef = true;
      Object.assign(env, secrets);
    }
  }
  check(secretRef, `k8s: ${name} reads the Secret mlp-secrets`);
  check(find('ConfigMap', `${name}-config`) !== undefined, `k8s: ConfigMap ${name}-config`);
  for (const e of container.env ?? []) env[e.name] = e.value ?? '(from field)';
  checkEnv(`k8s ${name}`, s, env);
  const port = Number(env[httpPortVar(s)]);
  const http = (container.ports ?? []).find((p) => p.name === 'http');
  check(http?.containerPort === port, `k8s: ${name}'s http port is ${httpPortVar(s)}`, `containerPort ${http?.containerPort}, ${httpPortVar(s)}=${env[httpPortVar(s)]}`);
  for (const [probe, path] of [['livenessProbe', '/health/live'], ['readinessProbe', '/health/ready']]) {
    const get = container[probe]?.httpGet;
    check(get?.path === path && (get.port === 'http' || get.port === port), `k8s: ${name} ${probe} on ${path}`, JSON.stringify(get));
  }
  const res = container.resources ?? {};
  check(res.requests?.cpu && res.requests?.memory && res.limits?.memory, `k8s: ${name} has resource requests and a memory limit`);
  check(deployment.spec?.template?.spec?.securityContext?.runAsNonRoot === true, `k8s: ${name} runs as non-root`);
}
for (const s of ['serving', 'training']) {
  const hpa = base.resources.find((r) => r.kind === 'HorizontalPodAutoscaler' && r.spec?.scaleTargetRef?.name === `mlp-${s}`);
  check(hpa !== undefined && hpa.spec.maxReplicas > hpa.spec.minReplicas, `k8s: an HPA scales mlp-${s}`);
}
const nats = base.resources.find((r) => r.kind === 'StatefulSet' && r.metadata?.name === 'mlp-nats');
if (check(nats !== undefined, 'k8s: a NATS StatefulSet')) {
  const conf = Object.values(find('ConfigMap', 'mlp-nats-config')?.data ?? {}).join('\n');
  check(/jetstream\s*\{/.test(conf) && nats.spec.replicas >= 3, 'k8s: NATS runs JetStream on at least three servers (R3)');
  check(/token:\s*\$MLP_NATS_TOKEN/.test(conf), 'k8s: NATS requires the token the services send (MLP_NATS_TOKEN)');
}

// kubectl's own build, when it is installed (it catches what the YAML library accepts and Kubernetes does not).
const kubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
for (const o of kubectl ? overlays : []) {
  const run = spawnSync('kubectl', ['kustomize', join(k8s, 'overlays', o)], { encoding: 'utf8' });
  check(run.status === 0, `k8s: kubectl kustomize overlays/${o} builds`, (run.stderr || '').trim().split('\n')[0]);
}

const report = { passed: passed.length, failed: failures.length, failures, checks: passed, environments, kubectl, build: flag('--build') };
if (flag('--json')) console.log(JSON.stringify(report));
else {
  for (const f of failures) console.log(`FAIL ${f}`);
  console.log(`${passed.length} checks passed, ${failures.length} failed${kubectl ? '' : ' (kubectl not installed: overlays not built)'}`);
}
process.exit(failures.length ? 1 : 0);
