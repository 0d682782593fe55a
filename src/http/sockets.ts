// Live events over socket.io: who may connect, and which rooms they join.
//   handshake auth.token = an API key or ADMIN_API_KEY (same rules as the
//   REST API's Bearer keys); other ways (the inbox's session cookie) register
//   with addSocketAuthResolver().
// Client events (each takes an optional ack callback):
//   subscribe {conversationId}   → joins conversation:<id>; ack {ok, lastSeq}
//   unsubscribe {conversationId} → leaves it
//   inbox:subscribe              → joins the inbox list room
//   inbox:unsubscribe            → leaves it
//   import:subscribe {jobId}     → (admins) joins import:<id>; ack {ok}
//   campaign:subscribe {campaignId} → (admins) joins campaign:<id>; ack {ok}
// Admins join the `admin` room on connect: every import's progress and every
// campaign's status and counters reach them without a subscription.
// Server events: `timeline` (TimelineEvent, with seq), `inbox` (summary),
// `conversation.merged` {conversationId, into}, `import.progress`,
// `campaign.status`, `campaign.progress`.
// Across processes: attachDatabaseAdapter() puts the socket.io Postgres
// adapter (LISTEN/NOTIFY on the shared database) under the server, so an emit
// in one gateway reaches clients connected to any other, and fetchSockets()
// (presence) asks them all.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Server as SocketServer, Socket } from 'socket.io';
import { createAdapter } from '@socket.io/postgres-adapter';
import { MessageType, type ClusterMessage } from 'socket.io-adapter';
import type { Logger } from '../logger.js';
import { endPool } from '../db/client.js';
import type { AppContext } from '../context.js';
import { principalFromKey, type Principal } from '../auth/principal.js';
import { ADMIN_ROOM, campaignRoom, conversationRoom, importRoom, INBOX_ROOM } from '../conversations/live.js';

/** Resolves a principal from a socket handshake (e.g. the session cookie in socket.handshake.headers.cookie). */
export type SocketAuthResolver = (socket: Socket, ctx: AppContext) => Promise<Principal | null>;
const resolvers: SocketAuthResolver[] = [];
export function addSocketAuthResolver(r: SocketAuthResolver): void {
  if (!resolvers.includes(r)) resolvers.push(r);
}

declare module 'socket.io' {
  interface Socket {
    principal?: Principal;
  }
}

