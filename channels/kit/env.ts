// Environment values every provider's config uses.
import { z } from 'zod';

/** Another API host for a live provider (a regional edge, an egress proxy, a sandbox in another process). */
export const apiBaseUrl = z
  .string()
  .refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'must be an http:// or https:// URL')
  .transform((v) => v.replace(/\/+$/, ''))
  .optional();
