import { FieldIssue, ValidationError } from '@mlp/contracts';
import { Document, LineCounter, Node, isMap, isPair, isScalar, isSeq, parseDocument } from 'yaml';
import { SchemaIssue, dottedPath } from './schema-validation';

export type YamlValidation<T> = { ok: true; value: T } | { ok: false; issues: SchemaIssue[] };

/**
 * Parses a YAML spec and validates it, turning every problem into one
 * ValidationError that names the place: `file:line:col path: message`, with
 * one FieldIssue per problem. Shared by every YAML spec of the platform
 * (dataset schemas, feature views, …); `pathOf` lets a spec show paths its
 * own way (e.g. list items by name).
 */
export function parseValidatedYaml<T>(
  text: string,
  source: string,
  validate: (value: unknown) => YamlValidation<T>,
  pathOf: (issue: SchemaIssue, value: unknown) => string = (issue) => dottedPath(issue.path),
): T {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const located = doc.errors.map((err) => {
      const { line, col } = lineCounter.linePos(err.pos[0]);
      return { line, col, path: '', message: `YAML syntax error: ${firstLine(err.message)}` };
    });
    throw toValidationError(source, located);
  }
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (err) {
    // e.g. "Excessive alias count" for an alias bomb
    throw toValidationError(source, [{ line: 1, col: 1, path: '', message: `YAML error: ${(err as Error).message}` }]);
  }
  const result = validate(value);
  if (result.ok) return result.value;
  const located = result.issues
    .map((issue) => ({ ...locate(doc, lineCounter, issue), path: pathOf(issue, value), message: issue.message }))
    .sort((a, b) => a.line - b.line || a.col - b.col);
  throw toValidationError(source, located);
}

interface LocatedIssue {
  line: number;
  col: number;
  path: string;
  message: string;
}

function toValidationError(source: string, issues: LocatedIssue[]): ValidationError {
  const lines = issues.map((i) => `${source}:${i.line}:${i.col} ${i.path ? `${i.path}: ` : ''}${i.message}`);
  const details: FieldIssue[] = issues.map((i) => ({ path: i.path, message: `${i.message} (line ${i.line}, column ${i.col})` }));
  const message = lines.length === 1 ? lines[0] : `${lines.length} problems in ${source}:\n${lines.map((l) => `  ${l}`).join('\n')}`;
  return new ValidationError(message, details);
}

/** yaml's messages end with " at line N, column M" (and a code excerpt when pretty): keep the sentence. */
function firstLine(message: string): string {
  return message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
}

/**
 * Finds where an issue's path points in the document: the value when it
 * exists, the key when the problem is the key itself or the value is empty,
 * else the deepest existing ancestor's key.
 */
function locate(doc: Document, lineCounter: LineCounter, issue: SchemaIssue): { line: number; col: number } {
  let node: unknown = doc.contents;
  let anchor = rangeOf(node) ?? 0; // deepest position found so far
  let keyOffset: number | undefined; // key of the last step, when it was a mapping entry
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

/** Start offset of a node with some source text. */
function rangeOf(node: unknown): number | undefined {
  if (isPair(node)) return rangeOf(node.key);
  const range = (node as Node | null | undefined)?.range;
  if (!range) return undefined;
  return range[1] > range[0] ? range[0] : undefined;
}
