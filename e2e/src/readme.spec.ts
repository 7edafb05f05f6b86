import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from '@mlp/testing';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
/** Every line of a Markdown table in the README. */
const tableText = readme
  .split('\n')
  .filter((l) => l.startsWith('|'))
  .join('\n');

function* files(dir: string, match: (name: string) => boolean): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== 'node_modules') yield* files(path, match);
    } else if (match(name)) yield path;
  }
}

/**
 * The config schemas: each service's `*config*.ts` files and the shared ones
 * (service-kit's config dir, messaging's), whose zod shapes name every
 * variable a service reads at start-up.
 */
const configFiles = [
  ...readdirSync(join(repoRoot, 'services')).flatMap((s) => [...files(join(repoRoot, 'services', s, 'src'), (n) => /config.*\.ts$/.test(n) && !n.endsWith('.spec.ts'))]),
  ...files(join(repoRoot, 'libs/service-kit/src/config'), (n) => n.endsWith('.ts') && !n.endsWith('.spec.ts')),
  join(repoRoot, 'libs/messaging/src/messaging-config.ts'),
];

/** `KEY:` or `KEY?:` at the start of a line: a key of a zod shape (or of its typed output). */
function schemaKeys(): Map<string, string> {
  const keys = new Map<string, string>();
  for (const file of configFiles) {
    for (const m of readFileSync(file, 'utf8').matchAll(/^\s*([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\??\s*:/gm)) {
      if (!keys.has(m[1])) keys.set(m[1], relative(repoRoot, file));
    }
  }
  return keys;
}

describe('README.md', () => {
  it('finds the config schemas (the scan reads what it should)', () => {
    const keys = schemaKeys();
    expect(configFiles.map((f) => relative(repoRoot, f))).toEqual(expect.arrayContaining(['services/training/src/training-config.ts', 'libs/service-kit/src/config/service-config.ts']));
    for (const k of ['MLP_HOME', 'EVENTSTORE_URL', 'NATS_URL', 'MLP_TRIAL_QUEUE_REPLICAS', 'MLP_SERVING_MODELS', 'MLP_WEBHOOK_ALLOW', 'MLP_DUCKDB_MEMORY_LIMIT']) expect(keys.has(k)).toBe(true);
  });

  it('documents every environment variable of the config schemas in a table', () => {
    const undocumented = [...schemaKeys()].filter(([key]) => !tableText.includes(`\`${key}\``)).map(([key, file]) => `${key} (${file})`);
    expect(undocumented).toEqual([]);
  });

  it('the per-service ports (built from the service names) are in the table as MLP_<SERVICE>_PORT and MLP_<SERVICE>_RPC_PORT', () => {
    expect(tableText).toContain('`MLP_<SERVICE>_PORT`');
    expect(tableText).toContain('`MLP_<SERVICE>_RPC_PORT`');
  });

  it('the CLI reference has every command of `mlp help`', () => {
    const main = readFileSync(join(repoRoot, 'tools/cli/src/main.ts'), 'utf8');
    const usage = /const USAGE = `([\s\S]*?)`;/.exec(main)![1];
    // Command lines are indented two spaces: `  <command> [<subcommand>] …`.
    const commands = [...usage.matchAll(/^ {2}([a-z][a-z-]*)(?: (apply|create|list|revoke|run|projections|shift|promote\|rollback|model|dataset|versions|register|history|policy|materialize|describe|get|check-skew|training-set|status))?\b/gm)].map((m) =>
      [m[1], m[2]].filter(Boolean).join(' '),
    );
    expect(commands.length).toBeGreaterThan(20);
    // Table cells escape `|` as `\|`.
    const text = readme.replaceAll('\\|', '|');
    const missing = [...new Set(commands)].filter((c) => !text.includes(`mlp ${c}`));
    expect(missing).toEqual([]);
  });
});
