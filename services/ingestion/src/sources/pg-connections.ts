import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { ValidationError, type FieldIssue } from '@mlp/contracts';

/** A named connection with its secrets filled in. Never log, store or echo `connectionString`. */
export interface PgConnection {
  name: string;
  connectionString: string;
}

/** Connection names: what a request may carry instead of a connection string. */
export const PG_CONNECTION_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** `MLP_PG_<NAME>_PASSWORD`: the name upper-cased, `-` as `_`. */
export function passwordVariable(name: string): string {
  return `MLP_PG_${name.toUpperCase().replace(/-/g, '_')}_PASSWORD`;
}

/**
 * The PostgreSQL connections ingestion may query, from `MLP_PG_CONNECTIONS`:
 * a JSON object `{"warehouse": "postgres://reader@db:5432/wh"}` or a list
 * `warehouse=postgres://reader@db:5432/wh,crm=postgres://…` (commas or new
 * lines between entries). Secrets come from the environment:
 * - `MLP_PG_<NAME>_PASSWORD` (or `…_PASSWORD_FILE`, a file holding it) sets the password;
 * - `${VAR}` anywhere in a URL is replaced by that variable, URL-encoded; an
 *   entry that is only `${VAR}` takes the whole connection URL from VAR.
 * Requests name a connection; a connection string never travels in one.
 */
export class PgConnections {
  private constructor(
    private readonly templates: ReadonlyMap<string, string>,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** Parses and checks every connection (syntax, referenced variables): errors name variables, never values. */
  static parse(value: string | undefined, env: NodeJS.ProcessEnv = process.env): PgConnections {
    const templates = new Map<string, string>();
    const issues: FieldIssue[] = [];
    const problem = (message: string) => issues.push({ path: 'MLP_PG_CONNECTIONS', message });
    for (const [name, template] of entries(value ?? '', problem)) {
      if (!PG_CONNECTION_NAME.test(name)) problem(`"${name}" is not a connection name (a letter, then letters, digits, _ or -)`);
      else if ([...templates.keys()].some((k) => k.toLowerCase() === name.toLowerCase())) problem(`connection "${name}" is defined twice`);
      else templates.set(name, template);
    }
    const connections = new PgConnections(templates, env);
    for (const name of templates.keys()) {
      try {
        connections.fill(name, (path) => readFileSync(path, 'utf8'));
      } catch (err) {
        if (err instanceof ValidationError) issues.push(...err.details);
        else throw err;
      }
    }
    if (issues.length > 0) {
      throw new ValidationError(`invalid configuration:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`, issues, { code: 'INVALID_CONFIG' });
    }
    return connections;
  }

  names(): string[] {
    return [...this.templates.keys()];
  }

  /** 400 on `source.connection` unless `name` is configured. */
  check(name: string): void {
    if (this.templates.has(name)) return;
    const known = this.names();
    throw new ValidationError(
      `unknown PostgreSQL connection '${name}': ${known.length > 0 ? `configured connections are ${known.join(', ')}` : 'none is configured (MLP_PG_CONNECTIONS)'}`,
      [{ path: 'source.connection', message: known.length > 0 ? `one of ${known.join(', ')}` : 'no connection is configured' }],
      { code: 'UNKNOWN_CONNECTION' },
    );
  }

  /** The connection with its secrets, read now (a rotated password file is read again). */
  async resolve(name: string): Promise<PgConnection> {
    this.check(name);
    const files = new Map<string, string | Error>();
    for (const path of this.passwordFiles(name)) files.set(path, await readFile(path, 'utf8').catch((err: Error) => err));
    return {
      name,
      connectionString: this.fill(name, (path) => {
        const text = files.get(path);
        if (typeof text !== 'string') throw text ?? new Error('not read');
        return text;
      }),
    };
  }

  private passwordFiles(name: string): string[] {
    const file = this.env[`${passwordVariable(name)}_FILE`];
    return file ? [file] : [];
  }

  /** The template with `${VAR}`s and the password filled in; issues name the variable, not its value. */
  private fill(name: string, readPasswordFile: (path: string) => string): string {
    const template = this.templates.get(name) as string;
    const issues: FieldIssue[] = [];
    const variable = (v: string): string => {
      const value = this.env[v];
      if (value === undefined || value === '') issues.push({ path: v, message: `is not set (referenced by connection "${name}" in MLP_PG_CONNECTIONS)` });
      return value ?? '';
    };
    const whole = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(template.trim());
    const filled = whole ? variable(whole[1]).trim() : template.replace(REFERENCE, (_m, v: string) => encodeURIComponent(variable(v)));
    if (issues.length > 0) throw new ValidationError(`connection "${name}": ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, issues);
    if (!/^postgres(ql)?:\/\//i.test(filled)) {
      throw new ValidationError(`connection "${name}" is not a postgres:// or postgresql:// URL`, [
        { path: whole ? whole[1] : 'MLP_PG_CONNECTIONS', message: `connection "${name}" is not a postgres:// URL` },
      ]);
    }
    let url: URL;
    try {
      url = new URL(filled);
    } catch {
      throw new ValidationError(`connection "${name}" is not a valid URL`, [{ path: whole ? whole[1] : 'MLP_PG_CONNECTIONS', message: `connection "${name}" is not a valid URL` }]);
    }
    const passwordVar = passwordVariable(name);
    const fileVar = `${passwordVar}_FILE`;
    let password = this.env[passwordVar];
    if (!password && this.env[fileVar]) {
      let text: string;
      try {
        text = readPasswordFile(this.env[fileVar] as string);
      } catch {
        throw new ValidationError(`${fileVar} names a file that cannot be read`, [{ path: fileVar, message: 'cannot be read' }]);
      }
      password = text.replace(/\r?\n$/, '');
    }
    if (password) {
      if (!url.username) throw new ValidationError(`connection "${name}": ${passwordVar} is set but the URL names no user`, [{ path: passwordVar, message: 'the URL names no user' }]);
      url.password = encodeURIComponent(password);
      return url.toString();
    }
    return filled;
  }
}

/** `[name, url]` pairs from the JSON or list form. */
function entries(value: string, problem: (message: string) => void): [string, string][] {
  const text = value.trim();
  if (!text) return [];
  if (text.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      problem('not valid JSON (expected {"name": "postgres://…"})'); // the text is not echoed: it may hold a password
      return [];
    }
    const pairs: [string, string][] = [];
    for (const [name, url] of Object.entries(parsed as Record<string, unknown>)) {
      if (typeof url === 'string') pairs.push([name, url]);
      else problem(`connection "${name}" must be a URL string`);
    }
    return pairs;
  }
  const pairs: [string, string][] = [];
  for (const part of text.split(/[\s,]+(?=[A-Za-z][A-Za-z0-9_-]*=(?:postgres(?:ql)?:\/\/|\$\{))/i)) {
    const eq = part.indexOf('=');
    if (eq <= 0) {
      problem('expected name=postgres://… entries, separated by commas');
      continue;
    }
    pairs.push([part.slice(0, eq).trim(), part.slice(eq + 1).trim()]);
  }
  return pairs;
}
