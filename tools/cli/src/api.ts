import { defaultPorts, envKey, errorFromPayload, isErrorPayload, type ServiceName } from '@mlp/contracts';

/** Base URL of a service: MLP_<SERVICE>_URL, else the embedded port on localhost. */
export function serviceUrl(service: ServiceName, env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env[`MLP_${envKey(service)}_URL`];
  if (explicit) return explicit.replace(/\/$/, '');
  const port = env[`MLP_${envKey(service)}_PORT`] ?? String(defaultPorts[service].http);
  return `http://127.0.0.1:${port}`;
}

export class CliError extends Error {}

/** Wrong arguments: exit code 2, like an unknown command. */
export class UsageError extends CliError {}

/** The hint given when a service does not answer. */
export function unreachable(service: ServiceName, env: NodeJS.ProcessEnv = process.env): CliError {
  return new CliError(
    `nothing answers at ${serviceUrl(service, env)} (${service}). Start the platform with \`npm start\` or \`npx mlp up\`, ` +
      `or point MLP_${envKey(service)}_URL at a running ${service} service.`,
  );
}

/** A reply's JSON; a domain error comes back typed, anything else non-2xx as a CliError. */
export function parseReply<T>(status: number, text: string, method: string, url: string): T {
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    throw new CliError(`${method} ${url} answered HTTP ${status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
  if (status < 200 || status >= 300) {
    if (isErrorPayload(parsed)) throw errorFromPayload(parsed);
    throw new CliError(`${method} ${url} failed with HTTP ${status}`);
  }
  return parsed as T;
}

/** JSON over HTTP to a service; domain errors come back typed, a dead platform gets a hint. */
export async function call<T>(service: ServiceName, method: string, path: string, body?: unknown, env = process.env): Promise<T> {
  return send<T>(service, method, path, body === undefined ? undefined : { text: JSON.stringify(body), contentType: 'application/json' }, env);
}

/** A text body (YAML specs) over HTTP to a service. */
export async function callText<T>(service: ServiceName, method: string, path: string, text: string, contentType: string, env = process.env): Promise<T> {
  return send<T>(service, method, path, { text, contentType }, env);
}

/**
 * Headers every request to a service carries: `x-api-key` from MLP_API_KEY,
 * else MLP_ADMIN_KEY (the platform's bootstrap key, e.g. for `mlp up`'s demo), when set.
 */
export function requestHeaders(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const key = env.MLP_API_KEY || env.MLP_ADMIN_KEY;
  // With auth off the actor recorded on events is whoever MLP_ACTOR names; with auth on the key decides.
  const actor: Record<string, string> = env.MLP_ACTOR ? { 'x-actor': env.MLP_ACTOR } : {};
  return key ? { 'x-api-key': key, ...actor } : actor;
}

/** A text reply (a printed tree), with the same errors and hints as `call`. */
export async function callTextGet(service: ServiceName, path: string, env = process.env): Promise<string> {
  const url = `${serviceUrl(service, env)}${path}`;
  let response: Response;
  try {
    response = await fetch(url, { headers: requestHeaders(env) });
  } catch {
    throw unreachable(service, env);
  }
  const text = await response.text();
  if (!response.ok) parseReply(response.status, text, 'GET', url);
  return text;
}

async function send<T>(service: ServiceName, method: string, path: string, body: { text: string; contentType: string } | undefined, env: NodeJS.ProcessEnv): Promise<T> {
  const url = `${serviceUrl(service, env)}${path}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: body === undefined ? requestHeaders(env) : { ...requestHeaders(env), 'content-type': body.contentType },
      body: body?.text,
    });
  } catch {
    throw unreachable(service, env);
  }
  return parseReply<T>(response.status, await response.text(), method, url);
}
