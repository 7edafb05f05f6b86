import { defaultPorts, envKey, errorFromPayload, isErrorPayload, type ServiceName } from '@mlp/contracts';

/** Base URL of a service: MLP_<SERVICE>_URL, else the embedded port on localhost. */
export function serviceUrl(service: ServiceName, env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env[`MLP_${envKey(service)}_URL`];
  if (explicit) return explicit.replace(/\/$/, '');
  const port = env[`MLP_${envKey(service)}_PORT`] ?? String(defaultPorts[service].http);
  return `http://127.0.0.1:${port}`;
}

export class CliError extends Error {}

/** JSON over HTTP to a service; domain errors come back typed, a dead platform gets a hint. */
export async function call<T>(service: ServiceName, method: string, path: string, body?: unknown, env = process.env): Promise<T> {
  const url = `${serviceUrl(service, env)}${path}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new CliError(
      `nothing answers at ${serviceUrl(service, env)} (${service}). Start the platform with \`npm start\` or \`npx mlp up\`, ` +
        `or point MLP_${envKey(service)}_URL at a running ${service} service.`,
    );
  }
  const text = await response.text();
  const parsed: unknown = text ? JSON.parse(text) : undefined;
  if (!response.ok) {
    if (isErrorPayload(parsed)) throw errorFromPayload(parsed);
    throw new CliError(`${method} ${url} failed with HTTP ${response.status}`);
  }
  return parsed as T;
}
