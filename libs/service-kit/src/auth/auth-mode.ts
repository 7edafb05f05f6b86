import { isIP } from 'node:net';
import type { AuthMode } from '../config/service-config';

/** Loopback: 127.0.0.0/8, ::1, ::ffff:127.x, `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (h.startsWith('::ffff:')) return isIP(h.slice(7)) === 4 && h.slice(7).startsWith('127.');
  return false;
}

export interface AuthSettings {
  MLP_AUTH?: AuthMode;
  MLP_TRANSPORT?: string;
  MLP_BIND_HOST?: string;
}

/**
 * Whether requests must carry a key: `MLP_AUTH=on|off` decides; `auto` (the
 * default) is on in distributed mode (MLP_TRANSPORT=nats) and whenever the
 * HTTP servers listen beyond loopback.
 */
export function authEnabled(config: AuthSettings): boolean {
  const mode = config.MLP_AUTH ?? 'auto';
  if (mode !== 'auto') return mode === 'on';
  return config.MLP_TRANSPORT === 'nats' || !isLoopbackHost(config.MLP_BIND_HOST ?? '127.0.0.1');
}
