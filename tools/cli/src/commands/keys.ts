import { parseArgs } from 'node:util';
import { apiKeyScopes, type ApiKeyScope, type ApiKeyView, type CreatedApiKey } from '@mlp/contracts';
import { call, UsageError } from '../api';
import { printJson, printTable } from '../output';

/** Every service answers `/auth/keys` (they share the event store); the CLI asks the registry. */
const KEYS_SERVICE = 'registry' as const;

const USAGE = `usage: mlp keys create [--name <name>] --scopes read,write|--scope predict [--json]
       mlp keys list [--json]
       mlp keys revoke <id> [--json]`;

/** `mlp keys create|list|revoke`: API key management (needs an admin key when auth is on). */
export async function keys(args: string[], json: boolean): Promise<void> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'create':
      return create(rest, json);
    case 'list':
    case undefined:
      return list(json);
    case 'revoke':
      return revoke(rest, json);
    default:
      throw new UsageError(`unknown keys command '${sub}'\n${USAGE}`);
  }
}

function parseScopes(value: string | undefined): ApiKeyScope[] {
  if (!value) throw new UsageError(`--scopes is required (${apiKeyScopes.join(', ')}, comma-separated)\n${USAGE}`);
  const scopes = value.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = scopes.filter((s) => !(apiKeyScopes as readonly string[]).includes(s));
  if (unknown.length > 0 || scopes.length === 0) throw new UsageError(`unknown scope ${unknown.map((s) => `'${s}'`).join(', ')}: use ${apiKeyScopes.join(', ')}`);
  return scopes as ApiKeyScope[];
}

async function create(args: string[], json: boolean): Promise<void> {
  let values: { name?: string; scopes?: string; scope?: string };
  try {
    ({ values } = parseArgs({ args, options: { name: { type: 'string' }, scopes: { type: 'string' }, scope: { type: 'string' } } }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`);
  }
  // `--scope predict` is `--scopes predict`; without --name the key is named after its scopes (`predict-key`).
  const scopes = parseScopes(values.scopes ?? values.scope);
  const created = await call<CreatedApiKey>(KEYS_SERVICE, 'POST', '/auth/keys', { name: values.name ?? `${scopes.join('-')}-key`, scopes });
  if (json) return printJson(created);
  console.log(`created API key ${created.id} '${created.name}' (${created.scopes.join(', ')})`);
  console.log('');
  console.log(`  ${created.token}`);
  console.log('');
  console.log('This is the only time the key is shown: store it now. The CLI sends it from MLP_API_KEY.');
}

async function list(json: boolean): Promise<void> {
  const { keys: all } = await call<{ keys: ApiKeyView[] }>(KEYS_SERVICE, 'GET', '/auth/keys');
  if (json) return printJson(all);
  printTable(
    all.map((k) => ({ ...k, scopes: k.scopes.join(','), createdAt: k.createdAt ?? '', revokedAt: k.revokedAt ?? '' })),
    ['id', 'name', 'scopes', 'status', 'source', 'prefix', 'createdAt', 'createdBy', 'revokedAt'],
  );
}

async function revoke(args: string[], json: boolean): Promise<void> {
  if (args.length !== 1) throw new UsageError(`mlp keys revoke takes one key id\n${USAGE}`);
  const revoked = await call<ApiKeyView>(KEYS_SERVICE, 'DELETE', `/auth/keys/${encodeURIComponent(args[0])}`);
  if (json) return printJson(revoked);
  console.log(`revoked API key ${revoked.id} '${revoked.name}': every service refuses it now`);
}
