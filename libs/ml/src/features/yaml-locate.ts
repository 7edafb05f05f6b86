import { FieldIssue, ValidationError } from '@mlp/contracts';
import type { SchemaIssue } from '@mlp/data';
import { Document, LineCounter, Node, isMap, isPair, isScalar, isSeq } from 'yaml';

/*
 * Line/column location of validation issues in a YAML document, in the same
 * format as `parseSchemaYaml` of @mlp/data (`file:line:col path: message`,
 * details `{path, message (line N, column M)}`).
 *
 * This mirrors the private `locate`/`toValidationError` of
 * libs/data/src/schema/schema-yaml.ts: they are not exported from @mlp/data.
 * When they are, delete this file and import them.
 */

export interface LocatedIssue {
  line: number;
  col: number;
  /** Dotted path shown to the user. */
  path: string;
  message: string;
}

export function toValidationError(source: string, issues: LocatedIssue[]): ValidationError {
  const lines = issues.map((i) => `${source}:${i.line}:${i.col} ${i.path ? `${i.path}: ` : ''}${i.message}`);
  const details: FieldIssue[] = issues.map((i) => ({ path: i.path, message: `${i.message} (line ${i.line}, column ${i.col})` }));
  const message = lines.length === 1 ? lines[0] : `${lines.length} problems in ${source}:\n${lines.map((l) => `  ${l}`).join('\n')}`;
  return new ValidationError(message, details);
}

/** yaml's messages end with " at line N, column M" (and a code excerpt when pretty): keep the sentence. */
export function firstLine(message: string): string {
  return message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
}

/**
 * Finds where an issue's path points in the document: the value when it
 * exists, the key when the problem is the key itself or the value is empty,
 * else the deepest existing ancestor's key.
 */
export function locate(doc: Document, lineCounter: LineCounter, issue: SchemaIssue): { line: number; col: number } {
  let node: unknown = doc.contents;
  let anchor = rangeOf(node) ?? 0;
  let keyOffset: number | undefined;
  let found = true;
  for (const segment of issue.path) {
    const pair = isMap(node) ? node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment)) : undefined;
    if (pair) {
      keyOffset = rangeOf(pair.key);
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number' && segment < node.items.length) {
      keyOffset = undefined;
      node = node.items[segment];
    } else {
      found = false;
      break;
    }
    anchor = keyOffset ?? rangeOf(node) ?? anchor;
  }
  const valueOffset = found && issue.target !== 'key' ? rangeOf(node) : undefined;
  return lineCounter.linePos(valueOffset ?? keyOffset ?? anchor);
}

function rangeOf(node: unknown): number | undefined {
  if (isPair(node)) return rangeOf(node.key);
  const range = (node as Node | null | undefined)?.range;
  if (!range) return undefined;
  return range[1] > range[0] ? range[0] : undefined;
}
