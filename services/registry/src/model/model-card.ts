import type { AliasHistoryEntry, ModelVersionView } from '@mlp/contracts';

const fmt = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(4)) : v === null || v === undefined ? '' : String(v));
const cell = (v: unknown) => fmt(v).replace(/\|/g, '\\|').replace(/\n/g, ' ');

/**
 * The registry's model card: the version's registry facts (aliases and their history, approvals, signature,
 * artifacts by hash) followed by the card training wrote for the run (Markdown). Pure.
 */
export function registryModelCard(v: ModelVersionView, history: AliasHistoryEntry[], trainingCard: string | null): string {
  const lines = [
    `# ${v.name} v${v.version}`,
    '',
    `Registered ${v.createdAt} by ${v.createdBy} (${v.source === 'auto' ? 'registration policy' : 'by hand'}) from run \`${v.runId}\`` +
      `${v.experiment ? ` of experiment \`${v.experiment}\`` : ''}; status ${v.status}; blessed: ${v.blessed === null ? 'unknown' : v.blessed ? 'yes' : 'no'}; backend ${v.backend || 'unknown'}.`,
    '',
    `Aliases: ${v.aliases.length ? v.aliases.join(', ') : 'none'}.`,
  ];
  if (v.description) lines.push('', v.description);
  if (history.length) {
    lines.push('', '## Alias history', '', '| alias | version | from | to | how | by | reason |', '|---|---|---|---|---|---|---|');
    for (const h of history) lines.push(`| ${cell(h.alias)} | ${h.version} | ${h.from} | ${h.to ?? 'now'} | ${h.kind} | ${cell(h.actor)} | ${cell(h.reason)} |`);
  }
  if (v.approvals.length) {
    lines.push('', '## Approvals', '', '| alias | approved by | at | reason |', '|---|---|---|---|');
    for (const a of v.approvals) lines.push(`| ${cell(a.alias)} | ${cell(a.approvedBy)} | ${a.at} | ${cell(a.reason)} |`);
  }
  lines.push('', '## Metrics', '', '| metric | value |', '|---|---|');
  for (const [k, val] of Object.entries(v.metrics).sort(([a], [b]) => a.localeCompare(b))) lines.push(`| ${cell(k)} | ${fmt(val)} |`);
  lines.push('', '## Signature', '', `Task: ${v.signature.task || 'unknown'}; label: ${v.signature.label ?? 'unknown'}.`, '', '| input | type | nullable | allowed |', '|---|---|---|---|');
  for (const i of v.signature.inputs) {
    const allowed = i.values ? i.values.join(', ') : i.min !== undefined || i.max !== undefined ? `${fmt(i.min ?? '-∞')} … ${fmt(i.max ?? '∞')}` : '';
    lines.push(`| ${cell(i.name)} | ${i.type} | ${i.nullable ? 'yes' : 'no'} | ${cell(allowed)} |`);
  }
  lines.push('', '| output | type | classes |', '|---|---|---|');
  for (const o of v.signature.outputs) lines.push(`| ${cell(o.name)} | ${o.type} | ${cell((o.classes ?? []).join(', '))} |`);
  lines.push('', '## Artifacts', '', '| artifact | key |', '|---|---|');
  for (const [k, key] of Object.entries(v.artifacts)) lines.push(`| ${k} | \`${key}\` |`);
  if (v.weightsSha256) lines.push('', `Weights sha256: \`${v.weightsSha256}\`.`);
  if (trainingCard) lines.push('', '---', '', trainingCard.trim());
  return `${lines.join('\n')}\n`;
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
const inline = (s: string) =>
  escapeHtml(s)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
    .replace(/(^|[^*])\*([^*]+)\*/g, '$1<em>$2</em>');

function tableCells(line: string): string[] {
  const cells: string[] = [];
  let current = '';
  const body = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '\\' && body[i + 1] === '|') {
      current += '|';
      i++;
    } else if (body[i] === '|') {
      cells.push(current.trim());
      current = '';
    } else current += body[i];
  }
  cells.push(current.trim());
  return cells;
}

/**
 * The Markdown the cards use (headings, paragraphs, lists, pipe tables, code spans, rules) as a standalone
 * HTML page. Every text is escaped: a model name or reason can never inject markup.
 */
export function markdownToHtml(markdown: string, title: string): string {
  const out: string[] = [];
  const lines = markdown.split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      out.push(`<h${heading[1].length}>${inline(heading[2])}</h${heading[1].length}>`);
      i++;
    } else if (/^\s*\|/.test(line)) {
      const rows: string[][] = [];
      while (i < lines.length && /^\s*\|/.test(lines[i])) {
        if (!/^\s*\|(\s*:?-+:?\s*\|)+\s*$/.test(lines[i])) rows.push(tableCells(lines[i]));
        i++;
      }
      const [head, ...body] = rows;
      out.push(
        '<table>',
        `<thead><tr>${head.map((c) => `<th>${inline(c)}</th>`).join('')}</tr></thead>`,
        `<tbody>${body.map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join('')}</tr>`).join('')}</tbody>`,
        '</table>',
      );
    } else if (/^\s*[-*]\s+/.test(line) && !/^\s*---+\s*$/.test(line)) {
      const items: string[] = [];
      while (i < lines.length && /^\s*[-*]\s+/.test(lines[i])) items.push(`<li>${inline(lines[i++].replace(/^\s*[-*]\s+/, ''))}</li>`);
      out.push(`<ul>${items.join('')}</ul>`);
    } else if (/^\s*---+\s*$/.test(line)) {
      out.push('<hr>');
      i++;
    } else if (line.trim() === '') i++;
    else {
      const para: string[] = [];
      while (i < lines.length && lines[i].trim() !== '' && !/^(#{1,6}\s|\s*\||\s*[-*]\s+)/.test(lines[i])) para.push(lines[i++]);
      out.push(`<p>${inline(para.join(' '))}</p>`);
    }
  }
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    '<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}code{background:#f4f4f4;padding:0 .2rem}</style>',
    '</head><body>',
    ...out,
    '</body></html>',
    '',
  ].join('\n');
}