async function fromToken(token: unknown, ctx: AppContext): Promise<Principal | null | 'invalid'> {
  if (token === undefined || token === null || token === '') return null;
  if (typeof token !== 'string') return 'invalid';
  return principalFromKey(ctx, token.replace(/^Bearer\s+/i, ''));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
type Ack = (response: Record<string, unknown>) => void;
const ackOf = (maybe: unknown): Ack => (typeof maybe === 'function' ? (maybe as Ack) : () => undefined);

export function attachSockets(ctx: AppContext): void {
  ctx.io.use((socket, next) => {
    void (async () => {
      const viaToken = await fromToken((socket.handshake.auth as Record<string, unknown> | undefined)?.token, ctx);
      if (viaToken === 'invalid') throw new Error('invalid or revoked API key');
      let principal = viaToken;
      for (const r of resolvers) {
        if (principal) break;
        principal = await r(socket, ctx);
      }
      if (!principal) throw new Error('authentication required: pass auth.token');
      socket.principal = principal;
    })().then(
      () => next(),
      (err: Error) => next(Object.assign(new Error(err.message), { data: { error: 'unauthorized' } })),
    );
  });

  ctx.io.on('connection', (socket) => {
    // Sockets admitted before this middleware existed (start-up) have no principal: drop them.
    if (!socket.principal) {
      socket.disconnect(true);
      return;
    }
    if (socket.principal.role === 'ADMIN') void socket.join(ADMIN_ROOM);
    // Rooms of one admin resource (an import job, a campaign): admins only.
    const adminRoom = (event: string, field: string, room: (id: string) => string) => {
      socket.on(event, async (payload: unknown, maybeAck: unknown) => {
        const ack = ackOf(maybeAck);
        if (socket.principal?.role !== 'ADMIN') return ack({ ok: false, error: 'admins only' });
        const id = (payload as Record<string, unknown> | null)?.[field];
        if (typeof id !== 'string' || !UUID.test(id)) return ack({ ok: false, error: `${field} must be a UUID` });
        await socket.join(room(id));
        ack({ ok: true });
      });
    };
    adminRoom('import:subscribe', 'jobId', importRoom);
    adminRoom('campaign:subscribe', 'campaignId', campaignRoom);
    socket.on('subscribe', async (payload: unknown, maybeAck: unknown) => {
      const ack = ackOf(maybeAck);
      const id = (payload as { conversationId?: unknown } | null)?.conversationId;
      if (typeof id !== 'string' || !UUID.test(id)) return ack({ ok: false, error: 'conversationId must be a UUID' });
      try {
        const c = await ctx.db.conversation.findUnique({ where: { id }, select: { lastSeq: true } });
        if (!c) return ack({ ok: false, error: 'conversation not found' });
        await socket.join(conversationRoom(id));
        ack({ ok: true, conversationId: id, lastSeq: c.lastSeq });
      } catch (err) {
        ctx.log.warn({ err }, 'socket subscribe failed');
        ack({ ok: false, error: 'internal error' });
      }
    });
    socket.on('unsubscribe', async (payload: unknown, maybeAck: unknown) => {
      const id = (payload as { conversationId?: unknown } | null)?.conversationId;
      if (typeof id === 'string') await socket.leave(conversationRoom(id));
      ackOf(maybeAck)({ ok: true });
    });
    socket.on('inbox:subscribe', async (_payload: unknown, maybeAck: unknown) => {
      await socket.join(INBOX_ROOM);
      ackOf(typeof _payload === 'function' ? _payload : maybeAck)({ ok: true });
    });
    socket.on('inbox:unsubscribe', async (_payload: unknown, maybeAck: unknown) => {
      await socket.leave(INBOX_ROOM);
      ackOf(typeof _payload === 'function' ? _payload : maybeAck)({ ok: true });
    });
  });
}

export interface DatabaseAdapter {
  /** Ends the adapter's connection pool; call after io.close() (which closes the adapter). */
  close(): Promise<void>;
}

const ADAPTER_POOL_SIZE = 4;
const LISTEN_WAIT_MS = 10_000;

/**
 * Routes the server's broadcasts through the database every gateway shares.
 * Resolves once this process is LISTENing, so nothing published by another
 * gateway after start-up is missed.
 */
type AdapterFactory = ReturnType<typeof createAdapter>;
type Publishing = { doPublish(message: ClusterMessage): Promise<string>; serverCount(): Promise<number> };

/**
 * The adapter publishes every emit to the database (one pg_notify each, read
 * back by every listening gateway) even when no other gateway is listening:
 * ten statements per SMS sent, for nobody. Broadcasts are published only
 * while another gateway is known. Gateways learn of each other from the
 * adapter's heartbeats (a new one announces itself as soon as it listens, see
 * below); a client of a gateway that is still starting may miss the events of
 * those few milliseconds, and catches up from the timeline by sequence number
 * like after any reconnect. Everything else (heartbeats, fetchSockets for
 * presence, joins) is published as before.
 */
function broadcastOnlyWhenOthersListen(make: AdapterFactory): AdapterFactory {
  return function (this: unknown, nsp: Parameters<AdapterFactory>[0]) {
    const adapter = make(nsp) as unknown as Publishing;
    const publish = adapter.doPublish.bind(adapter);
    adapter.doPublish = async (message) => {
      // "" is what the Postgres adapter returns as the offset (it has no connection-state recovery).
      if (message.type === MessageType.BROADCAST && (await adapter.serverCount()) <= 1) return '';
      return publish(message);
    };
    return adapter as unknown as ReturnType<AdapterFactory>;
  } as AdapterFactory;
}

export async function attachDatabaseAdapter(
  io: SocketServer,
  databaseUrl: string,
  log: Logger,
): Promise<DatabaseAdapter> {
  // A name only this process's adapter connections carry: how start-up sees its LISTEN in pg_stat_activity.
  const applicationName = `socket.io-adapter-${randomBytes(6).toString('hex')}`;
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: ADAPTER_POOL_SIZE,
    application_name: applicationName,
  });
  // The adapter holds its LISTEN connection outside the pool's idle set, where an
  // unhandled 'error' (database restart) would crash the process; the adapter
  // itself reconnects on 'end'.
  pool.on('connect', (client) =>
    client.on('error', (err) => log.warn({ err }, 'live events: database connection lost')),
  );
  pool.on('error', (err) => log.warn({ err }, 'live events: idle database connection failed'));
  io.adapter(
    broadcastOnlyWhenOthersListen(
      createAdapter(pool, { errorHandler: (err) => log.warn({ err }, 'live events: adapter error') }),
    ),
  );

  const deadline = Date.now() + LISTEN_WAIT_MS;
  for (;;) {
    const r = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN %'`,
      [applicationName],
    );
    if ((r.rows[0]?.n ?? 0) > 0) break;
    if (Date.now() > deadline) {
      await pool.end().catch(() => undefined);
      throw new Error(
        `live events: the socket.io adapter did not start listening on the database within ${LISTEN_WAIT_MS} ms`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  // The adapter announced itself before it was listening, so the other
  // gateways' answers were missed; announce again now that they will arrive
  // (the adapter counts the servers a fetchSockets() must hear from this way).
  io.of('/').adapter.init();
  log.debug('live events: database adapter listening');
  return {
    close: async () => {
      if ((await endPool(pool)) === 'timed out') log.warn('live events pool did not close within 3 s');
    },
  };
}
