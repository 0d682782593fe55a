// Live events over socket.io. Each timeline event goes to the room of its
// conversation and to the inbox list room; clients keep the last seq they saw
// per conversation and fetch /api/v1/conversations/:id/events?after=N after
// a reconnect.
import type { Server as SocketServer } from 'socket.io';
import type { TimelineEvent } from './thread.js';

export const INBOX_ROOM = 'inbox';
export const conversationRoom = (id: string) => `conversation:${id}`;
/** Every signed-in admin: import progress, campaign status and counters. */
export const ADMIN_ROOM = 'admin';
export const importRoom = (jobId: string) => `import:${jobId}`;
export const campaignRoom = (campaignId: string) => `campaign:${campaignId}`;

export interface InboxSummary {
  conversationId: string;
  debtorId: string | null;
  lastActivityAt: string;
  status?: string;
  flags?: string[];
  assigneeId?: string | null;
  preview?: { channel: string; direction: string };
}

export function publishTimeline(io: SocketServer, events: TimelineEvent[], summary?: InboxSummary): void {
  for (const ev of events) {
    io.to(conversationRoom(ev.conversationId)).emit('timeline', ev);
  }
  const last = events[events.length - 1];
  if (last) {
    io.to(INBOX_ROOM).emit(
      'inbox',
      summary ?? { conversationId: last.conversationId, lastSeq: last.seq, type: last.type, lastActivityAt: last.at },
    );
  }
}
