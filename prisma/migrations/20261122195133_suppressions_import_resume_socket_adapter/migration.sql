-- CreateTable
CREATE TABLE "suppressions" (
    "id" UUID NOT NULL,
    "channel" "Channel" NOT NULL,
    "address" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "source" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "suppressions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "socket_io_attachments" (
    "id" BIGSERIAL NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "payload" BYTEA,
    CONSTRAINT "socket_io_attachments_pkey" PRIMARY KEY ("id")
);

-- AlterTable
ALTER TABLE "import_jobs" ADD COLUMN "source_path" TEXT;

-- AlterTable
ALTER TABLE "import_jobs" ADD COLUMN "lines_done" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "import_jobs" ADD COLUMN "options" JSONB NOT NULL DEFAULT '{}'::jsonb;

-- CreateIndex
CREATE INDEX "suppressions_address_idx" ON "suppressions"("address");

-- CreateIndex
CREATE UNIQUE INDEX "suppressions_channel_address_key" ON "suppressions"("channel", "address");
