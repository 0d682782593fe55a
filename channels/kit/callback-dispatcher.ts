import { EventEmitter } from 'node:events';
import { Agent, request } from 'undici';
import { prefixedHexId } from './ids.js';

/** The provider (plugin id) whose sandbox sent a callback. */
export type SandboxProvider = string;

export interface CallbackRequest {
  provider: SandboxProvider;
  /** What the callback means, e.g. `message-status:delivered`, `voice-url`, `letter.mailed`. */
  kind: string;
  method?: 'POST' | 'GET';
  url: string;
  headers: Record<string, string>;
  /** Raw body exactly as signed (a Buffer for multipart with binary parts); empty for GET. */
  body: string | Buffer;
}

export interface CallbackAttempt {
  at: string;
  durationMs: number;
  status?: number;
  error?: string;
}

export interface CallbackRecord extends CallbackRequest {
  method: 'POST' | 'GET';
  id: string;
  state: 'pending' | 'delivered' | 'failed';
  attempts: CallbackAttempt[];
  responseStatus?: number;
  responseContentType?: string;
  responseBody?: string;
  createdAt: string;
  completedAt?: string;
}

export interface CallbackDispatcherOptions {
  /** Total tries per callback, first one included. */
  maxAttempts?: number;
  /** Delay before the first retry; doubles on each further retry. */
  initialBackoffMs?: number;
  /** Longest delay between retries (default: no bound), as providers cap their backoff. */
  maxBackoffMs?: number;
  /** Per-attempt timeout for the answer, counted once a connection carries the callback. */
  timeoutMs?: number;
  /** Connections kept open to one receiver; callbacks beyond them wait for one. */
  connectionsPerOrigin?: number;
}

/** Status codes after which a real provider retries: the receiver is down or overloaded, not refusing. */
function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Delivers the sandboxes' webhooks to the gateway. Every callback is kept as a
 * record with each attempt, so a callback the gateway never accepted is visible
 * rather than lost; retries back off exponentially like the real providers do.
 * Long-running simulations (a message's status progression, a call) register
 * with `track()` so `idle()` can wait for all of them before shutdown.
 */
export class CallbackDispatcher extends EventEmitter {
  private readonly maxAttempts: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly timeoutMs: number;
  /**
   * A bounded pool of kept-alive connections per receiver, like a provider's
   * webhook senders. Unbounded (fetch's default), a few thousand callbacks
   * pending at once under load opened as many connections, overflowed the
   * gateway's accept queue, and its other clients' connects timed out.
   */
  private readonly agent: Agent;
  private readonly records: CallbackRecord[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Errors thrown by tracked simulations (a bug or a malformed gateway answer), kept for inspection. */
  readonly taskErrors: { at: string; message: string }[] = [];

  constructor(options: CallbackDispatcherOptions = {}) {
    super();
    this.maxAttempts = options.maxAttempts ?? 4;
    this.initialBackoffMs = options.initialBackoffMs ?? 100;
    this.maxBackoffMs = options.maxBackoffMs ?? Number.POSITIVE_INFINITY;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.agent = new Agent({ connections: options.connectionsPerOrigin ?? 32 });
  }

  /** Sends one callback, retrying as needed. Never rejects: the outcome is in the returned record. */
  deliver(request: CallbackRequest): Promise<CallbackRecord> {
    const record: CallbackRecord = {
      ...request,
      method: request.method ?? 'POST',
      id: prefixedHexId('cb_', 16),
      state: 'pending',
      attempts: [],
      createdAt: new Date().toISOString(),
    };
    this.records.push(record);
    return this.hold(this.run(record));
  }

  /**
   * Runs a background simulation (a message's status progression, a call) so that
   * `idle()` waits for it. A failure is recorded in `taskErrors`, never thrown.
   */
  track(task: Promise<unknown>): void {
    this.hold(
      task.then(
        () => undefined,
        (err: unknown) => {
          this.taskErrors.push({
            at: new Date().toISOString(),
            message: err instanceof Error ? err.message : String(err),
          });
          this.emit('task-error', err);
        },
      ),
    );
  }

  private hold<T>(task: Promise<T>): Promise<T> {
    this.inFlight.add(task);
    void task.finally(() => this.inFlight.delete(task));
    return task;
  }

  /** Resolves once no callback or simulation is running (including ones started while waiting). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) {
      await Promise.all([...this.inFlight]);
    }
  }

  /** Waits for what is running (idle), then closes the connections. */
  async close(): Promise<void> {
    await this.idle();
    await this.agent.close();
  }

  list(filter: { provider?: SandboxProvider; state?: CallbackRecord['state'] } = {}): CallbackRecord[] {
    return this.records.filter(
      (r) => (!filter.provider || r.provider === filter.provider) && (!filter.state || r.state === filter.state),
    );
  }

  private async run(record: CallbackRecord): Promise<CallbackRecord> {
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const started = Date.now();
      let retryable = true;
      try {
        // Redirects are not followed (undici's request never does); the timeouts run once a connection carries the callback.
        const response = await request(record.url, {
          method: record.method,
          headers: record.headers,
          body: record.method === 'GET' ? undefined : record.body,
          dispatcher: this.agent,
          headersTimeout: this.timeoutMs,
          bodyTimeout: this.timeoutMs,
        });
        const text = await response.body.text();
        const status = response.statusCode;
        record.attempts.push({ at: new Date(started).toISOString(), durationMs: Date.now() - started, status });
        record.responseStatus = status;
        record.responseBody = text;
        const contentType = response.headers['content-type'];
        record.responseContentType = Array.isArray(contentType) ? contentType[0] : contentType;
        if (status >= 200 && status < 300) {
          return this.finish(record, 'delivered');
        }
        retryable = isRetryableStatus(status);
      } catch (err) {
        record.attempts.push({
          at: new Date(started).toISOString(),
          durationMs: Date.now() - started,
          error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
        });
      }
      if (!retryable || attempt === this.maxAttempts) break;
      await wait(Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** (attempt - 1)));
    }
    return this.finish(record, 'failed');
  }

  private finish(record: CallbackRecord, state: 'delivered' | 'failed'): CallbackRecord {
    record.state = state;
    record.completedAt = new Date().toISOString();
    this.emit(state === 'delivered' ? 'delivered' : 'failed', record);
    return record;
  }
}
