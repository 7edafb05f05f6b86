import { readFileSync } from 'node:fs';
import { ValidationError } from '@mlp/contracts';

/**
 * Push keys from the environment: `MLP_INGEST_API_KEYS` (comma-separated)
 * and `MLP_INGEST_API_KEYS_FILE` (one per line, blanks and `#` comments
 * skipped). They join the service's API keys (service-kit) with the `push`
 * scope only, hashed in memory: one mechanism for every key.
 */
export function pushApiKeys(config: { MLP_INGEST_API_KEYS?: string; MLP_INGEST_API_KEYS_FILE?: string }): string[] {
  const keys = (config.MLP_INGEST_API_KEYS ?? '').split(',');
  if (config.MLP_INGEST_API_KEYS_FILE) {
    let text: string;
    try {
      text = readFileSync(config.MLP_INGEST_API_KEYS_FILE, 'utf8');
    } catch (err) {
      throw new ValidationError(`cannot read MLP_INGEST_API_KEYS_FILE: ${(err as Error).message}`, [
        { path: 'MLP_INGEST_API_KEYS_FILE', message: 'an existing, readable file with one key per line' },
      ], { code: 'INVALID_CONFIG' });
    }
    keys.push(...text.split(/\r?\n/).filter((line) => !line.trim().startsWith('#')));
  }
  return [...new Set(keys.map((k) => k.trim()).filter(Boolean))];
}
