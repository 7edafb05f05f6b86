import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { streams, type EventData } from '@mlp/contracts';
import { SeededRng } from '@mlp/ml';
import { startInProcessServices, type InProcessServices } from '@mlp/service-kit/testing';
import { featureStoreService } from '@mlp/service-feature-store';
import { ingestionService } from '@mlp/service-ingestion';
import { registryService } from '@mlp/service-registry';
import { servingService } from '@mlp/service-serving';
import { trainingService } from '@mlp/service-training';
import { eventually, ingestPenguins, penguinsFiles, penguinsSpec, repoRoot } from '@mlp/testing';
import { monitoringService } from '../index';

jest.setTimeout(300_000);

// Callbacks passed to page.waitForFunction/evaluate run in the browser: these are the few page globals they use.
interface PageElement {
  dataset: Record<string, string | undefined>;
  textContent: string | null;
}
declare const document: { querySelector(selector: string): PageElement | null; querySelectorAll(selector: string): ArrayLike<PageElement>; documentElement: { scrollWidth: number } };
declare const location: { hash: string };
declare const window: Record<string, unknown>;

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = process.env.MLP_TEST_ARTIFACTS ? join(process.env.MLP_TEST_ARTIFACTS, 'dashboard') : join(repoRoot, 'tmp/test-artifacts/dashboard');

/** The page's number format (app.js `fmt`), so a rendered figure can be compared with the API's. */
function fmt(v: number, digits = 4): string {
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(3) : String(Number(v.toFixed(digits)));
}

/** Penguins rows as traffic: resampled (like training) or shifted (drifted). */
const rng = new SeededRng(3);
const [header, ...lines] = readFileSync(penguinsFiles.csv, 'utf8').trim().split('\n');
const names = header.split(',');
const penguins = lines
  .map((line) => Object.fromEntries(line.split(',').map((v, i) => [names[i], v === 'NA' ? null : /^[0-9.]+$/.test(v) ? Number(v) : v])) as Record<string, string | number | null>)
  .filter((r) => r.bill_length_mm !== null && r.sex !== null);
const traffic = (n: number, shift: boolean) =>
  Array.from({ length: n }, () => {
    const { species: _label, ...f } = penguins[rng.int(0, penguins.length)];
    return shift ? { ...f, island: 'Biscoe', bill_length_mm: (f.bill_length_mm as number) + 8, body_mass_g: (f.body_mass_g as number) + 600 } : f;
  });

/**
 * The dashboard in real headless Chromium against the platform after the
 * demo pipeline (ingest → train → register → serve → traffic with drift):
 * every figure checked is read from the rendered page and compared with the
 * API's answer for the same object.
 */
