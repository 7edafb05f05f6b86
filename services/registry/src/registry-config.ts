import { z } from 'zod';
import { aliasName, registrationMode } from '@mlp/contracts';
import { loadConfig } from '@mlp/service-kit';

/** Registry settings from env, validated at start-up. */
const schema = z.object({
  /** Which completed runs the process manager registers for a model without its own policy. */
  MLP_REGISTRY_DEFAULT_POLICY: registrationMode.default('blessed-only'),
  /** Comma-separated aliases that need an approval by another actor, for a model without its own policy. */
  MLP_REGISTRY_APPROVAL_ALIASES: z
    .string()
    .default('')
    .transform((s) => s.split(',').map((a) => a.trim()).filter(Boolean))
    .pipe(z.array(aliasName)),
  /** A YAML file of per-model policies applied at start (`models: {<name>: {registration, approvalRequiredFor}}`). */
  MLP_REGISTRY_POLICY_FILE: z.string().min(1).optional(),
  /** `off` stops the registration process manager (versions are then registered by hand only). */
  MLP_REGISTRY_AUTO_REGISTER: z.enum(['on', 'off']).default('on'),
});

export type RegistryConfig = z.output<typeof schema>;
export const REGISTRY_CONFIG = Symbol('REGISTRY_CONFIG');

export function loadRegistryConfig(env: NodeJS.ProcessEnv = process.env): RegistryConfig {
  return loadConfig(schema, env);
}
