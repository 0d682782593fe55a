// Attachments of inbound messages (MMS media, email attachments), stored on
// local disk under DATA_DIR/attachments by content hash (the same file twice
// is stored once; a retried event rewrites nothing). Content type and size are
// checked against ATTACHMENT_CONTENT_TYPES / ATTACHMENT_MAX_BYTES; what is
// refused is skipped with its reason recorded on the timeline — the message
// itself is always kept.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { AppContext } from '../context.js';
import {
  BlockedTargetError,
  guardedFetch,
  ResponseTooLargeError,
  systemResolve,
  type FetchPolicy,
  type GuardedResponse,
} from '../net/guarded-fetch.js';
import { mediaPolicy, parseOrigins, type MediaHostRule } from '../net/media-policy.js';

export interface StoredAttachment {
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
  path: string;
}

export interface SkippedAttachment {
  filename: string;
  contentType: string;
  size?: number;
  reason: string;
}

export type AttachmentOutcome = { stored: StoredAttachment } | { skipped: SkippedAttachment };

export const baseContentType = (ct: string | undefined | null) =>
  (ct ?? 'application/octet-stream').split(';')[0]!.trim().toLowerCase();

export function contentTypeAllowed(ctx: AppContext, contentType: string): boolean {
  const ct = baseContentType(contentType);
  return ctx.config.ATTACHMENT_CONTENT_TYPES.split(',')
    .map((s) => s.trim().toLowerCase())
    .some((allowed) => (allowed.endsWith('/*') ? ct.startsWith(allowed.slice(0, -1)) : ct === allowed));
}

/** A file name safe to show and store: no path parts, no control characters. */
export function safeFilename(name: string | undefined, fallback: string): string {
  const base = path
    .basename((name ?? '').replace(/\\/g, '/'))
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .trim();
  return (base || fallback).slice(0, 200);
}

export async function storeAttachmentBytes(
  ctx: AppContext,
  input: { filename: string; contentType: string; content: Buffer },
): Promise<AttachmentOutcome> {
  const contentType = baseContentType(input.contentType);
  if (!contentTypeAllowed(ctx, contentType))
    return {
      skipped: {
        filename: input.filename,
        contentType,
        size: input.content.length,
        reason: `content type ${contentType} not allowed`,
      },
    };
  if (input.content.length > ctx.config.ATTACHMENT_MAX_BYTES) {
    return {
      skipped: {
        filename: input.filename,
        contentType,
        size: input.content.length,
        reason: `larger than ${ctx.config.ATTACHMENT_MAX_BYTES} bytes`,
      },
    };
  }
  const sha256 = createHash('sha256').update(input.content).digest('hex');
  const dir = path.resolve(ctx.config.DATA_DIR, 'attachments', sha256.slice(0, 2));
  const file = path.join(dir, sha256);
  await fs.mkdir(dir, { recursive: true });
  try {
    await fs.access(file);
  } catch {
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    await fs.writeFile(tmp, input.content);
    await fs.rename(tmp, file);
  }
  return { stored: { filename: input.filename, contentType, size: input.content.length, sha256, path: file } };
}

/** Raised for a media fetch that may work later (network, 5xx): the event is retried. */
export class TransientFetchError extends Error {}

/** Raised for a fetch the provider refused (4xx) when the caller wants to retry rather than skip. */
export class FetchRefusedError extends Error {}

const MEDIA_TIMEOUT_MS = 30_000;
const MEDIA_MAX_REDIRECTS = 5;

/** Whose media a URL is: a provider's declared media hosts and credentials (channels/<provider>: media). */
export interface MediaFetchSource {
  id: string;
  name: string;
  hosts: readonly MediaHostRule[];
  /** The Authorization header for its credentialed hosts (and its sandbox). */
  authorization: () => string;
  /** The provider's sandbox origin while it runs in sandbox mode (on loopback), else null. */
  sandboxOrigin: () => string | null;
}

// One policy per running gateway and provider (its agent keeps the connections it checked).
const policies = new WeakMap<AppContext, Map<string, FetchPolicy>>();
function providerMediaPolicy(ctx: AppContext, source: MediaFetchSource): FetchPolicy {
  const byProvider = policies.get(ctx) ?? new Map<string, FetchPolicy>();
  policies.set(ctx, byProvider);
  let p = byProvider.get(source.id);
  if (!p) {
    const configured = parseOrigins(ctx.config.INBOUND_MEDIA_ORIGINS);
    p = mediaPolicy({
      provider: source.name,
      hosts: source.hosts,
      // The sandbox stands in for the provider only while the provider runs in sandbox mode.
      trustedOrigins: () => {
        const sandbox = source.sandboxOrigin();
        return [...configured, ...(sandbox ? [sandbox] : [])];
      },
      authorization: source.authorization,
      resolve: (hostname) => (ctx.resolve ?? systemResolve)(hostname),
    });
    byProvider.set(source.id, p);
  }
  return p;
}

/**
 * Fetches one provider media URL through the SSRF-safe fetch (src/net): only
 * the provider's media hosts (its sandbox's in sandbox mode), its credentials
 * only to the hosts it declares for them, every redirect checked the same
 * way, size and time bounded. A refused host or an oversize file is skipped
 * with the reason. A refusal (4xx) skips the file, or with `onRefusal:
 * 'throw'` raises FetchRefusedError (a recording must not be lost to a
 * momentary 404 while the provider finishes it).
 */
export async function fetchProviderMedia(
  ctx: AppContext,
  source: MediaFetchSource,
  url: string,
  declaredType: string | undefined,
  filename: string,
  opts: { onRefusal?: 'skip' | 'throw' } = {},
): Promise<AttachmentOutcome> {
  const contentTypeHint = baseContentType(declaredType);
  if (declaredType && !contentTypeAllowed(ctx, contentTypeHint))
    return {
      skipped: { filename, contentType: contentTypeHint, reason: `content type ${contentTypeHint} not allowed` },
    };
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { skipped: { filename, contentType: contentTypeHint, reason: 'media URL is not a URL' } };
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:')
    return { skipped: { filename, contentType: contentTypeHint, reason: 'media URL is not http(s)' } };
  let res: GuardedResponse;
  try {
    res = await guardedFetch(u, {
      policy: providerMediaPolicy(ctx, source),
      timeoutMs: MEDIA_TIMEOUT_MS,
      maxBytes: ctx.config.ATTACHMENT_MAX_BYTES,
      maxRedirects: MEDIA_MAX_REDIRECTS,
    });
  } catch (err) {
    if (err instanceof BlockedTargetError)
      return { skipped: { filename, contentType: contentTypeHint, reason: `media URL refused: ${err.message}` } };
    if (err instanceof ResponseTooLargeError)
      return {
        skipped: {
          filename,
          contentType: contentTypeHint,
          size: err.size,
          reason: `larger than ${ctx.config.ATTACHMENT_MAX_BYTES} bytes`,
        },
      };
    throw new TransientFetchError(`media fetch failed: ${(err as Error).message}`);
  }
  if (res.status >= 500 || res.status === 429) throw new TransientFetchError(`media fetch answered ${res.status}`);
  if (res.status < 200 || res.status >= 300) {
    if (opts.onRefusal === 'throw') throw new FetchRefusedError(`media fetch answered ${res.status}`);
    return { skipped: { filename, contentType: contentTypeHint, reason: `media fetch answered ${res.status}` } };
  }
  const contentType = baseContentType(res.headers['content-type'] || declaredType);
  return storeAttachmentBytes(ctx, { filename, contentType, content: res.body });
}
