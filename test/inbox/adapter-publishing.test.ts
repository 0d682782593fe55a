// The socket.io Postgres adapter publishes a broadcast to the database only
// while another gateway is listening: a lone gateway's live events cost no
// pg_notify, and once a second gateway has announced itself they are
// published again. Watched from the wire: a plain LISTEN on the adapter's
// channel sees every notification in the order it was sent.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { startTestGateway, eventually, type TestGateway } from '../support/gateway.js';
import { INBOX_ROOM } from '../../src/conversations/live.js';

/** The adapter's channel for the default namespace (channelPrefix "socket.io" + "#" + namespace). */
const CHANNEL = 'socket.io#/';
const BROADCAST = 3;
const SERVER_SIDE_EMIT = 9;

interface Published {
  type: number;
  uid: string;
  data?: { packet?: unknown };
}

describe('live events between gateways', () => {
  let gw1: TestGateway;
  let gw2: TestGateway | undefined;
  let listener: pg.Client;
  const seen: Published[] = [];

  beforeAll(async () => {
    gw1 = await startTestGateway({ ADMIN_API_KEY: 'adapter-test-admin-key-0123456789' });
    listener = new pg.Client({ connectionString: gw1.database.url });
    await listener.connect();
    listener.on('notification', (n) => {
      if (n.channel === CHANNEL && n.payload) seen.push(JSON.parse(n.payload) as Published);
    });
    await listener.query(`LISTEN "${CHANNEL}"`);
  }, 60_000);
  afterAll(async () => {
    await listener?.end();
    await gw2?.close();
    await gw1?.close();
  });

  /** Emits an inbox event on gw1, then a server-side emit (always published) as a marker: notifications arrive in order. */
  async function emitAndMark(label: string): Promise<Published[]> {
    const from = seen.length;
    gw1.ctx.io.to(INBOX_ROOM).emit('inbox', { conversationId: label });
    gw1.ctx.io.serverSideEmit('probe', label);
    await eventually(
      () =>
        seen
          .slice(from)
          .some(
            (m) => m.type === SERVER_SIDE_EMIT && JSON.stringify(m.data?.packet) === JSON.stringify(['probe', label]),
          ),
      10_000,
      `marker ${label}`,
    );
    return seen.slice(from).filter((m) => m.type === BROADCAST && JSON.stringify(m.data?.packet).includes(label));
  }

  it('a lone gateway publishes no broadcast; with a second gateway listening it does', async () => {
    expect(await emitAndMark('alone-1')).toEqual([]);

    gw2 = await startTestGateway({
      ADMIN_API_KEY: 'adapter-test-admin-key-0123456789',
      DATABASE_URL: gw1.database.url,
    });
    // gw2 announces itself once it listens; gw1 counts it from then on.
    await eventually(async () => (await gw1.ctx.io.of('/').adapter.serverCount()) === 2, 10_000, 'gw1 knows gw2');
    const published = await emitAndMark('shared-1');
    expect(published).toHaveLength(1);
    // A socket.io packet: the event name and its argument.
    expect(published[0]!.data?.packet).toMatchObject({ data: ['inbox', { conversationId: 'shared-1' }] });
  }, 60_000);
});
