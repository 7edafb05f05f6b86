/* The mlp pipeline dashboard: one page, no framework. It reads only the
 * services' public HTTP APIs (through monitoring's /api/<service>/… pass-
 * through) and the event log (/events, /events/live), and re-renders the
 * current view whenever a new event arrives. */
'use strict';

(() => {
  const main = document.getElementById('main');
  const liveStatus = document.getElementById('live');
  const KEY = 'mlp.apiKey';

  // ---------- HTTP ----------
  class ApiError extends Error {
    constructor(what, status, body) {
      const detail = body && typeof body === 'object' ? `${body.code || ''} ${body.message || ''}`.trim() : String(body || '');
      super(`${what}: HTTP ${status}${detail ? ` — ${detail}` : ''}`);
      this.status = status;
    }
  }
  function headers() {
    const key = sessionStorage.getItem(KEY);
    return key ? { 'x-api-key': key, accept: 'application/json' } : { accept: 'application/json' };
  }
  async function getRaw(url) {
    let res;
    try {
      res = await fetch(url, { headers: headers() });
    } catch (e) {
      throw new Error(`${url}: ${e.message}`);
    }
    if (!res.ok) {
      let body = null;
      try { body = await res.json(); } catch { /* not JSON */ }
      throw new ApiError(url, res.status, body);
    }
    return res;
  }
  const getJson = async (url) => (await getRaw(url)).json();
  /** GET a service's API: api('registry', '/models'). */
  const api = (service, path) => getJson(`/api/${service}${path}`);
  /** The same, with 404 as null (an optional object). */
  const apiOptional = async (service, path) => {
    try { return await api(service, path); } catch (e) { if (e.status === 404) return null; throw e; }
  };

  // ---------- DOM helpers ----------
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat(Infinity)) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return el;
  }
  /** Replaces an element's children, skipping null/false (conditional parts). */
  const put = (el, ...kids) => el.replaceChildren(...kids.flat(Infinity).filter((k) => k !== null && k !== undefined && k !== false));
  const link = (href, text, attrs = {}) => h('a', { href, ...attrs }, text);
  const fmt = (v, digits = 4) => {
    if (v === null || v === undefined) return '—';
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return String(v);
      if (Number.isInteger(v)) return v.toLocaleString('en-US');
      const a = Math.abs(v);
      return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(3) : String(Number(v.toFixed(digits)));
    }
    return String(v);
  };
  const time = (iso) => (iso ? new Date(iso).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—');
  const badge = (ok, yes, no) => h('span', { class: `badge ${ok ? 'ok' : 'bad'}` }, ok ? `✓ ${yes}` : `✗ ${no}`);
  const errorBox = (e) => h('div', { class: 'error', role: 'alert', 'data-error': '' }, `Could not load: ${e.message}`);
  const empty = (text, command) => h('div', { class: 'empty', 'data-empty': '' }, text, command ? [' ', h('code', {}, command)] : []);
  const kv = (pairs) => h('dl', { class: 'kv' }, pairs.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v instanceof Node ? v : fmt(v))]));
  const short = (id) => (id ? String(id).slice(0, 8) : '—');
  const enc = encodeURIComponent;

  /** A section that loads on its own: an API error shows here and nowhere else breaks. */
  function section(title, load) {
    const body = h('div', { class: 'section-body' }, h('p', { class: 'muted' }, 'loading…'));
    const el = h('section', { class: 'card', 'aria-label': title }, title ? h('h3', {}, title) : null, body);
    Promise.resolve()
      .then(load)
      .then((content) => put(body, ...[content].flat().filter(Boolean)))
      .catch((e) => put(body, errorBox(e)));
    return el;
  }

  /**
   * A table over any number of rows: paged (50 by default), sortable by a
   * column, with an optional text filter. columns: [{label, value(row),
   * render?(row), num?}].
   */
  function table(columns, rows, opts = {}) {
    const pageSize = opts.pageSize || 50;
    let page = 0;
    let sortBy = opts.sortBy ?? -1;
    let dir = opts.sortDir || 1;
    let filter = '';
    const wrap = h('div', { class: 'table-wrap' });
    const pager = h('div', { class: 'pager' });
    const holder = h('div', { 'data-table': opts.name || '' });
    const search = opts.filter
      ? h('input', { type: 'search', placeholder: 'filter rows…', 'aria-label': `Filter ${opts.name || 'rows'}`, oninput: (e) => { filter = e.target.value.toLowerCase(); page = 0; draw(); } })
      : null;
    function view() {
      let out = rows;
      if (filter) out = out.filter((r) => columns.some((c) => String(c.value(r) ?? '').toLowerCase().includes(filter)));
      if (sortBy >= 0) {
        const c = columns[sortBy];
        out = [...out].sort((a, b) => {
          const x = c.value(a);
          const y = c.value(b);
          if (x === y) return 0;
          if (x === null || x === undefined) return 1;
          if (y === null || y === undefined) return -1;
          return (x < y ? -1 : 1) * dir;
        });
      }
      return out;
    }
    function draw() {
      const all = view();
      const pages = Math.max(1, Math.ceil(all.length / pageSize));
      page = Math.min(page, pages - 1);
      const slice = all.slice(page * pageSize, page * pageSize + pageSize);
      const head = h('tr', {}, columns.map((c, i) =>
        h('th', { scope: 'col', 'aria-sort': sortBy === i ? (dir > 0 ? 'ascending' : 'descending') : null, class: c.num ? 'num' : null },
          c.sortable === false ? c.label : h('button', { type: 'button', onclick: () => { dir = sortBy === i ? -dir : 1; sortBy = i; draw(); } }, c.label))));
      const body = slice.map((r) => h('tr', { class: opts.selected && opts.selected(r) ? 'selected' : null }, columns.map((c) => h('td', { class: c.num ? 'num' : null }, c.render ? c.render(r) : fmt(c.value(r))))));
      put(wrap, h('table', {}, opts.caption ? h('caption', { class: 'muted' }, opts.caption) : null, h('thead', {}, head), h('tbody', {}, body)));
      put(pager, 
        h('span', { class: 'muted' }, `${all.length.toLocaleString('en-US')} row${all.length === 1 ? '' : 's'}${filter ? ' (filtered)' : ''}`),
        pages > 1 ? h('button', { type: 'button', disabled: page === 0, onclick: () => { page--; draw(); } }, '‹ previous') : null,
        pages > 1 ? h('span', {}, `page ${page + 1} of ${pages}`) : null,
        pages > 1 ? h('button', { type: 'button', disabled: page >= pages - 1, onclick: () => { page++; draw(); } }, 'next ›') : null,
      );
    }
    draw();
    holder.append(...[search ? h('div', { class: 'filters' }, search) : null, wrap, pager].filter(Boolean));
    return holder;
  }

  // ---------- charts (uPlot) ----------
  const PALETTE = ['#3b6fb6', '#b5651d', '#2e7d32', '#8e24aa', '#c62828', '#00838f', '#6d4c41'];
  const DASHES = [[], [6, 3], [2, 2], [8, 3, 2, 3]];
  /** A line chart: x values and named series; dashes as well as colours tell series apart. */
  function lineChart(title, xs, series, opts = {}) {
    const el = h('figure', { class: 'chart', 'aria-label': title }, h('figcaption', { class: 'muted' }, title));
    if (typeof uPlot === 'undefined' || xs.length === 0) return el;
    const width = Math.max(280, Math.min(900, (main.clientWidth || 800) - 40));
    const data = [xs, ...series.map((s) => s.values)];
    const u = new uPlot({
      width,
      height: opts.height || 220,
      scales: { x: { time: !!opts.time } },
      axes: [{ label: opts.xLabel }, { label: opts.yLabel }],
      series: [{ label: opts.xLabel || 'x' }, ...series.map((s, i) => ({
        label: s.label,
        stroke: PALETTE[i % PALETTE.length],
        dash: DASHES[i % DASHES.length],
        width: 2,
        points: { show: opts.points ?? xs.length < 40 },
        paths: opts.scatter ? () => null : undefined,
      }))],
    }, data);
    el.append(u.root);
    return el;
  }
  /** Bars as a stepped area: one value per bin edge. */
  function barChart(title, labels, sets) {
    const el = h('figure', { class: 'chart', 'aria-label': title }, h('figcaption', { class: 'muted' }, title));
    if (typeof uPlot === 'undefined' || labels.length === 0) return el;
    const xs = labels.map((_, i) => i);
    const width = Math.max(280, Math.min(700, (main.clientWidth || 700) - 40));
    const bars = uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [sets.length > 1 ? 0.4 : 0.8, 60], align: 1 }) : undefined;
    const u = new uPlot({
      width,
      height: 200,
      scales: { x: { time: false, range: () => [-0.5, labels.length - 0.5] }, y: { range: (_, __, max) => [0, (max || 1) * 1.05] } },
      axes: [{ values: (_, ticks) => ticks.map((t) => (Number.isInteger(t) && labels[t] !== undefined ? String(labels[t]) : '')) }, {}],
      series: [{ label: 'bin', value: (_, v) => (v === null ? '—' : String(labels[v] ?? v)) }, ...sets.map((s, i) => ({ label: s.label, stroke: PALETTE[i], fill: `${PALETTE[i]}55`, width: 1, paths: bars, points: { show: false } }))],
    }, [xs, ...sets.map((s) => s.values)]);
    el.append(u.root);
    return el;
  }

  // ---------- views ----------
  const views = {};

  views.overview = async () => {
    const stageBox = h('div', { class: 'stages', role: 'list', 'aria-label': 'Pipeline stages' }, h('p', { class: 'muted' }, 'loading…'));
    const tail = h('div', {}, h('p', { class: 'muted' }, 'loading…'));
    (async () => {
      const settle = (p) => p.then((value) => ({ value }), (error) => ({ error }));
      const [datasets, views_, runs, models, status, alerts, health] = await Promise.all([
        settle(api('ingestion', '/datasets')), settle(api('feature-store', '/feature-views')), settle(api('training', '/runs?limit=1000')),
        settle(api('registry', '/models')), settle(api('serving', '/v1/serving/status')), settle(api('monitoring', '/alerts?status=active')),
        settle(api('monitoring', '/health/services')),
      ]);
      const down = new Set(((health.value && health.value.services) || []).filter((s) => !s.up).map((s) => s.service));
      const active = (alerts.value && alerts.value.alerts) || [];
      const stage = (name, service, r, describe, alertCount = 0) => {
        const n = alertCount + (down.has(service) ? 1 : 0);
        let state;
        let cls;
        if (r.error) { state = h('span', { class: 'error' }, r.error.message); cls = 'bad'; }
        else { const d = describe(r.value); state = d.text; cls = n > 0 ? 'bad' : d.idle ? 'idle' : 'ok'; }
        return h('div', { class: `stage ${cls}`, role: 'listitem', 'data-stage': name },
          h('h3', {}, name), h('div', { class: 'state' }, state),
          h('div', { class: n ? 'badge bad' : 'badge ok', 'data-alerts': String(n) }, n ? `${n} alert${n > 1 ? 's' : ''}` : 'no alerts'),
          down.has(service) ? h('div', { class: 'badge bad' }, `✗ ${service} down`) : null);
      };
      put(stageBox, 
        stage('ingest', 'ingestion', datasets, (v) => {
          const latest = v.datasets.flatMap((d) => (d.latest ? [{ ...d.latest, name: d.name }] : [])).sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1))[0];
          return latest
            ? { text: h('span', {}, `${v.datasets.length} dataset(s); latest `, link(`#/data/${enc(latest.name)}/${latest.version}`, `${latest.name} v${latest.version}`), `: ${fmt(latest.accepted)} accepted, ${fmt(latest.quarantined)} quarantined`) }
            : { text: 'no dataset yet', idle: true };
        }),
        stage('features', 'feature-store', views_, (v) => (v.featureViews.length ? { text: `${v.featureViews.length} feature view(s)` } : { text: 'no feature view (optional)', idle: true })),
        stage('train', 'training', runs, (v) => {
          const last = v.runs[0];
          return last ? { text: h('span', {}, `${v.runs.length} run(s); latest `, link(`#/runs/${enc(last.runId)}`, short(last.runId)), ` ${last.status}`) } : { text: 'no run yet', idle: true };
        }),
        stage('register', 'registry', models, (v) => {
          const prod = v.models.filter((m) => m.aliases && m.aliases.production !== undefined);
          return v.models.length
            ? { text: h('span', {}, `${v.models.length} model(s)`, prod.map((m) => [h('br'), link(`#/models/${enc(m.name)}`, m.name), `@production = v${m.aliases.production}`])) }
            : { text: 'no model registered', idle: true };
        }),
        stage('serve', 'serving', status, (v) => (v.models.length ? { text: `${v.models.length} version(s) loaded: ${v.models.map((m) => `${m.name} v${m.version}`).join(', ')}` } : { text: 'nothing served', idle: true })),
        stage('monitor', 'monitoring', alerts, (v) => ({ text: `${v.alerts.length} active alert(s)`, idle: false }), active.length),
      );
      if (datasets.value && datasets.value.datasets.length === 0) stageBox.after(empty('Nothing ingested yet: start with', 'mlp ingest <dataset> <file> --schema schema.yaml'));
    })().catch((e) => put(stageBox, errorBox(e)));
    (async () => {
      const page = await getJson('/events?limit=50');
      state.tail = page.events.slice().reverse();
      drawTail(tail);
    })().catch((e) => put(tail, errorBox(e)));
    state.tailEl = tail;
    return [h('h2', {}, 'Overview'), h('section', { class: 'card', 'aria-label': 'Pipeline' }, h('h3', {}, 'Pipeline: ingest → features → train → register → serve → monitor'), stageBox),
      h('section', { class: 'card', 'aria-label': 'Event log' }, h('h3', {}, 'Event log (live)'), tail)];
  };

  function drawTail(el) {
    const rows = state.tail || [];
    if (rows.length === 0) { put(el, empty('The event log is empty: every command the platform accepts appends here. Try', 'npm start')); return; }
    put(el, table([
      { label: '#', value: (e) => e.position, num: true },
      { label: 'time', value: (e) => e.occurredAt, render: (e) => time(e.occurredAt) },
      { label: 'type', value: (e) => e.type, render: (e) => h('span', { 'data-event-type': e.type }, e.type) },
      { label: 'stream', value: (e) => e.stream, render: (e) => link(`#/events/stream/${enc(e.stream)}`, e.stream) },
      { label: 'correlation', value: (e) => e.correlationId, render: (e) => link(`#/events/correlation/${enc(e.correlationId)}`, short(e.correlationId)) },
    ], rows, { name: 'event-tail', pageSize: 20 }));
  }

  views.events = async (kind, value) => {
    const q = kind === 'stream' ? `stream=${enc(value)}` : kind === 'correlation' ? `correlation=${enc(value)}` : kind === 'type' ? `type=${enc(value)}` : '';
    return [h('h2', {}, kind ? `Events with ${kind} ${value}` : 'Events'),
      section(null, async () => {
        const page = await getJson(`/events?limit=1000${q ? `&${q}` : ''}`);
        if (page.events.length === 0) return empty('No event matches.');
        return table([
          { label: '#', value: (e) => e.position, num: true },
          { label: 'time', value: (e) => e.occurredAt, render: (e) => time(e.occurredAt) },
          { label: 'type', value: (e) => e.type, render: (e) => link(`#/events/type/${enc(e.type)}`, e.type) },
          { label: 'stream', value: (e) => e.stream, render: (e) => link(`#/events/stream/${enc(e.stream)}`, e.stream) },
          { label: 'actor', value: (e) => e.actor },
          { label: 'correlation', value: (e) => e.correlationId, render: (e) => link(`#/events/correlation/${enc(e.correlationId)}`, short(e.correlationId)) },
          { label: 'data', value: (e) => JSON.stringify(e.data), render: (e) => h('details', {}, h('summary', {}, 'show'), h('pre', {}, JSON.stringify(e.data, null, 1))), sortable: false },
        ], page.events.slice().reverse(), { name: 'events', filter: true });
      })];
  };

  // ---------- Data ----------
  views.data = async (name, version) => {
    if (name && version) return dataVersion(name, Number(version));
    if (name) return dataset(name);
    return [h('h2', {}, 'Data'), section('Datasets', async () => {
      const { datasets } = await api('ingestion', '/datasets');
      if (datasets.length === 0) return empty('No dataset yet: register a schema and ingest a file with', 'mlp ingest <dataset> <file> --schema schema.yaml');
      return table([
        { label: 'dataset', value: (d) => d.name, render: (d) => link(`#/data/${enc(d.name)}`, d.name) },
        { label: 'versions', value: (d) => d.versions, num: true },
        { label: 'latest', value: (d) => d.latest && d.latest.version, render: (d) => (d.latest ? link(`#/data/${enc(d.name)}/${d.latest.version}`, `v${d.latest.version}`) : '—') },
        { label: 'status', value: (d) => d.latest && d.latest.status },
        { label: 'accepted', value: (d) => d.latest && d.latest.accepted, num: true },
        { label: 'quarantined', value: (d) => d.latest && d.latest.quarantined, num: true },
        { label: 'created', value: (d) => d.latest && d.latest.createdAt, render: (d) => time(d.latest && d.latest.createdAt) },
      ], datasets, { name: 'datasets', filter: true });
    })];
  };

  async function dataset(name) {
    return [h('h2', {}, h('a', { href: '#/data' }, 'Data'), ' / ', name), section('Versions', async () => {
      const d = await api('ingestion', `/datasets/${enc(name)}`);
      if (d.versions.length === 0) return empty('No version yet:', `mlp ingest ${name} <file>`);
      return table([
        { label: 'version', value: (v) => v.version, render: (v) => link(`#/data/${enc(name)}/${v.version}`, `v${v.version}`), num: true },
        { label: 'status', value: (v) => v.status },
        { label: 'rows', value: (v) => v.rows, num: true },
        { label: 'accepted', value: (v) => v.accepted, num: true },
        { label: 'quarantined', value: (v) => v.quarantined, num: true },
        { label: 'checks failed', value: (v) => ((v.report && v.report.failedChecks) || []).length, num: true },
        { label: 'source', value: (v) => v.source && v.source.kind },
        { label: 'created', value: (v) => v.createdAt, render: (v) => time(v.createdAt) },
      ], d.versions.slice().reverse(), { name: 'versions' });
    })];
  }

  function schemaDiff(before, after) {
    const a = (before && before.columns) || {};
    const b = (after && after.columns) || {};
    const rows = [];
    for (const c of Object.keys(b)) {
      if (!(c in a)) rows.push({ column: c, change: 'added', detail: b[c].type });
      else if (JSON.stringify(a[c]) !== JSON.stringify(b[c])) {
        const fields = [...new Set([...Object.keys(a[c]), ...Object.keys(b[c])])].filter((k) => JSON.stringify(a[c][k]) !== JSON.stringify(b[c][k]));
        rows.push({ column: c, change: 'changed', detail: fields.map((k) => `${k}: ${JSON.stringify(a[c][k])} → ${JSON.stringify(b[c][k])}`).join('; ') });
      }
    }
    for (const c of Object.keys(a)) if (!(c in b)) rows.push({ column: c, change: 'removed', detail: a[c].type });
    return rows;
  }

  async function dataVersion(name, version) {
    const v = await api('ingestion', `/datasets/${enc(name)}/versions/${version}`);
    const failed = (v.report && v.report.failedChecks) || [];
    return [
      h('h2', {}, h('a', { href: '#/data' }, 'Data'), ' / ', link(`#/data/${enc(name)}`, name), ` / v${version}`),
      h('section', { class: 'card', 'aria-label': 'Version' }, kv([
        ['status', v.status], ['rows', v.rows], ['accepted', h('span', { 'data-accepted': String(v.accepted) }, fmt(v.accepted))],
        ['quarantined', h('span', { 'data-quarantined': String(v.quarantined) }, fmt(v.quarantined))],
        ['checks failed', failed.length ? failed.map((c) => (typeof c === 'string' ? c : c.check || JSON.stringify(c))).join(', ') : h('span', { class: 'badge ok' }, '✓ none')],
        ['sha256', v.sha256], ['created', time(v.createdAt)],
      ])),
      section('Models trained on this version', async () => {
        const r = await api('registry', `/lineage/datasets/${enc(name)}/versions/${version}/models`);
        if (r.models.length === 0) return empty('No model was trained on this version yet:', 'mlp train train.yaml');
        return h('ul', { 'data-trained-models': '' }, r.models.map((m) => h('li', {}, link(`#/models/${enc(m.name)}/${m.version}`, `${m.name} v${m.version}`), ' — run ', link(`#/runs/${enc(m.runId)}`, short(m.runId)), m.aliases.length ? ` (${m.aliases.join(', ')})` : '')));
      }),
      section('Schema changes from the previous version', async () => {
        if (version <= 1) return h('p', { class: 'muted' }, 'The first version: nothing to compare with.');
        const prev = await apiOptional('ingestion', `/datasets/${enc(name)}/versions/${version - 1}`);
        if (!prev) return h('p', { class: 'muted' }, `v${version - 1} is not available.`);
        const rows = schemaDiff(prev.schema, v.schema);
        if (rows.length === 0) return h('p', { 'data-schema-diff': '0' }, 'No schema change.');
        return h('div', { 'data-schema-diff': String(rows.length) }, table([
          { label: 'column', value: (r) => r.column },
          { label: 'change', value: (r) => r.change, render: (r) => h('span', { class: `diff-${r.change}` }, { added: '+ added', removed: '− removed', changed: '~ changed' }[r.change]) },
          { label: 'detail', value: (r) => r.detail },
        ], rows, { name: 'schema-diff' }));
      }),
      section('Column statistics', async () => {
        const report = await api('ingestion', `/datasets/${enc(name)}/versions/${version}/report`);
        const cols = report.columns || [];
        const picker = h('select', { 'aria-label': 'Column for the histogram' }, cols.map((c) => h('option', { value: c.name }, c.name)));
        const hist = h('div');
        const drawHist = () => {
          const c = cols.find((x) => x.name === picker.value);
          if (!c) return put(hist, );
          if (c.histogram) {
            const labels = c.histogram.counts.map((_, i) => fmt(c.histogram.edges[i], 3));
            put(hist, barChart(`${c.name}: histogram of accepted rows`, labels, [{ label: 'rows', values: c.histogram.counts }]));
          } else if (c.topValues) {
            put(hist, barChart(`${c.name}: most frequent values`, c.topValues.map((t) => t.value), [{ label: 'rows', values: c.topValues.map((t) => t.count) }]));
          } else put(hist, h('p', { class: 'muted' }, 'No histogram for this column.'));
        };
        picker.addEventListener('change', drawHist);
        const approx = (flag, v) => (flag ? h('span', { title: 'approximate figure' }, `≈ ${fmt(v)} `, h('span', { class: 'badge warn' }, 'approx.')) : fmt(v));
        const t = table([
          { label: 'column', value: (c) => c.name },
          { label: 'type', value: (c) => c.type },
          { label: 'missing', value: (c) => c.missingFraction, render: (c) => `${fmt(100 * (c.missingFraction || 0), 2)}%`, num: true },
          { label: 'distinct', value: (c) => c.distinct, render: (c) => approx(c.distinctApproximate, c.distinct), num: true },
          { label: 'mean', value: (c) => c.mean, num: true },
          { label: 'std', value: (c) => c.std, num: true },
          { label: 'min', value: (c) => c.min, num: true },
          { label: 'median', value: (c) => c.quantiles && c.quantiles.p50, render: (c) => approx(c.quantilesApproximate, c.quantiles && c.quantiles.p50), num: true },
          { label: 'max', value: (c) => c.max, num: true },
          { label: 'non-finite', value: (c) => c.nonFinite, num: true },
        ], cols, { name: 'column-stats' });
        setTimeout(drawHist);
        return [t, h('div', { class: 'filters' }, h('label', {}, 'Histogram of ', picker)), hist, report.reasons && Object.keys(report.reasons).length
          ? h('p', {}, 'Quarantine reasons: ', Object.entries(report.reasons).map(([r, n]) => `${r} × ${n}`).join(', ')) : null];
      }),
      section('Quarantined rows', async () => {
        if (!v.quarantined) return h('p', { 'data-quarantine-rows': '0' }, 'No row was quarantined.');
        const res = await getRaw(`/api/ingestion/datasets/${enc(name)}/versions/${version}/quarantine?format=ndjson`);
        const rows = (await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l));
        const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
        const reasonKey = keys.find((k) => /reason/i.test(k));
        const ordered = reasonKey ? [reasonKey, ...keys.filter((k) => k !== reasonKey)] : keys;
        const cell = (v) => {
          if (Array.isArray(v) && v.every((x) => x && typeof x === 'object' && 'code' in x)) return v.map((x) => (x.column ? `${x.code} (${x.column})` : x.code)).join(', ');
          return typeof v === 'object' && v !== null ? JSON.stringify(v) : v;
        };
        return h('div', { 'data-quarantine-rows': String(rows.length) }, table(ordered.map((k) => ({ label: k, value: (r) => cell(r[k]) })), rows, { name: 'quarantine', filter: true }));
      }),
    ];
  }

  // ---------- Experiments ----------
  const metricNames = (runs) => [...new Set(runs.flatMap((r) => Object.keys(r.metrics || {})))];
  views.experiments = async () => [h('h2', {}, 'Experiments'), section('Runs', async () => {
    const { runs } = await api('training', '/runs?limit=1000');
    if (runs.length === 0) return empty('No run yet: start one with', 'mlp train train.yaml');
    const metrics = metricNames(runs).slice(0, 6);
    const picked = new Set();
    const compare = h('button', { type: 'button', disabled: true, onclick: () => { location.hash = `#/compare/${[...picked].map(enc).join('/')}`; } }, 'Compare selected (2)');
    const t = table([
      { label: '', value: () => null, sortable: false, render: (r) => h('input', { type: 'checkbox', 'aria-label': `select run ${short(r.runId)}`, checked: picked.has(r.runId), onchange: (e) => { if (e.target.checked) picked.add(r.runId); else picked.delete(r.runId); compare.disabled = picked.size !== 2; } }) },
      { label: 'run', value: (r) => r.runId, render: (r) => link(`#/runs/${enc(r.runId)}`, short(r.runId)) },
      { label: 'experiment', value: (r) => r.experiment },
      { label: 'status', value: (r) => r.status },
      { label: 'created', value: (r) => r.createdAt, render: (r) => time(r.createdAt) },
      { label: 'trials', value: (r) => (r.trials || []).length, num: true },
      ...metrics.map((m) => ({ label: m, value: (r) => (r.metrics || {})[m], num: true, render: (r) => h('span', { 'data-run-metric': `${r.runId}:${m}` }, fmt((r.metrics || {})[m])) })),
      { label: 'params', value: (r) => JSON.stringify(r.params || {}) },
    ], runs, { name: 'runs', filter: true, sortBy: 4, sortDir: -1 });
    return [t, compare];
  })];

  views.runs = async (id) => {
    const run = await api('training', `/runs/${enc(id)}`);
    const trials = run.trials || [];
    const paramNames = [...new Set(trials.flatMap((t) => Object.keys(t.params || {})))].filter((p) => trials.some((t) => typeof (t.params || {})[p] === 'number'));
    const trialMetrics = [...new Set(trials.flatMap((t) => Object.keys(t.metrics || {})))];
    return [
      h('h2', {}, h('a', { href: '#/experiments' }, 'Experiments'), ` / run ${short(id)}`),
      h('section', { class: 'card', 'aria-label': 'Run' }, kv([
        ['run id', run.runId], ['experiment', run.experiment], ['status', run.status], ['task', run.task], ['seed', run.seed], ['backend', run.backend],
        ['inputs', h('span', {}, (run.inputs || []).map((i) => {
          const m = /^dataset:(.+)@(\d+)$/.exec(i.ref || '');
          return m ? link(`#/data/${enc(m[1])}/${m[2]}`, i.ref) : i.ref;
        }).flatMap((x, i) => (i ? [', ', x] : [x])))],
        ['rows', run.rows], ['split', run.split ? `train ${run.split.train}, test ${run.split.test}` : '—'], ['blessed', run.blessed === undefined ? '—' : badge(run.blessed, 'blessed', 'not blessed')],
        ['params', h('code', {}, JSON.stringify(run.params || {}))],
      ])),
      h('section', { class: 'card', 'aria-label': 'Holdout metrics' }, h('h3', {}, 'Holdout metrics'), kv(Object.entries(run.metrics || {}).map(([k, v]) => [k, h('span', { 'data-metric': k }, fmt(v))]))),
      section('Per-epoch curves', async () => {
        const { curves } = await api('training', `/runs/${enc(id)}/curves`);
        const final = curves.final || Object.values(curves)[0] || [];
        if (final.length === 0) return h('p', { class: 'muted' }, 'No curve recorded.');
        const keys = [...new Set(final.flatMap((e) => Object.keys(e.metrics)))];
        return lineChart('final fit: metrics per epoch', final.map((e) => e.epoch), keys.map((k) => ({ label: k, values: final.map((e) => e.metrics[k] ?? null) })), { xLabel: 'epoch' });
      }),
      trials.length > 1 && paramNames.length
        ? section('Trials: metric against parameter', async () => {
          const p = h('select', { 'aria-label': 'Parameter' }, paramNames.map((x) => h('option', { value: x }, x)));
          const m = h('select', { 'aria-label': 'Metric' }, trialMetrics.map((x) => h('option', { value: x }, x)));
          const out = h('div');
          const draw = () => {
            const pts = trials.filter((t) => typeof (t.params || {})[p.value] === 'number' && t.metrics && t.metrics[m.value] !== undefined).sort((a, b) => a.params[p.value] - b.params[p.value]);
            put(out, lineChart(`${m.value} by ${p.value}`, pts.map((t) => t.params[p.value]), [{ label: m.value, values: pts.map((t) => t.metrics[m.value]) }], { xLabel: p.value, scatter: true, points: true }));
          };
          p.addEventListener('change', draw);
          m.addEventListener('change', draw);
          setTimeout(draw);
          return [h('div', { class: 'filters' }, h('label', {}, 'parameter ', p), h('label', {}, 'metric ', m)), out];
        })
        : null,
      trials.length
        ? section('Trials', async () => table([
          { label: 'trial', value: (t) => t.trial, num: true },
          { label: 'status', value: (t) => t.status },
          { label: 'params', value: (t) => JSON.stringify(t.params || {}) },
          ...trialMetrics.slice(0, 5).map((k) => ({ label: k, value: (t) => (t.metrics || {})[k], num: true })),
        ], trials, { name: 'trials' }))
        : null,
      section('Model card', async () => {
        try {
          const res = await getRaw(`/api/training/runs/${enc(id)}/artifacts/model-card`);
          return h('pre', { 'data-model-card': '' }, await res.text());
        } catch (e) {
          if (e.status === 404 || e.status === 409) return h('p', { class: 'muted' }, 'No model card: the run has not completed.');
          throw e;
        }
      }),
      section('Registered as', async () => {
        const { versions } = await api('registry', `/versions?runId=${enc(id)}`);
        if (!versions.length) return empty('Not registered yet:', `mlp register <model> --run ${id}`);
        return h('ul', {}, versions.map((v) => h('li', {}, link(`#/models/${enc(v.name)}/${v.version}`, `${v.name} v${v.version}`))));
      }),
    ];
  };

  views.compare = async (a, b) => [h('h2', {}, h('a', { href: '#/experiments' }, 'Experiments'), ` / compare ${short(a)} and ${short(b)}`), section(null, async () => {
    const [x, y] = await Promise.all([api('training', `/runs/${enc(a)}`), api('training', `/runs/${enc(b)}`)]);
    const keys = [...new Set([...Object.keys(x.metrics || {}), ...Object.keys(y.metrics || {})])];
    const params = [...new Set([...Object.keys(x.params || {}), ...Object.keys(y.params || {})])];
    const rows = [
      ...['experiment', 'status', 'seed', 'rows'].map((k) => ({ what: k, a: x[k], b: y[k] })),
      ...params.map((k) => ({ what: `param ${k}`, a: (x.params || {})[k], b: (y.params || {})[k] })),
      ...keys.map((k) => ({ what: k, a: (x.metrics || {})[k], b: (y.metrics || {})[k], delta: (y.metrics || {})[k] - (x.metrics || {})[k] })),
    ];
    return table([
      { label: '', value: (r) => r.what },
      { label: `run ${short(a)}`, value: (r) => r.a, render: (r) => (typeof r.a === 'object' ? JSON.stringify(r.a) : fmt(r.a)) },
      { label: `run ${short(b)}`, value: (r) => r.b, render: (r) => (typeof r.b === 'object' ? JSON.stringify(r.b) : fmt(r.b)) },
      { label: 'Δ (b − a)', value: (r) => r.delta, num: true },
    ], rows, { name: 'compare', pageSize: 100 });
  })];

  // ---------- Models ----------
  views.models = async (name, version) => {
    if (name && version) return modelVersion(name, Number(version));
    if (name) return model(name);
    return [h('h2', {}, 'Models'), section('Registered models', async () => {
      const { models } = await api('registry', '/models');
      if (models.length === 0) return empty('No registered model: register a completed run with', 'mlp register <model> --run <runId>');
      return table([
        { label: 'model', value: (m) => m.name, render: (m) => link(`#/models/${enc(m.name)}`, m.name) },
        { label: 'versions', value: (m) => m.versions, num: true },
        { label: 'latest', value: (m) => m.latestVersion, num: true },
        { label: 'aliases', value: (m) => JSON.stringify(m.aliases), render: (m) => Object.entries(m.aliases || {}).map(([a, v]) => `${a} → v${v}`).join(', ') || '—' },
        { label: 'status', value: (m) => m.status },
        { label: 'updated', value: (m) => m.updatedAt, render: (m) => time(m.updatedAt) },
      ], models, { name: 'models', filter: true });
    })];
  };

  async function model(name) {
    const m = await api('registry', `/models/${enc(name)}`);
    const aliases = Object.entries(m.aliases || {});
    return [
      h('h2', {}, h('a', { href: '#/models' }, 'Models'), ` / ${name}`),
      h('section', { class: 'card', 'aria-label': 'Aliases' }, h('h3', {}, 'Aliases'), aliases.length
        ? h('ul', {}, aliases.map(([a, v]) => h('li', {}, h('strong', {}, a), ' → ', link(`#/models/${enc(name)}/${v}`, `v${v}`, { 'data-alias': a, 'data-version': String(v) }))))
        : empty('No alias yet: promote a version with', `mlp promote ${name} <version> --alias production`),
        h('p', {}, link(`#/drift/${enc(name)}`, 'drift and performance of this model →'))),
      section('Versions', async () => {
        const { versions } = await api('registry', `/models/${enc(name)}/versions`);
        const metrics = metricNames(versions).slice(0, 5);
        return table([
          { label: 'version', value: (v) => v.version, render: (v) => link(`#/models/${enc(name)}/${v.version}`, `v${v.version}`), num: true },
          { label: 'status', value: (v) => v.status },
          { label: 'blessed', value: (v) => v.blessed, render: (v) => badge(v.blessed, 'yes', 'no') },
          { label: 'run', value: (v) => v.runId, render: (v) => link(`#/runs/${enc(v.runId)}`, short(v.runId)) },
          ...metrics.map((k) => ({ label: k, value: (v) => (v.metrics || {})[k], num: true })),
          { label: 'created', value: (v) => v.createdAt, render: (v) => time(v.createdAt) },
        ], versions, { name: 'model-versions', sortBy: 0, sortDir: -1 });
      }),
      ...aliases.map(([a]) => section(`History of @${a}`, async () => {
        const hist = await api('registry', `/models/${enc(name)}/aliases/${enc(a)}/history`);
        return table([
          { label: 'version', value: (e) => e.version, render: (e) => link(`#/models/${enc(name)}/${e.version}`, `v${e.version}`), num: true },
          { label: 'from', value: (e) => e.from, render: (e) => time(e.from) },
          { label: 'to', value: (e) => e.to, render: (e) => (e.to ? time(e.to) : 'now') },
          { label: 'how', value: (e) => e.kind },
          { label: 'actor', value: (e) => e.actor },
          { label: 'reason', value: (e) => e.reason },
        ], hist.history.slice().reverse(), { name: `alias-${a}` });
      })),
      section('Deployment', async () => {
        const d = await api('serving', `/deployments/${enc(name)}`);
        const parts = [];
        if (d.split.length) {
          parts.push(h('div', { class: 'split', role: 'img', 'aria-label': d.split.map((s) => `${s.arm} v${s.version} ${s.weight}%`).join(', ') },
            d.split.filter((s) => s.weight > 0).map((s) => h('span', { style: `width:${s.weight}%` }, `${s.arm} v${s.version} ${s.weight}%`))));
          parts.push(h('p', {}, d.split.map((s) => `${s.arm}: v${s.version} at ${s.weight}%`).join(' · '), d.mirror ? ` · shadow v${d.mirror.version} mirrors ${d.mirror.percent}%` : ''));
        } else parts.push(empty('No rollout recorded: the alias holder takes all traffic. Roll out a new version with', `mlp deploy ${name} --version <v> --strategy canary --weight 10`));
        if (d.active) parts.push(kv([['strategy', d.active.strategy], ['stable', `v${d.active.stableVersion}`], ['candidate', `v${d.active.candidateVersion}`], ['started', time(d.active.startedAt)]]));
        if (d.history.length) {
          const shifts = d.history.filter((e) => e.data && e.data.weights);
          if (shifts.length) parts.push(lineChart('candidate share of traffic over time (%)', shifts.map((e) => Date.parse(e.at) / 1000), [{ label: 'candidate %', values: shifts.map((e) => e.data.weights.candidate ?? null) }], { time: true }));
          parts.push(table([
            { label: 'time', value: (e) => e.at, render: (e) => time(e.at) },
            { label: 'event', value: (e) => e.type },
            { label: 'actor', value: (e) => e.actor },
            { label: 'details', value: (e) => JSON.stringify(e.data) },
          ], d.history.slice().reverse(), { name: 'deployment-history' }));
        }
        return parts;
      }),
      section('Live serving metrics', async () => {
        const [status, health] = await Promise.all([api('serving', '/v1/serving/status'), api('monitoring', '/health/services')]);
        const loaded = status.models.filter((x) => x.name === name);
        const serving = health.services.find((s) => s.service === 'serving');
        const series = ((serving && serving.passThrough) || []).filter((s) => s.labels && s.labels.model === name);
        return [
          loaded.length ? table([
            { label: 'version', value: (x) => x.version },
            { label: 'aliases', value: (x) => x.aliases.join(', ') },
            { label: 'requests', value: (x) => x.requests, num: true, render: (x) => h('span', { 'data-served-requests': `${x.version}` }, fmt(x.requests)) },
            { label: 'req/s', value: (x) => x.requestsPerSecond, num: true },
            { label: 'in flight', value: (x) => x.inflight, num: true },
            { label: 'queue', value: (x) => x.queueDepth, num: true },
            { label: 'loaded', value: (x) => x.loadedAt, render: (x) => time(x.loadedAt) },
          ], loaded, { name: 'loaded' }) : empty('No version of this model is loaded: assign an alias with', `mlp promote ${name} <version> --alias production`),
          series.length ? table([
            { label: 'series', value: (s) => s.name },
            { label: 'labels', value: (s) => Object.entries(s.labels).filter(([k]) => k !== 'model').map(([k, v]) => `${k}=${v}`).join(' ') },
            { label: 'value', value: (s) => s.value, num: true },
          ], series, { name: 'arm-metrics', caption: 'per version and arm, as serving exports them' }) : null,
        ];
      }),
    ];
  }

  function lineageTree(graph) {
    const nodes = new Map(graph.nodes.map((n) => [n.id, n]));
    const children = new Map();
    for (const e of graph.edges) {
      // Edges point downstream (dataset → run → model): the tree walks upstream from the root.
      if (!children.has(e.to)) children.set(e.to, []);
      children.get(e.to).push({ id: e.from, relation: e.relation });
    }
    const label = (n) => {
      if (!n) return '?';
      if (n.type === 'dataset-version') return link(`#/data/${enc(n.dataset)}/${n.version}`, `dataset ${n.dataset} v${n.version}`, { 'data-lineage-dataset': `${n.dataset}@${n.version}` });
      if (n.type === 'run') return link(`#/runs/${enc(n.runId)}`, `run ${short(n.runId)}`);
      if (n.type === 'model-version') return link(`#/models/${enc(n.model)}/${n.version}`, `${n.model} v${n.version}`);
      return `${n.type} ${n.id}`;
    };
    const seen = new Set();
    const walk = (id, relation) => {
      const n = nodes.get(id);
      const kids = seen.has(id) ? [] : children.get(id) || [];
      seen.add(id);
      return h('li', {}, relation ? h('span', { class: 'muted' }, `${relation}: `) : null, label(n), kids.length ? h('ul', {}, kids.map((k) => walk(k.id, k.relation))) : null);
    };
    return h('div', { class: 'tree' }, h('ul', {}, walk(graph.root)));
  }

  async function modelVersion(name, version) {
    const v = await api('registry', `/models/${enc(name)}/versions/${version}`);
    return [
      h('h2', {}, h('a', { href: '#/models' }, 'Models'), ' / ', link(`#/models/${enc(name)}`, name), ` / v${version}`),
      h('section', { class: 'card', 'aria-label': 'Version' }, kv([
        ['status', v.status], ['blessed', badge(v.blessed, 'blessed', 'not blessed')], ['aliases', (v.aliases || []).join(', ') || '—'],
        ['run', link(`#/runs/${enc(v.runId)}`, v.runId)], ['backend', v.backend], ['weights sha256', v.weightsSha256],
        ['approvals', (v.approvals || []).length ? v.approvals.map((a) => `${a.alias} by ${a.approver || a.actor} (${a.reason || ''})`).join('; ') : 'none'],
        ['drift', link(`#/drift/${enc(name)}`, 'drift and performance →')],
      ])),
      h('section', { class: 'card', 'aria-label': 'Metrics' }, h('h3', {}, 'Metrics'), kv(Object.entries(v.metrics || {}).map(([k, x]) => [k, fmt(x)]))),
      section('Lineage', async () => lineageTree(await api('registry', `/lineage/models/${enc(name)}/versions/${version}`))),
      section('Signature', async () => table([
        { label: 'input', value: (i) => i.name },
        { label: 'type', value: (i) => i.type },
        { label: 'nullable', value: (i) => i.nullable },
        { label: 'allowed', value: (i) => (i.values ? i.values.join(', ') : i.min !== undefined ? `${i.min} … ${i.max}` : '') },
      ], (v.signature && v.signature.inputs) || [], { name: 'signature' })),
    ];
  }

  // ---------- Drift ----------
  views.drift = async (name) => {
    if (!name) {
      return [h('h2', {}, 'Drift'), section('Models', async () => {
        const { models } = await api('registry', '/models');
        if (models.length === 0) return empty('No model yet: drift is measured against a served version.', 'mlp promote <model> <version> --alias production');
        return h('ul', {}, models.map((m) => h('li', {}, link(`#/drift/${enc(m.name)}`, m.name))));
      })];
    }
    const history = await api('monitoring', `/monitoring/${enc(name)}/drift?limit=1000`);
    const reports = history.reports || [];
    const latest = reports[reports.length - 1];
    const features = latest ? [...latest.features.map((f) => f.name), ...(latest.prediction ? ['prediction'] : [])] : [];
    const pick = h('select', { 'aria-label': 'Feature' }, features.map((f) => h('option', { value: f }, f)));
    const featureChart = h('div');
    const drawFeature = () => {
      const f = pick.value;
      const pts = reports.map((r) => ({ at: r.at, t: f === 'prediction' ? r.prediction : r.features.find((x) => x.name === f) })).filter((p) => p.t);
      if (!pts.length) return put(featureChart, );
      const t = pts[pts.length - 1].t;
      const useP = t.pValue !== null && t.pValue !== undefined;
      put(featureChart, lineChart(`${f}: ${useP ? 'p-value' : `${t.method} distance`} per window against its threshold (${t.method})`, pts.map((p) => Date.parse(p.at) / 1000), [
        { label: useP ? 'p-value' : 'distance', values: pts.map((p) => (useP ? p.t.pValue : p.t.statistic)) },
        { label: 'threshold', values: pts.map((p) => p.t.threshold) },
      ], { time: true }));
    };
    pick.addEventListener('change', drawFeature);
    setTimeout(drawFeature);
    return [
      h('h2', {}, h('a', { href: '#/drift' }, 'Drift'), ` / ${name}`),
      latest
        ? h('section', { class: 'card', 'aria-label': 'Latest window' }, h('h3', {}, `Latest window: v${latest.version}, ${latest.window.rows} rows, ${time(latest.at)}`),
          h('p', {}, 'Dataset drift: ', latest.datasetDrift ? h('span', { class: 'badge bad', 'data-dataset-drift': 'true' }, '✗ drift') : h('span', { class: 'badge ok', 'data-dataset-drift': 'false' }, '✓ no drift'),
            ` — share of drifted features ${fmt(latest.driftShare, 3)} (threshold ${fmt(latest.shareThreshold)})`),
          table([
            { label: 'feature', value: (f) => f.name },
            { label: 'method', value: (f) => f.method },
            { label: 'statistic', value: (f) => f.statistic, num: true, render: (f) => h('span', { 'data-drift-statistic': f.name }, fmt(f.statistic, 6)) },
            { label: 'p-value', value: (f) => f.pValue, num: true },
            { label: 'threshold', value: (f) => f.threshold, num: true },
            { label: 'drifted', value: (f) => f.drifted, render: (f) => (f.drifted ? h('span', { class: 'badge bad' }, '✗ drift') : h('span', { class: 'badge ok' }, '✓ stable')) },
          ], [...latest.features, ...(latest.prediction ? [latest.prediction] : [])], { name: 'drift-features' }))
        : empty('No drift report yet: a report follows each full window of served predictions. Send traffic with', `mlp predict ${name} --input rows.json`),
      reports.length
        ? h('section', { class: 'card', 'aria-label': 'Over time' }, h('h3', {}, 'Per feature over time'), h('div', { class: 'filters' }, h('label', {}, 'feature ', pick)), featureChart,
          lineChart('dataset drift share per window', reports.map((r) => Date.parse(r.at) / 1000), [{ label: 'drift share', values: reports.map((r) => r.driftShare) }, { label: 'threshold', values: reports.map((r) => r.shareThreshold) }], { time: true }))
        : null,
      latest ? section('Reference and current distribution', () => distribution(name, latest, pick)) : null,
      section('Performance from feedback', async () => {
        const perf = await api('monitoring', `/monitoring/${enc(name)}/performance?limit=1000`);
        if (!perf.points.length) return empty('No labelled predictions yet: send ground truth with', 'POST /v1/feedback {"request_id", "label"}');
        const metric = Object.keys(perf.points[perf.points.length - 1].metrics)[0];
        const keys = [...new Set(perf.points.map((p) => `v${p.version} ${p.arm}`))];
        const xs = perf.points.map((p) => Date.parse(p.to || p.at) / 1000);
        return [
          lineChart(`${metric} per window, by version and arm`, xs, keys.map((k) => ({ label: k, values: perf.points.map((p) => (`v${p.version} ${p.arm}` === k ? p.metrics[metric] : null)) })), { time: true, points: true }),
          table([
            { label: 'version', value: (p) => p.version, num: true },
            { label: 'arm', value: (p) => p.arm },
            { label: 'labelled', value: (p) => p.labelled, num: true },
            { label: metric, value: (p) => p.metrics[metric], num: true },
            { label: `holdout ${metric}`, value: (p) => (p.reference || {})[metric], num: true },
            { label: 'degraded', value: (p) => !!p.degraded, render: (p) => (p.degraded ? h('span', { class: 'badge bad' }, '✗ degraded') : h('span', { class: 'badge ok' }, '✓ ok')) },
          ], perf.points.slice().reverse(), { name: 'performance' }),
        ];
      }),
      section('Alerts', async () => {
        const { alerts } = await api('monitoring', `/alerts?model=${enc(name)}&status=all`);
        if (!alerts.length) return h('p', { class: 'muted' }, 'No alert was raised for this model. Policies decide when: ', h('code', {}, 'mlp monitor apply policy.yaml'));
        return table([
          { label: 'condition', value: (a) => a.condition },
          { label: 'status', value: (a) => a.status, render: (a) => (a.status === 'active' ? h('span', { class: 'badge bad' }, '● active') : h('span', { class: 'badge ok' }, '○ resolved')) },
          { label: 'severity', value: (a) => a.severity },
          { label: 'raised', value: (a) => a.raisedAt, render: (a) => time(a.raisedAt) },
          { label: 'resolved', value: (a) => a.resolvedAt, render: (a) => time(a.resolvedAt) },
          { label: 'message', value: (a) => a.message },
        ], alerts, { name: 'alerts' });
      }),
    ];
  };

  async function distribution(name, latest, pick) {
    const out = h('div');
    const draw = async () => {
      const f = pick.value;
      try {
        const d = await api('monitoring', `/monitoring/${enc(name)}/distribution?feature=${enc(f)}&report=${enc(latest.eventId)}`);
        if (!d.labels.length) return put(out, h('p', { class: 'muted' }, `No distribution recorded for ${f}.`));
        put(out, barChart(`${f}: share of rows per ${d.kind === 'numeric' ? 'bin' : 'value'}, reference (training) against the current window`, d.labels, [
          { label: `reference (${d.reference.rows} rows)`, values: d.reference.shares },
          { label: `current (${d.current.rows} rows)`, values: d.current.shares },
        ]), d.note ? h('p', { class: 'muted' }, d.note) : null);
      } catch (e) {
        put(out, errorBox(e));
      }
    };
    pick.addEventListener('change', draw);
    await draw();
    return out;
  }

  // ---------- System ----------
  views.system = async () => [h('h2', {}, 'System'), section('Services', async () => {
    const health = await api('monitoring', '/health/services?fresh=true');
    const ms = (s) => (s === null || s === undefined ? '—' : `${fmt(s * 1000, 1)} ms`);
    return [
      table([
        { label: 'service', value: (s) => s.service },
        { label: 'up', value: (s) => s.up, render: (s) => h('span', { 'data-up': s.service }, s.up ? h('span', { class: 'badge ok' }, '✓ up') : h('span', { class: 'badge bad', title: s.error || '' }, `✗ down: ${s.error || ''}`)) },
        { label: 'requests', value: (s) => s.http && s.http.requestsTotal, num: true, render: (s) => h('span', { 'data-requests': s.service }, fmt(s.http && s.http.requestsTotal)) },
        { label: 'req/s', value: (s) => s.http && s.http.requestRate, num: true },
        { label: '5xx rate', value: (s) => s.http && s.http.errorRate, num: true },
        { label: 'p50', value: (s) => s.http && s.http.latency.p50, render: (s) => ms(s.http && s.http.latency.p50), num: true },
        { label: 'p95', value: (s) => s.http && s.http.latency.p95, render: (s) => ms(s.http && s.http.latency.p95), num: true },
        { label: 'p99', value: (s) => s.http && s.http.latency.p99, render: (s) => ms(s.http && s.http.latency.p99), num: true },
        { label: 'queues', value: (s) => s.queues.reduce((a, q) => a + q.depth, 0), render: (s) => (s.queues.length ? s.queues.map((q) => `${Object.values(q.labels).join('/')}: ${q.depth}`).join(', ') : '—') },
      ], health.services, { name: 'services' }),
      h('h3', {}, `Process managers (event-store head ${fmt(health.head)})`),
      table([
        { label: 'process manager', value: (m) => m.name },
        { label: 'checkpoint', value: (m) => m.checkpoint, num: true },
        { label: 'lag (events)', value: (m) => m.lag, num: true, render: (m) => (m.lag === null ? 'not started' : fmt(m.lag)) },
      ], health.managers || [], { name: 'process-managers' }),
    ];
  })];

  // ---------- router and live updates ----------
  const state = { tail: [], tailEl: null, rendering: false, dirty: false };
  const routes = { overview: views.overview, data: views.data, experiments: views.experiments, runs: views.runs, compare: views.compare, models: views.models, drift: views.drift, system: views.system, events: views.events };
  const navOf = { runs: 'experiments', compare: 'experiments' };

  async function render() {
    if (state.rendering) { state.dirty = true; return; }
    state.rendering = true;
    const [name, ...args] = (location.hash.replace(/^#\/?/, '') || 'overview').split('/').map(decodeURIComponent);
    const view = routes[name] || views.overview;
    const current = routes[name] ? name : 'overview';
    for (const a of document.querySelectorAll('nav a')) a.setAttribute('aria-current', a.dataset.view === (navOf[current] || current) ? 'page' : 'false');
    state.tailEl = null;
    try {
      const content = await view(...args);
      const scroll = window.scrollY;
      put(main, ...[content].flat().filter(Boolean));
      window.scrollTo(0, scroll);
      main.dataset.view = current;
      main.dataset.rendered = String(Date.now());
    } catch (e) {
      put(main, h('h2', {}, current), errorBox(e));
    } finally {
      state.rendering = false;
      if (state.dirty) { state.dirty = false; render(); }
    }
  }

  let refresh = null;
  /** A new event: the tail grows at once; the view re-renders shortly after (several events, one render). */
  function onEvent(e) {
    state.tail.unshift(e);
    if (state.tail.length > 200) state.tail.length = 200;
    main.dataset.lastEvent = String(e.position);
    if (state.tailEl) drawTail(state.tailEl);
    clearTimeout(refresh);
    refresh = setTimeout(() => { if (!document.activeElement || !['INPUT', 'SELECT'].includes(document.activeElement.tagName)) render(); }, 700);
  }

  /** The event feed over fetch (so the API key can go in a header), reconnecting after `after` on failure. */
  async function follow() {
    let after = null;
    for (;;) {
      try {
        const res = await fetch(`/events/live${after !== null ? `?after=${after}` : ''}`, { headers: headers() });
        if (!res.ok) throw new ApiError('/events/live', res.status, await res.json().catch(() => null));
        liveStatus.textContent = '● live';
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let cut;
          while ((cut = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
            if (!data) continue;
            const e = JSON.parse(data);
            after = e.position;
            onEvent(e);
          }
        }
        liveStatus.textContent = '○ reconnecting…';
      } catch (e) {
        liveStatus.textContent = `○ live feed unavailable (${e.message}); retrying`;
      }
      await new Promise((r) => setTimeout(r, 3000));
    }
  }

  document.getElementById('key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const v = document.getElementById('api-key').value.trim();
    if (v) sessionStorage.setItem(KEY, v); else sessionStorage.removeItem(KEY);
    document.getElementById('api-key').value = '';
    render();
  });
  window.addEventListener('hashchange', () => { render(); main.focus(); });
  render();
  follow();
})();
