import { randomBytes } from 'node:crypto';

/** 48 random bits per process: ids of two serving instances never collide. */
const NODE = randomBytes(6).toString('hex');
let counter = Math.floor(Math.random() * 0x1000000);
let lastMs = 0;
let msHex = '';

/**
 * A new request id: a UUID version 7 (RFC 9562: 48-bit millisecond time,
 * then a 24-bit per-process counter and 48 random bits per process). Ids
 * grow with time, so the telemetry index on request_id takes appends
 * instead of random inserts (a random UUID dirties a different index page
 * per row, and each flush rewrote most of the index), and one costs a
 * counter step instead of random bytes.
 */
export function newRequestId(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    msHex = now.toString(16).padStart(12, '0');
  }
  counter = (counter + 1) & 0xffffff;
  return `${msHex.slice(0, 8)}-${msHex.slice(8)}-7${hex3(counter >>> 12)}-8${hex3(counter & 0xfff)}-${NODE}`;
}

function hex3(v: number): string {
  return (0x1000 | v).toString(16).slice(1);
}
