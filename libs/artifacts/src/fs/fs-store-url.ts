import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ValidationError } from '@mlp/contracts';
import { redactUrl } from '../redact-url';
import type { FsArtifactStoreOptions } from './fs-artifact-store';

/**
 * `file:///abs/path` (or `file://localhost/abs/path`) → that directory;
 * `file://./rel` or `file://../rel` → resolved against `cwd`.
 */
export function fsOptionsFromUrl(url: string, cwd: string = process.cwd()): FsArtifactStoreOptions {
  const rest = url.slice('file://'.length);
  if (rest.startsWith('/') || rest.startsWith('localhost/')) {
    try {
      return { root: fileURLToPath(url) };
    } catch (err) {
      throw badUrl(url, err instanceof Error ? err.message : String(err));
    }
  }
  if (rest === '.' || rest === '..' || rest.startsWith('./') || rest.startsWith('../')) {
    return { root: resolve(cwd, decodeURIComponent(rest)) };
  }
  throw badUrl(url, 'expected file:///absolute/path or file://./relative/path');
}

function badUrl(url: string, reason: string): ValidationError {
  return new ValidationError(`invalid artifact store URL ${JSON.stringify(redactUrl(url))}: ${reason}`, [{ path: 'url', message: reason }]);
}