describe('dashboard (Chromium)', () => {
  let p: InProcessServices;
  let browser: Browser;
  let page: Page;
  let runId: string;
  const problems: string[] = [];
  const url = (i: number, path: string) => `${p.services[i].url}${path}`;
  const json = async <T>(i: number, path: string) => (await (await fetch(url(i, path))).json()) as T;
  const dashboard = () => p.services[5].url;
  const open = async (hash: string) => {
    await page.goto(`${dashboard()}/${hash}`);
    await page.waitForFunction(() => document.querySelector('main')?.dataset.rendered !== undefined);
    // Sections load on their own: wait until none says "loading…".
    await page.waitForFunction(() => !Array.from(document.querySelectorAll('main p.muted')).some((e) => e.textContent === 'loading…'), undefined, { timeout: 30_000 });
  };
  const shot = async (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    p = await startInProcessServices([ingestionService, featureStoreService, trainingService, registryService, servingService, monitoringService], {
      prefix: 'dashboard',
      processEnv: (dir) => ({
        MLP_ONLINE_STORE_URL: `sqlite://${join(dir, 'online.db')}`,
        MLP_TRAINING_WORKERS: '1',
        MLP_REGISTRY_AUTO_REGISTER: 'off',
        MLP_SERVING_GRPC_PORT: '0',
        MLP_MONITORING_WINDOW: '150',
        MLP_HEALTH_SCRAPE_INTERVAL_MS: '0',
      }),
    });
    await ingestPenguins(p.services[0].url);
    const started = await fetch(url(2, '/runs'), { method: 'POST', headers: { 'content-type': 'text/yaml' }, body: penguinsSpec({ seed: 7 }) });
    runId = ((await started.json()) as { runId: string }).runId;
    await eventually(async () => {
      const r = await json<{ status: string }>(2, `/runs/${runId}`);
      return r.status === 'Completed' ? r : r.status === 'Failed' ? Promise.reject(new Error(JSON.stringify(r))) : undefined;
    }, 240_000, `run ${runId}`);
    const registered = await fetch(url(3, '/models/penguins/versions'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ runId }) });
    const { version } = (await registered.json()) as { version: number };
    await fetch(url(3, '/models/penguins/aliases/production'), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ version, reason: 'dashboard test' }) });
    await eventually(async () => (await fetch(url(4, '/v2/models/penguins/ready'))).status === 200, 60_000, 'penguins served');
    for (const shift of [false, true]) {
      const res = await fetch(url(4, '/v1/models/penguins:predict'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: traffic(150, shift) }) });
      expect(res.status).toBe(200);
    }
    await eventually(async () => (await p.store.readStream(streams.monitor('penguins'))).some((e) => e.type === 'DriftDetected'), 60_000, 'DriftDetected');

    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => {
      // The live feed is cut when the page navigates: that is not a failure.
      if (!r.url().includes('/events/live')) problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
    });
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
    });
  });

  afterAll(async () => {
    await browser?.close();
    await p?.close();
    console.log(`dashboard screenshots: ${SHOTS}`);
  });

  afterEach(() => {
    // No console error, page error, failed request or HTTP error in any view.
    expect(problems).toEqual([]);
  });

  it('overview: the pipeline stages with their state, and the event log tail', async () => {
    await open('#/overview');
    const { datasets } = await json<{ datasets: { name: string; latest: { accepted: number; quarantined: number } }[] }>(0, '/datasets');
    const ingest = await page.locator('[data-stage="ingest"]').innerText();
    expect(ingest).toContain(`${fmt(datasets[0].latest.accepted)} accepted, ${fmt(datasets[0].latest.quarantined)} quarantined`);
    expect(await page.locator('[data-stage="register"]').innerText()).toContain('penguins@production = v1');
    expect(await page.locator('[data-stage="serve"]').innerText()).toContain('penguins v1');
    const tail = await page.locator('[data-table="event-tail"] tbody tr').count();
    expect(tail).toBeGreaterThan(0);
    expect(await page.locator('[data-event-type="DriftDetected"]').count()).toBe(1);
    await shot('overview');
  });

  it('data: accepted and quarantined counts, the quarantine table with reasons, column statistics', async () => {
    const v = await json<{ accepted: number; quarantined: number }>(0, '/datasets/penguins/versions/1');
    await open('#/data/penguins/1');
    expect(await page.locator('[data-accepted]').getAttribute('data-accepted')).toBe(String(v.accepted));
    expect(await page.locator('[data-quarantined]').getAttribute('data-quarantined')).toBe(String(v.quarantined));
    expect(await page.locator('[data-quarantine-rows]').getAttribute('data-quarantine-rows')).toBe(String(v.quarantined));
    expect(await page.locator('[data-table="quarantine"]').innerText()).toMatch(/missing_required/);
    expect(await page.locator('[data-table="column-stats"] tbody tr').count()).toBe(7);
    await shot('data');
  });

  it('follows the links from a dataset version to the model trained on it, its run and back to the data', async () => {
    await open('#/data/penguins/1');
    await page.locator('[data-trained-models] a', { hasText: 'penguins v1' }).click();
    await page.waitForFunction(() => location.hash === '#/models/penguins/1');
    await open('#/models/penguins/1');
    expect(await page.locator('.tree').innerText()).toContain(`run ${runId.slice(0, 8)}`);
    await page.locator('.tree a', { hasText: `run ${runId.slice(0, 8)}` }).click();
    await page.waitForFunction((id) => location.hash === `#/runs/${id}`, runId);
    await open(`#/runs/${runId}`);
    await page.locator('a', { hasText: 'dataset:penguins@1' }).click();
    await page.waitForFunction(() => location.hash === '#/data/penguins/1');
    await shot('model-version');
  });

  it("experiments: a run's metric as the API gives it, its curves and model card", async () => {
    const run = await json<{ metrics: Record<string, number> }>(2, `/runs/${runId}`);
    await open('#/experiments');
    expect(await page.locator(`[data-run-metric="${runId}:accuracy"]`).innerText()).toBe(fmt(run.metrics.accuracy));
    await shot('experiments');
    await open(`#/runs/${runId}`);
    expect(await page.locator('[data-metric="log_loss"]').innerText()).toBe(fmt(run.metrics.log_loss));
    expect(await page.locator('figure .uplot').count()).toBeGreaterThan(0);
    expect(await page.locator('[data-model-card]').innerText()).toMatch(/penguins/i);
    await shot('run');
  });

  it('models: the current alias holder, its history and the served version', async () => {
    const alias = await json<{ version: number }>(3, '/models/penguins/aliases/production');
    await open('#/models/penguins');
    expect(await page.locator('[data-alias="production"]').getAttribute('data-version')).toBe(String(alias.version));
    expect(await page.locator('[data-table="alias-production"]').innerText()).toContain('dashboard test');
    const status = await json<{ models: { version: string; requests: number }[] }>(4, '/v1/serving/status');
    expect(await page.locator(`[data-served-requests="${alias.version}"]`).innerText()).toBe(fmt(status.models[0].requests));
    await shot('models');
  });

  it("drift: a drifted feature's statistic as the API gives it, the overlay and the share over time", async () => {
    const { reports } = await json<{ reports: EventData<'DriftReportComputed'>[] }>(5, '/monitoring/penguins/drift');
    const latest = reports[reports.length - 1];
    const bill = latest.features.find((f) => f.name === 'bill_length_mm')!;
    expect(bill.drifted).toBe(true);
    await open('#/drift/penguins');
    expect(await page.locator('[data-drift-statistic="bill_length_mm"]').innerText()).toBe(fmt(bill.statistic!, 6));
    expect(await page.locator('[data-dataset-drift]').getAttribute('data-dataset-drift')).toBe('true');
    // The overlay: reference and current series drawn for the chosen feature.
    await page.waitForFunction(() => Array.from(document.querySelectorAll('figcaption')).some((f) => f.textContent?.includes('reference (training) against the current window')));
    await shot('drift');
  });

  it("system: each service up, and a service's request count between the API's figures before and after", async () => {
    const count = async () => (await json<{ services: { service: string; http: { requestsTotal: number } }[] }>(5, '/health/services?fresh=true')).services.find((s) => s.service === 'training')!.http.requestsTotal;
    const before = await count();
    await open('#/system');
    const after = await count();
    const shown = Number((await page.locator('[data-requests="training"]').innerText()).replace(/,/g, ''));
    expect(shown).toBeGreaterThanOrEqual(before);
    expect(shown).toBeLessThanOrEqual(after);
    for (const s of ['ingestion', 'feature-store', 'training', 'registry', 'serving', 'monitoring']) expect(await page.locator(`[data-up="${s}"]`).innerText()).toContain('up');
    await shot('system');
  });

  it('updates live, without a reload, when a new event is appended', async () => {
    await open('#/models');
    await page.evaluate(() => (window.notReloaded = true));
    expect(await page.locator('[data-table="models"]').innerText()).not.toContain('churn');
    const created = await fetch(url(3, '/models'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'churn' }) });
    expect(created.status).toBe(201);
    await page.waitForFunction(() => document.querySelector('[data-table="models"]')?.textContent?.includes('churn'), undefined, { timeout: 30_000 });
    expect(await page.evaluate(() => window.notReloaded)).toBe(true);
  });

  it('works in a narrow window and by keyboard', async () => {
    await page.setViewportSize({ width: 420, height: 900 });
    await open('#/overview');
    const nav = page.locator('nav a', { hasText: 'Data' });
    await nav.focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => location.hash === '#/data');
    await open('#/data');
    expect(await page.locator('[data-table="datasets"]').innerText()).toContain('penguins');
    // Nothing spills past the viewport except inside scrollable table wrappers.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(420);
    await shot('narrow');
  });
});
