// A reverse proxy that holds every request for a while before passing it on:
// a provider API with latency, so a crash test finds sends in flight. When the
// client goes away while a request is held (its process was killed), the
// request reaches the provider or not as `forwardAbandoned` decides — both
// happen on a real network, and recovery must handle both.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlowProxy {
  url: string;
  /** Requests whose client went away while held: passed on, and dropped. */
  abandoned: { forwarded: number; dropped: number };
  /** Requests held right now (received, not yet passed on) that stay held at least `forMs` more. */
  held(forMs?: number): number;
  close(): Promise<void>;
}

/** `delayMs(i)`: how long the i-th request is held; `forwardAbandoned(j)`: whether the j-th request abandoned by its client still goes on. */
export async function startSlowProxy(
  target: string,
  delayMs: (i: number) => number,
  forwardAbandoned: (j: number) => boolean,
): Promise<SlowProxy> {
  const to = new URL(target);
  const abandoned = { forwarded: 0, dropped: 0 };
  let n = 0;
  let received = 0;
  /** When each held request is passed on (epoch ms). */
  const holding: number[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let gone = false;
    // A killed client's socket half-closes (FIN) and node keeps it open for the
    // answer, so the socket's end is the sign, not the response's close.
    const markGone = () => {
      if (!res.writableFinished) gone = true;
    };
    req.socket.once('end', markGone);
    req.socket.once('close', markGone);
    res.once('close', () => {
      markGone();
      req.socket.off('end', markGone);
      req.socket.off('close', markGone);
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const delay = delayMs(received++);
      const until = Date.now() + delay;
      holding.push(until);
      setTimeout(() => {
        holding.splice(holding.indexOf(until), 1);
        if (gone) {
          if (!forwardAbandoned(n++)) {
            abandoned.dropped += 1;
            return;
          }
          abandoned.forwarded += 1;
        }
        const upstream = http.request(
          {
            host: to.hostname,
            port: to.port,
            method: req.method,
            path: `${to.pathname.replace(/\/$/, '')}${req.url}`,
            headers: { ...req.headers, host: to.host },
          },
          (answer) => {
            if (gone) {
              answer.resume();
              return;
            }
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        upstream.on('error', () => {
          if (!gone) res.destroy();
        });
        upstream.end(Buffer.concat(chunks));
      }, delay);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    abandoned,
    held: (forMs = 0) => holding.filter((until) => until - Date.now() >= forMs).length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
