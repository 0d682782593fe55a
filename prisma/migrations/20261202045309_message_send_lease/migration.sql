-- AlterEnum
ALTER TYPE "MessageStatus" ADD VALUE 'NEEDS_REVIEW';

-- AlterTable
ALTER TABLE "messages" ADD COLUMN "claimed_by" TEXT;

-- AlterTable
ALTER TABLE "messages" ADD COLUMN "claimed_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "messages" ADD COLUMN "lease_until" TIMESTAMPTZ(3);
