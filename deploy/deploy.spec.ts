import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { natsAuth } from '@mlp/messaging';
import { baseConfigSchema, httpPortVar, loadConfig } from '@mlp/service-kit';

const deployDir = __dirname;
const services = ['ingestion', 'feature-store', 'training', 'registry', 'serving', 'monitoring'] as const;
type Service = (typeof services)[number];

interface Report {
  passed: number;
  failed: number;
  failures: string[];
  checks: string[];
  environments: Record<string, { service: string; env: Record<string, string> }>;
}

/** `node deploy/verify.mjs --json …`: the structural checks (no Docker engine or cluster runs here). */
function verify(...args: string[]): { status: number | null; report: Report } {
  const run = spawnSync(process.execPath, [join(deployDir, 'verify.mjs'), '--json', ...args], { encoding: 'utf8' });
  if (run.stderr) throw new Error(run.stderr);
  return { status: run.status, report: JSON.parse(run.stdout) as Report };
}

function* yamlFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* yamlFiles(path);
    else if (/\.ya?ml$/.test(name)) yield path;
  }
}

describe('deploy/', () => {
  jest.setTimeout(120_000);

  it('every YAML file parses', () => {
    const files = [...yamlFiles(deployDir)];
    expect(files.length).toBeGreaterThanOrEqual(15);
    for (const file of files) {
      const docs = parseAllDocuments(readFileSync(file, 'utf8'), { merge: true });
      expect({ file, errors: docs.flatMap((d) => d.errors.map((e) => e.message)) }).toEqual({ file, errors: [] });
    }
  });

  it('verify passes: images, compose and kustomize wired to what each service reads, entrypoints in the real build output', () => {
    const { status, report } = verify('--build');
    expect(report.failures).toEqual([]);
    expect(status).toBe(0);
    // Each service was checked everywhere it is deployed, not skipped.
    for (const s of services) {
      expect(report.checks).toEqual(
        expect.arrayContaining([
          `docker/${s}.Dockerfile: CMD runs dist/services/${s}/src/main.js`,
          `build: dist/services/${s}/src/main.js exists`,
          `compose ${s}: every variable is read by ${s}`,
          `compose ${s}: the variables distributed mode needs are set`,
          `k8s mlp-${s}: every variable is read by ${s}`,
          `k8s mlp-${s}: the variables distributed mode needs are set`,
          `k8s: mlp-${s} readinessProbe on /health/ready`,
        ]),
      );
    }
    expect(report.checks).toEqual(expect.arrayContaining(["build: the dashboard's index.html ships with monitoring", 'k8s: an HPA scales mlp-serving', 'k8s: an HPA scales mlp-training']));
  });

  it("each service's compose and k8s environment passes the service's own config schema, with auth and NATS credentials", () => {
    const { report } = verify();
    const where = Object.keys(report.environments).sort();
    expect(where).toEqual(services.flatMap((s) => [`compose ${s}`, `k8s mlp-${s}`]).sort());
    for (const [name, { service, env }] of Object.entries(report.environments)) {
      // Compose interpolates ${NAME} from the shell: a value like the one the comments suggest (openssl rand -hex 32).
      const resolved = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.replace(/<[A-Z0-9_]+>/g, 'f'.repeat(64))]));
      let config;
      try {
        config = loadConfig(baseConfigSchema, resolved);
      } catch (err) {
        throw new Error(`${name}: ${(err as Error).message}`);
      }
      expect({ name, transport: config.MLP_TRANSPORT, bind: config.MLP_BIND_HOST, auth: config.MLP_AUTH, admin: config.MLP_ADMIN_KEY !== undefined }).toEqual({ name, transport: 'nats', bind: '0.0.0.0', auth: 'on', admin: true });
      expect(config.EVENTSTORE_URL).toMatch(/^nats:\/\//);
      expect(config.ARTIFACTS_URL).toBe('s3://mlp-artifacts');
      const port = httpPortVar(service as Service);
      expect(String(config[port])).toBe(env[port]);
      expect(natsAuth(config)).toEqual({ token: expect.any(String) });
    }
  });

  describe('on a broken copy', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'mlp-deploy-'));
      for (const name of ['docker', 'docker-compose.yml', 'k8s', 'prometheus']) cpSync(join(deployDir, name), join(dir, name), { recursive: true });
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));
    const edit = (file: string, from: string | RegExp, to: string) => {
      const text = readFileSync(join(dir, file), 'utf8');
      const changed = text.replace(from, to);
      expect(changed).not.toBe(text);
      writeFileSync(join(dir, file), changed);
    };

    it('names a variable no service reads, a missing required one, a root image, a wrong entrypoint and a wrong probe', () => {
      edit('docker-compose.yml', 'MLP_SERVING_TELEMETRY: jetstream', 'MLP_SERVING_TELEMETRI: jetstream');
      edit('k8s/base/training.yaml', 'MLP_TRIAL_QUEUE:', 'MLP_TRAINING_TRIAL_QUEUE:');
      edit('k8s/base/config.yaml', /^ {2}ARTIFACTS_URL: .*\n/m, '');
      edit('docker/registry.Dockerfile', 'USER 1000:1000', 'USER root');
      edit('docker/monitoring.Dockerfile', 'CMD ["node", "dist/services/monitoring/src/main.js"]', 'CMD ["node", "dist/monitoring/main.js"]');
      edit('k8s/base/serving.yaml', 'path: /health/ready', 'path: /ready');
      const { status, report } = verify('--deploy-dir', dir);
      expect(status).toBe(1);
      expect(report.failures).toEqual(
        expect.arrayContaining([
          'compose serving: every variable is read by serving: not read anywhere in services/serving/src or libs: MLP_SERVING_TELEMETRI',
          'k8s mlp-training: every variable is read by training: not read anywhere in services/training/src or libs: MLP_TRAINING_TRIAL_QUEUE',
          'k8s mlp-registry: the variables distributed mode needs are set: missing ARTIFACTS_URL',
          'docker/registry.Dockerfile: the runtime stage runs as a non-root user: USER root',
          expect.stringMatching(/^docker\/monitoring\.Dockerfile: CMD runs dist\/services\/monitoring\/src\/main\.js: got CMD \["node", "dist\/monitoring\/main\.js"\]/),
          expect.stringMatching(/^k8s: mlp-serving readinessProbe on \/health\/ready/),
        ]),
      );
    });

    it('names a service left out of compose, a patch whose target is gone and NATS without the token', () => {
      edit('docker-compose.yml', /^ {2}registry:\n(?: {4}.*\n)+/m, '');
      edit('docker-compose.yml', '"--auth", ', '');
      edit('k8s/base/kustomization.yaml', '  - hpa.yaml\n', '');
      const { report } = verify('--deploy-dir', dir);
      expect(report.failures).toEqual(
        expect.arrayContaining([
          'compose: service registry',
          'compose: NATS requires the token the services send (MLP_NATS_TOKEN)',
          'k8s: an HPA scales mlp-serving',
          'k8s: k8s/overlays/dev/kustomization.yaml patch target HorizontalPodAutoscaler/mlp-serving exists',
        ]),
      );
    });
  });
});
