-- AlterEnum
ALTER TYPE "InboundEventStatus" ADD VALUE 'DEAD_LETTER';
