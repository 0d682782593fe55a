// "X is viewing" / "X is typing" between agents on one conversation.
// Client events:  viewing {conversationId, viewing: boolean}
//                 typing  {conversationId, typing: boolean}
// Server events:  presence {conversationId, viewers: [{userId, name}]}   (to the conversation room)
//                 typing   {conversationId, userId, name, typing}        (to the others in the room)
// Who views what lives on each socket (socket.data.viewing), and the viewer
// list is read with fetchSockets(), which the socket.io adapter answers
// across processes — so presence works with several gateways too.
import type { Socket } from 'socket.io';
import type { AppContext } from '../context.js';
import { conversationRoom } from '../conversations/live.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Viewer {
  userId: string | null;
  name: string;
}

export async function viewersOf(ctx: AppContext, conversationId: string): Promise<Viewer[]> {
  const sockets = await ctx.io.in(conversationRoom(conversationId)).fetchSockets();
  const seen = new Map<string, Viewer>();
  for (const s of sockets) {
    if (s.data?.viewing !== conversationId) continue;
    const v: Viewer = {
      userId: (s.data.userId as string | undefined) ?? null,
      name: String(s.data.userName ?? 'someone'),
    };
    seen.set(v.userId ?? v.name, v);
  }
  return [...seen.values()];
}

async function broadcastViewers(ctx: AppContext, conversationId: string): Promise<void> {
  try {
    ctx.io
      .to(conversationRoom(conversationId))
      .emit('presence', { conversationId, viewers: await viewersOf(ctx, conversationId) });
  } catch (err) {
    ctx.log.debug({ err }, 'presence broadcast failed');
  }
}

function nameOf(socket: Socket): string {
  return String(socket.data.userName ?? socket.principal?.name ?? 'someone');
}

export function attachPresence(ctx: AppContext): void {
  ctx.io.on('connection', (socket) => {
    if (!socket.principal) return;
    socket.data.userName ??= socket.principal.name;
    socket.data.userId ??= socket.principal.id ?? null;

    socket.on('viewing', async (payload: unknown, maybeAck: unknown) => {
      const p = payload as { conversationId?: unknown; viewing?: unknown } | null;
      const id = p?.conversationId;
      const ack = typeof maybeAck === 'function' ? (maybeAck as (r: unknown) => void) : () => undefined;
      if (typeof id !== 'string' || !UUID.test(id)) return ack({ ok: false, error: 'conversationId must be a UUID' });
      const previous = socket.data.viewing as string | undefined;
      if (p?.viewing === false) {
        if (previous === id) socket.data.viewing = undefined;
      } else {
        // Viewing needs the room: the same rule as `subscribe` (authenticated principal).
        await socket.join(conversationRoom(id));
        socket.data.viewing = id;
      }
      if (previous && previous !== socket.data.viewing) await broadcastViewers(ctx, previous);
      await broadcastViewers(ctx, id);
      ack({ ok: true, viewers: await viewersOf(ctx, id) });
    });

    socket.on('typing', (payload: unknown) => {
      const p = payload as { conversationId?: unknown; typing?: unknown } | null;
      const id = p?.conversationId;
      if (typeof id !== 'string' || !UUID.test(id) || !socket.rooms.has(conversationRoom(id))) return;
      socket.to(conversationRoom(id)).emit('typing', {
        conversationId: id,
        userId: socket.data.userId ?? null,
        name: nameOf(socket),
        typing: p?.typing !== false,
      });
    });

    socket.on('disconnect', () => {
      const viewing = socket.data.viewing as string | undefined;
      if (viewing) {
        socket.data.viewing = undefined;
        void broadcastViewers(ctx, viewing);
      }
    });
  });
}
