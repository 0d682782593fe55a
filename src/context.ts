// What every feature module is handed: configuration, logger, database,
// scheduler, live-event server and the readiness registry. Built once by
// startGateway() (src/gateway.ts); tests build it the same way.
import type { Server as SocketServer } from 'socket.io';
import type { Env } from './config.js';
import type { Db } from './db/client.js';
import type { Logger } from './logger.js';
import type { Scheduler } from './scheduler/agenda.js';
import type { ProviderSettings } from './providers.js';
import type { TemplateRegistry } from './templates/index.js';

export interface ReadinessCheck {
  ok: boolean;
  detail?: string;
}

/**
 * A readiness check that really asks (e.g. the database) but at most once per
 * `cacheMs`, so a probe storm costs one query a second, and that answers
 * not-ok after `timeoutMs` instead of hanging the probe when the dependency
 * hangs. Concurrent callers share the question in flight.
 */
export function probedCheck(
  probe: () => Promise<ReadinessCheck>,
  opts: { cacheMs: number; timeoutMs: number },
): () => Promise<ReadinessCheck> {
  let last: { at: number; result: ReadinessCheck } | null = null;
  let inFlight: Promise<ReadinessCheck> | null = null;
  return async () => {
    if (last && Date.now() - last.at < opts.cacheMs) return last.result;
    inFlight ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<ReadinessCheck>((r) => {
        timer = setTimeout(() => r({ ok: false, detail: `no answer within ${opts.timeoutMs} ms` }), opts.timeoutMs);
      });
      const answer = probe().catch((e: Error) => ({
        ok: false,
        detail: (e.message.split('\n')[0] ?? '').slice(0, 200),
      }));
      const result = await Promise.race([answer, timedOut]);
      clearTimeout(timer);
      last = { at: Date.now(), result };
      inFlight = null;
      return result;
    })();
    return inFlight;
  };
}

export class Readiness {
  private readonly checks = new Map<string, () => Promise<ReadinessCheck> | ReadinessCheck>();

  register(name: string, check: () => Promise<ReadinessCheck> | ReadinessCheck): void {
    this.checks.set(name, check);
  }

  async check(): Promise<Record<string, ReadinessCheck>> {
    const out: Record<string, ReadinessCheck> = {};
    for (const [name, fn] of this.checks) {
      try {
        out[name] = await fn();
      } catch (e) {
        out[name] = { ok: false, detail: (e as Error).message };
      }
    }
    return out;
  }
}

/** What a feature module's start returns (src/modules.ts): how to stop its background parts. */
export interface ModuleHandle {
  stop(): Promise<void>;
}

export interface AppContext {
  config: Env;
  log: Logger;
  readiness: Readiness;
  /** Set once the database is migrated and connected. */
  db: Db;
  scheduler: Scheduler;
  io: SocketServer;
  /** The address providers call back (PUBLIC_BASE_URL, else the local listen address). */
  publicBaseUrl: string;
  /** Live or sandbox per provider, with the secrets webhooks are verified with. */
  providers: ProviderSettings;
  /** Message templates, loaded and validated at start. */
  templates: TemplateRegistry;
  /** Signing key for unsubscribe links and sessions (src/secrets.ts). */
  secret: string;
  /** The gateway's own inbound SMTP listener, when enabled (replies by MX; the sandbox sends there). */
  inboundSmtp?: { host: string; port: number };
  /** Set by the outbound module at start: provider sandboxes, when any provider runs in sandbox mode. */
  sandboxes?: import('./sandbox/index.js').Sandboxes | null;
  /** DNS for requests to URLs others chose (src/net); the system resolver unless a test sets its own. */
  resolve?: import('./net/guarded-fetch.js').Resolve;
}
