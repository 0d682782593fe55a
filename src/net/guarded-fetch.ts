// The one way the gateway makes an HTTP request to a URL someone else chose
// (outgoing webhooks, inbound media). A policy says which URLs may be asked,
// which resolved addresses may be connected to, and which credentials go to
// which URL. The address check runs inside the connection (the socket's own
// DNS lookup), so the address checked is the address connected to: a name
// that resolves to a public address when the subscription is made and to
// 127.0.0.1 when the request is sent (DNS rebinding) is refused at connect.
// Every redirect is a new request checked by the same policy, and credentials
// are asked for again per hop, so they never follow a redirect to another host.
// Time and size are bounded.
import dns from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { Agent, request, type Dispatcher } from 'undici';
import { isIpLiteral } from './addresses.js';

/** Resolves a host name to every address it has (dns.lookup with all: true, as the socket would). */
export type Resolve = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolve: Resolve = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

export interface FetchPolicy {
  /** Why this URL may not be requested (first URL and every redirect target), or null. */
  refuseUrl(url: URL): string | null;
  /** Why this resolved address may not be connected to, or null. `hostname` is the URL's host. */
  refuseAddress(address: string, hostname: string): string | null;
  /** Headers for this URL only (credentials); asked per hop. */
  headersFor?(url: URL): Record<string, string>;
  /** DNS resolution; the system resolver unless a test points it at its own. */
  resolve?: Resolve;
}

/** The target was refused by the policy: not worth retrying as is. */
export class BlockedTargetError extends Error {
  readonly code = 'ERR_BLOCKED_TARGET';
  constructor(message: string) {
    super(message);
    this.name = 'BlockedTargetError';
  }
}

/** The response body was larger than allowed. */
export class ResponseTooLargeError extends Error {
  constructor(
    readonly limit: number,
    readonly size: number,
  ) {
    super(`response larger than ${limit} bytes`);
    this.name = 'ResponseTooLargeError';
  }
}

export interface GuardedRequest {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string | Buffer;
  policy: FetchPolicy;
  timeoutMs: number;
  /** Largest body read; beyond it the request fails with ResponseTooLargeError (or, with `truncate`, reading stops). */
  maxBytes: number;
  truncate?: boolean;
  /** Redirects followed (each checked by the policy); 0 returns the 3xx itself. */
  maxRedirects?: number;
}

export interface GuardedResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** The URL that answered (after redirects). */
  url: URL;
}

/** Finds a BlockedTargetError however the HTTP client wrapped it. */
export function blockedCause(err: unknown): BlockedTargetError | null {
  for (let e = err as { cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e instanceof BlockedTargetError || (e as { code?: string }).code === 'ERR_BLOCKED_TARGET')
      return e as BlockedTargetError;
  }
  return null;
}

// One connection pool per policy: connections are reused only among requests
// whose addresses were checked by the same rules.
const agents = new WeakMap<FetchPolicy, Agent>();

function agentFor(policy: FetchPolicy, timeoutMs: number): Agent {
  let agent = agents.get(policy);
  if (agent) return agent;
  const resolve = policy.resolve ?? systemResolve;
  const lookup = (
    hostname: string,
    options: LookupOptions,
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ) => {
    resolve(hostname).then(
      (all) => {
        const wanted =
          options.family === 4 || options.family === 6 ? all.filter((a) => a.family === options.family) : all;
        if (!wanted.length)
          return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '');
        // Every address of the name must be acceptable: the socket may try any of them.
        for (const a of wanted) {
          const refusal = policy.refuseAddress(a.address, hostname);
          if (refusal) return callback(new BlockedTargetError(refusal), '');
        }
        if (options.all) callback(null, wanted);
        else callback(null, wanted[0]!.address, wanted[0]!.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, ''),
    );
  };
  agent = new Agent({
    connect: { lookup: lookup as never, timeout: timeoutMs },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connections: 16,
  });
  agents.set(policy, agent);
  return agent;
}

function checkTarget(url: URL, policy: FetchPolicy): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new BlockedTargetError(`${url.protocol} URLs are not fetched`);
  if (url.username || url.password) throw new BlockedTargetError('URLs with credentials in them are not fetched');
  const refusal = policy.refuseUrl(url);
  if (refusal) throw new BlockedTargetError(refusal);
  // A literal address never reaches the socket's lookup: check it here.
  if (isIpLiteral(url.hostname)) {
    const r = policy.refuseAddress(url.hostname, url.hostname);
    if (r) throw new BlockedTargetError(r);
  }
}

const flatHeaders = (h: Dispatcher.ResponseData['headers']) =>
  Object.fromEntries(
    Object.entries(h).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(', ') : String(v ?? '')]),
  );

/** Drops a body we will not read (its abort error has nobody to tell). */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => undefined);
  body.destroy();
}

async function readBounded(
  body: Dispatcher.ResponseData['body'],
  maxBytes: number,
  truncate: boolean,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      discard(body);
      if (truncate) break;
      throw new ResponseTooLargeError(maxBytes, size);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Requests `url` under the policy. Throws BlockedTargetError for a refused
 * target (first or after a redirect), ResponseTooLargeError past maxBytes, and
 * the HTTP client's own errors (timeouts, connection refused) otherwise.
 */
export async function guardedFetch(input: string | URL, req: GuardedRequest): Promise<GuardedResponse> {
  let url = new URL(input);
  let method = req.method ?? 'GET';
  let body = req.body;
  const signal = AbortSignal.timeout(req.timeoutMs);
  const maxRedirects = req.maxRedirects ?? 0;
  for (let hop = 0; ; hop++) {
    checkTarget(url, req.policy);
    const headers = { ...(req.headers ?? {}), ...(req.policy.headersFor?.(url) ?? {}) };
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, { method, headers, body, signal, dispatcher: agentFor(req.policy, req.timeoutMs) });
    } catch (err) {
      const blocked = blockedCause(err);
      if (blocked) throw blocked;
      if (signal.aborted)
        throw Object.assign(new Error(`timed out after ${req.timeoutMs} ms`), { name: 'TimeoutError' });
      throw err;
    }
    const location = res.headers.location;
    if (res.statusCode >= 300 && res.statusCode < 400 && location && hop < maxRedirects) {
      discard(res.body);
      url = new URL(String(location), url);
      // 303, and 301/302 after a POST, turn into a GET without a body (as browsers and fetch do).
      if (res.statusCode === 303 || ((res.statusCode === 301 || res.statusCode === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
      }
      continue;
    }
    const declared = Number(res.headers['content-length'] ?? NaN);
    if (!req.truncate && Number.isFinite(declared) && declared > req.maxBytes) {
      discard(res.body);
      throw new ResponseTooLargeError(req.maxBytes, declared);
    }
    try {
      return {
        status: res.statusCode,
        headers: flatHeaders(res.headers),
        body: await readBounded(res.body, req.maxBytes, req.truncate ?? false),
        url,
      };
    } catch (err) {
      if (err instanceof ResponseTooLargeError) throw err;
      if (signal.aborted)
        throw Object.assign(new Error(`timed out after ${req.timeoutMs} ms`), { name: 'TimeoutError' });
      throw err;
    }
  }
}
