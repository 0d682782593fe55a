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

export const baseContentType = (ct: string | undefined | null) => (ct ?? 'application/octet-stream').split(';')[0]!.trim().toLowerCase();

export function contentTypeAllowed(ctx: AppContext, contentType: string): boolean {
  const ct = baseContentType(contentType);
  return ctx.config.ATTACHMENT_CONTENT_TYPES.split(',')
    .map((s) => s.trim().toLowerCase())
    .some((allowed) => (allowed.endsWith('/*') ? ct.startsWith(allowed.slice(0, -1)) : ct === allowed));
}

/** A file name safe to show and store: no path parts, no control characters. */
export function safeFilename(name: string | undefined, fallback: string): string {
  const base = path.basename((name ?? '').replace(/\\/g, '/')).replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return (base || fallback).slice(0, 200);
}

export async function storeAttachmentBytes(ctx: AppContext, input: { filename: string; contentType: string; content: Buffer }): Promise<AttachmentOutcome> {
  const contentType = baseContentType(input.contentType);
  if (!contentTypeAllowed(ctx, contentType)) return { skipped: { filename: input.filename, contentType, size: input.content.length, reason: `content type ${contentType} not allowed` } };
  if (input.content.length > ctx.config.ATTACHMENT_MAX_BYTES) {
    return { skipped: { filename: input.filename, contentType, size: input.content.length, reason: `larger than ${ctx.config.ATTACHMENT_MAX_BYTES} bytes` } };
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

/**
 * Fetches one provider media URL with the headers its provider asks for
 * (e.g. basic auth; fetch drops the Authorization header when the provider
 * redirects to its storage host), bounded by the size limit while streaming.
 * A refusal (4xx) skips the file, or with `onRefusal: 'throw'` raises
 * FetchRefusedError (a recording must not be lost to a momentary 404 while
 * the provider finishes it).
 */
export async function fetchProviderMedia(ctx: AppContext, url: string, declaredType: string | undefined, filename: string, opts: { onRefusal?: 'skip' | 'throw'; headers?: Record<string, string> } = {}): Promise<AttachmentOutcome> {
  const contentTypeHint = baseContentType(declaredType);
  if (declaredType && !contentTypeAllowed(ctx, contentTypeHint)) return { skipped: { filename, contentType: contentTypeHint, reason: `content type ${contentTypeHint} not allowed` } };
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { skipped: { filename, contentType: contentTypeHint, reason: 'media URL is not a URL' } };
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return { skipped: { filename, contentType: contentTypeHint, reason: 'media URL is not http(s)' } };
  let res: Response;
  try {
    res = await fetch(u, { headers: opts.headers ?? {}, redirect: 'follow', signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    throw new TransientFetchError(`media fetch failed: ${(err as Error).message}`);
  }
  if (res.status >= 500 || res.status === 429) throw new TransientFetchError(`media fetch answered ${res.status}`);
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    if (opts.onRefusal === 'throw') throw new FetchRefusedError(`media fetch answered ${res.status}`);
    return { skipped: { filename, contentType: contentTypeHint, reason: `media fetch answered ${res.status}` } };
  }
  const contentType = baseContentType(res.headers.get('content-type') ?? declaredType);
  const declaredLength = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declaredLength) && declaredLength > ctx.config.ATTACHMENT_MAX_BYTES) {
    await res.body?.cancel();
    return { skipped: { filename, contentType, size: declaredLength, reason: `larger than ${ctx.config.ATTACHMENT_MAX_BYTES} bytes` } };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  if (res.body) {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.length;
      if (size > ctx.config.ATTACHMENT_MAX_BYTES) {
        await res.body.cancel().catch(() => undefined);
        return { skipped: { filename, contentType, size, reason: `larger than ${ctx.config.ATTACHMENT_MAX_BYTES} bytes` } };
      }
      chunks.push(Buffer.from(chunk));
    }
  }
  return storeAttachmentBytes(ctx, { filename, contentType, content: Buffer.concat(chunks) });
}
