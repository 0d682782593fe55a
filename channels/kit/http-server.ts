import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Express } from 'express';

export interface ListeningServer {
  server: Server;
  /** e.g. `http://127.0.0.1:41234` — no trailing slash. */
  baseUrl: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Listen on the loopback interface only: the sandboxes stand in for internet
 * providers on a developer's machine and must never be reachable from outside it.
 */
export async function listenOnLoopback(app: Express, port = 0, host = '127.0.0.1'): Promise<ListeningServer> {
  const server = createServer(app);
  // Track sockets so close() does not hang on keep-alive connections held by SDK agents.
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    server,
    port: address.port,
    baseUrl: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        for (const socket of sockets) socket.destroy();
      }),
  };
}
