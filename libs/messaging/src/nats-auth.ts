import { readFileSync } from 'node:fs';
import { credsAuthenticator, type ConnectionOptions } from 'nats';
import { ValidationError } from '@mlp/contracts';
import type { MessagingConfig } from './messaging-config';

/** The credential part of nats.js connection options (token, user/password, or a creds-file authenticator). */
export type NatsAuth = Pick<ConnectionOptions, 'token' | 'user' | 'pass' | 'authenticator'>;

/** The env variables natsAuth reads. */
export type NatsAuthVar = 'MLP_NATS_TOKEN' | 'MLP_NATS_USER' | 'MLP_NATS_PASSWORD' | 'MLP_NATS_CREDS';
type NatsAuthConfig = Pick<MessagingConfig, NatsAuthVar>;

/**
 * How every NATS connection of the platform authenticates (services, event
 * store, online store, trial queue, telemetry, the CLI): one of
 * MLP_NATS_TOKEN, MLP_NATS_USER + MLP_NATS_PASSWORD, or MLP_NATS_CREDS (a
 * `.creds` file with a user JWT and nkey seed). Nothing set: no credentials.
 * Errors name the variables, never their values.
 */
export function natsAuth(config: NatsAuthConfig): NatsAuth {
  const { MLP_NATS_TOKEN: token, MLP_NATS_USER: user, MLP_NATS_PASSWORD: pass, MLP_NATS_CREDS: creds } = config;
  const chosen = [token && 'MLP_NATS_TOKEN', (user || pass) && 'MLP_NATS_USER/MLP_NATS_PASSWORD', creds && 'MLP_NATS_CREDS'].filter(Boolean) as string[];
  if (chosen.length > 1) {
    throw new ValidationError(`NATS credentials: set only one of ${chosen.join(', ')}`, chosen.map((path) => ({ path, message: 'only one kind of NATS credential may be set' })));
  }
  if (token) return { token };
  if (user || pass) {
    if (!user || !pass) {
      const path = user ? 'MLP_NATS_PASSWORD' : 'MLP_NATS_USER';
      throw new ValidationError(`NATS credentials: ${path} is missing (MLP_NATS_USER and MLP_NATS_PASSWORD go together)`, [{ path, message: 'required with the other' }]);
    }
    return { user, pass };
  }
  if (creds) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(creds);
    } catch (cause) {
      throw new ValidationError(`NATS credentials: cannot read the MLP_NATS_CREDS file ${creds} (${(cause as NodeJS.ErrnoException).code ?? 'error'})`, [{ path: 'MLP_NATS_CREDS', message: 'not a readable file' }], { cause });
    }
    return { authenticator: credsAuthenticator(new Uint8Array(bytes)) };
  }
  return {};
}
