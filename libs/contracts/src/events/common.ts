import { z } from 'zod';

export const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase sha256 hex digest');
export const artifactKey = z.string().min(1);
export const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'use letters, digits, _ and -').max(100);
export const tags = z.record(z.string(), z.string());
export const metrics = z.record(z.string(), z.number());
