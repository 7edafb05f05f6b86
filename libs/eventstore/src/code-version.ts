import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

let cached: string | undefined;

/**
 * `<package version>+<git sha>` recorded on every event. MLP_CODE_VERSION
 * overrides it (containers have no .git); the sha is left out when unknown.
 */
export function codeVersion(root = process.cwd()): string {
  if (cached) return cached;
  if (process.env.MLP_CODE_VERSION) return (cached = process.env.MLP_CODE_VERSION);
  let version = '0.0.0';
  try {
    version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version ?? version;
  } catch {
    // not started from the repo root
  }
  let sha = process.env.MLP_GIT_SHA ?? '';
  if (!sha) {
    try {
      sha = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim();
    } catch {
      sha = '';
    }
  }
  return (cached = sha ? `${version}+${sha}` : version);
}
