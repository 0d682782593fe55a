/**
 * A tiny stand-in for the gateway's webhook endpoints: records every request
 * with its raw body so tests can verify provider signatures byte-for-byte.
 */
import express, { type Request, type Response } from 'express';
import { listenOnLoopback, type ListeningServer } from '../../channels/kit/http-server.js';

export interface ReceivedRequest {
  method: string;
  path: string;
  /** Full URL as the sandbox addressed it (what Twilio signs). */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer;
  form: Record<string, string>;
}

export type Responder = (req: ReceivedRequest, res: Response) => void;

export class FakeGateway {
  readonly received: ReceivedRequest[] = [];
  private readonly responders = new Map<string, Responder>();
  private listening!: ListeningServer;

  get baseUrl(): string {
    return this.listening.baseUrl;
  }

  /** Answer requests to `path` with a custom response (default: 200 empty). */
  on(path: string, responder: Responder): void {
    this.responders.set(path, responder);
  }

  async start(): Promise<this> {
    const app = express();
    app.use(express.raw({ type: () => true, limit: '20mb' }));
    app.all('/{*rest}', (req: Request, res: Response) => {
      const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const contentType = String(req.headers['content-type'] ?? '');
      const form = contentType.startsWith('application/x-www-form-urlencoded')
        ? Object.fromEntries(new URLSearchParams(rawBody.toString('utf8')))
        : {};
      const received: ReceivedRequest = {
        method: req.method,
        path: req.path,
        url: `${this.baseUrl}${req.originalUrl}`,
        headers: req.headers,
        rawBody,
        form,
      };
      this.received.push(received);
      const responder = this.responders.get(req.path);
      if (responder) responder(received, res);
      else res.status(200).end();
    });
    this.listening = await listenOnLoopback(app);
    return this;
  }

  /** Forgets recorded requests and custom responders (between tests). */
  reset(): void {
    this.received.length = 0;
    this.responders.clear();
  }

  requestsTo(path: string): ReceivedRequest[] {
    return this.received.filter((r) => r.path === path);
  }

  /** Bounded polling for a condition on what has arrived; throws with a description on timeout. */
  async waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  close(): Promise<void> {
    return this.listening.close();
  }
}
