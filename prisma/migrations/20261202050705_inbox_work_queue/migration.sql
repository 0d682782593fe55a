-- AlterTable
ALTER TABLE "conversations" ADD COLUMN "last_inbound_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "conversations" ADD COLUMN "waiting_since" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "conversation_reads" (
    "user_id" UUID NOT NULL,
    "conversation_id" UUID NOT NULL,
    "read_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "conversation_reads_pkey" PRIMARY KEY ("user_id", "conversation_id")
);

-- CreateTable
CREATE TABLE "inbox_tasks" (
    "id" UUID NOT NULL,
    "conversation_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "due_at" TIMESTAMPTZ(3) NOT NULL,
    "detail" JSONB,
    "done_at" TIMESTAMPTZ(3),
    "done_by_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "inbox_tasks_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "conversations_waiting_since_idx" ON "conversations"("waiting_since");

-- CreateIndex
CREATE INDEX "inbox_tasks_conversation_id_idx" ON "inbox_tasks"("conversation_id");

-- CreateIndex
CREATE INDEX "inbox_tasks_kind_done_at_due_at_idx" ON "inbox_tasks"("kind", "done_at", "due_at");

-- AddForeignKey
ALTER TABLE "conversation_reads" ADD CONSTRAINT "conversation_reads_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "conversation_reads" ADD CONSTRAINT "conversation_reads_conversation_id_fkey" FOREIGN KEY ("conversation_id") REFERENCES "conversations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "inbox_tasks" ADD CONSTRAINT "inbox_tasks_conversation_id_fkey" FOREIGN KEY ("conversation_id") REFERENCES "conversations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Backfill: when each debtor last wrote, and since when a reply is owed
-- (the oldest inbound message after the last outbound one an agent sent),
-- for conversations not resolved.
UPDATE "conversations" c SET "last_inbound_at" = m.at
  FROM (SELECT conversation_id, max(created_at) AS at FROM messages WHERE direction = 'INBOUND' GROUP BY conversation_id) m
 WHERE m.conversation_id = c.id;

UPDATE "conversations" c SET "waiting_since" = w.since
  FROM (
    SELECT i.conversation_id, min(i.created_at) AS since
      FROM messages i
     WHERE i.direction = 'INBOUND'
       AND i.created_at > COALESCE((SELECT max(o.created_at) FROM messages o
                                     WHERE o.conversation_id = i.conversation_id AND o.direction = 'OUTBOUND' AND o.created_by_id IS NOT NULL), '-infinity')
     GROUP BY i.conversation_id) w
 WHERE w.conversation_id = c.id AND c.status <> 'RESOLVED';
