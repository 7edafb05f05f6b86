import { formatBytes } from './output';

/** Inputs above this size get a progress bar while they upload. */
export const PROGRESS_THRESHOLD_BYTES = 1024 * 1024;

const BAR_WIDTH = 24;

/**
 * One line of upload or download progress:
 * `uploading [##########..............]  41%  4.4 MB / 10.5 MB  2.2 MB/s`.
 * The rate is left out until some time has passed. `format` renders the
 * counts (bytes by default; rows for batch inference).
 */
export function renderProgress(sent: number, total: number | undefined, elapsedMs: number, label = 'uploading', format: (n: number) => string = formatBytes): string {
  const rateText = elapsedMs > 0 ? `  ${format((sent * 1000) / elapsedMs)}/s` : '';
  // An unknown total (no content-length): the bytes so far and the rate, no bar.
  if (total === undefined || !Number.isFinite(total)) return `${label} ${format(sent)}${rateText}`;
  const fraction = total > 0 ? Math.min(1, sent / total) : 1;
  const filled = Math.round(fraction * BAR_WIDTH);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`;
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  return `${label} ${bar} ${percent}  ${format(sent)} / ${format(total)}${rateText}`;
}

/** `validating… 3.2s` while the service checks the rows. */
export function renderWaiting(elapsedMs: number, label = 'validating…'): string {
  return `${label} ${(elapsedMs / 1000).toFixed(1)}s`;
}

export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

/** Progress is shown on a terminal, or anywhere with MLP_PROGRESS=1; never for --json; MLP_PROGRESS=0 turns it off. */
export function progressEnabled(stream: ProgressStream, json: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  if (json || env.MLP_PROGRESS === '0') return false;
  return env.MLP_PROGRESS === '1' || Boolean(stream.isTTY);
}

/**
 * A status line on stderr. On a terminal it is redrawn in place (at most
 * every 100 ms); elsewhere (MLP_PROGRESS=1 into a log) it prints a line at
 * most once a second. `done()` leaves the last state on its own line.
 */
export class StatusLine {
  private last = 0;
  private shown = '';

  constructor(
    private readonly stream: ProgressStream,
    private readonly now: () => number = Date.now,
  ) {}

  update(text: string, force = false): void {
    const t = this.now();
    const interval = this.stream.isTTY ? 100 : 1000;
    if (!force && this.shown && t - this.last < interval) return;
    this.last = t;
    this.shown = text;
    this.stream.write(this.stream.isTTY ? `\r${text}\x1b[K` : `${text}\n`);
  }

  /** Ends the line: the final text stays (or the line is cleared when `text` is empty). */
  done(text?: string): void {
    if (!this.shown && !text) return;
    if (this.stream.isTTY) this.stream.write(text ? `\r${text}\x1b[K\n` : '\r\x1b[K');
    else if (text && text !== this.shown) this.stream.write(`${text}\n`);
    this.shown = '';
  }
}
