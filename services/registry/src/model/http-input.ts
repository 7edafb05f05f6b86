import type { IncomingMessage } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { ValidationError, type MetricThreshold } from '@mlp/contracts';
import { readText } from '@mlp/service-kit';

export function asObject(body: unknown): Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}

/** A JSON body (parsed by the app), or a YAML one (read here). */
export async function jsonOrYamlBody(req: IncomingMessage & { body?: unknown }): Promise<Record<string, unknown>> {
  const type = String(req.headers['content-type'] ?? '');
  if (type.includes('json')) return asObject(req.body);
  const text = await readText(req);
  if (!text.trim()) return {};
  try {
    return asObject(parseYaml(text));
  } catch (err) {
    throw new ValidationError(`the body is not valid YAML: ${(err as Error).message}`, [{ path: '', message: 'invalid YAML' }]);
  }
}

/** `If-Match: 3` (or `"3"`) as an expected revision, when the body does not carry one. */
export function ifMatch(req: IncomingMessage): number | undefined {
  const raw = req.headers['if-match'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined) return undefined;
  const n = Number(value.replace(/^W\//, '').replace(/"/g, ''));
  if (!Number.isInteger(n)) throw new ValidationError(`If-Match must be a model revision (an integer), got ${JSON.stringify(value)}`, [{ path: 'If-Match', message: 'expected an integer revision' }]);
  return n;
}

const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

/** `?tag=k:v` (or k=v, repeatable) → tags. */
export function tagsQuery(v: unknown, path = 'tag'): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const t of list(v)) {
    const m = /^([^:=]+)[:=](.*)$/.exec(t);
    if (!m) throw new ValidationError(`invalid ${path} '${t}': expected key:value`, [{ path, message: 'expected key:value' }]);
    tags[m[1]] = m[2];
  }
  return tags;
}

/** `?metric=accuracy>=0.9` (repeatable) → thresholds. */
export function metricsQuery(v: unknown, path = 'metric'): MetricThreshold[] {
  return list(v).map((t) => {
    const m = /^([A-Za-z0-9_.:/-]+)\s*(>=|<=|>|<|=)\s*(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)$/i.exec(t.trim());
    if (!m) throw new ValidationError(`invalid ${path} '${t}': expected <metric><op><number> with op one of > >= < <= =`, [{ path, message: 'expected e.g. accuracy>=0.9' }]);
    return { metric: m[1], op: m[2] as MetricThreshold['op'], value: Number(m[3]) };
  });
}
