import { z } from 'zod';
import { name, tags } from '../events/common';

/** Command/query DTOs of the registry, validated at every entry (HTTP and NATS). */
export const createRegisteredModelSchema = z.object({
  name,
  description: z.string().max(2000).optional(),
  tags: tags.optional(),
});
export type CreateRegisteredModelDto = z.infer<typeof createRegisteredModelSchema>;

export const describeRegisteredModelSchema = z.object({ name, description: z.string().max(2000) });
export type DescribeRegisteredModelDto = z.infer<typeof describeRegisteredModelSchema>;

export const tagRegisteredModelSchema = z
  .object({ name, set: tags.default({}), remove: z.array(z.string()).default([]) })
  .refine((v) => Object.keys(v.set).length + v.remove.length > 0, { message: 'set or remove at least one tag' });
export type TagRegisteredModelDto = z.infer<typeof tagRegisteredModelSchema>;

export const getRegisteredModelSchema = z.object({ name });
export type GetRegisteredModelDto = z.infer<typeof getRegisteredModelSchema>;

/** The registered-model read model, as returned by queries. */
export interface RegisteredModelView {
  name: string;
  description: string;
  tags: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  revision: number;
}
