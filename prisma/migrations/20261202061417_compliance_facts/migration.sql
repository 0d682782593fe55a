-- CreateEnum
CREATE TYPE "CreditorKind" AS ENUM ('FIRST_PARTY', 'AGENCY');

-- CreateEnum
CREATE TYPE "AttorneyStatus" AS ENUM ('REPRESENTING', 'CONSENTED', 'UNRESPONSIVE', 'ENDED');

-- CreateEnum
CREATE TYPE "MoratoriumKind" AS ENUM ('STANDARD', 'MENTAL_HEALTH_CRISIS');

-- CreateEnum
CREATE TYPE "DisputeStatus" AS ENUM ('OPEN', 'VERIFIED', 'CORRECTED', 'WITHDRAWN', 'RECORDED');

-- AlterTable
ALTER TABLE "creditors" ADD COLUMN "kind" "CreditorKind" NOT NULL DEFAULT 'AGENCY'::"CreditorKind";

-- AlterTable
ALTER TABLE "debtors" ADD COLUMN "esign_consent_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "debts" ADD COLUMN "loan_type" TEXT;

-- AlterTable
ALTER TABLE "debts" ADD COLUMN "itemization_date" DATE;

-- AlterTable
ALTER TABLE "debts" ADD COLUMN "itemization_amount" DECIMAL(19,4);

-- AlterTable
ALTER TABLE "debts" ADD COLUMN "interest_since_itemization" DECIMAL(19,4) NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "debts" ADD COLUMN "fees_since_itemization" DECIMAL(19,4) NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "debts" ADD COLUMN "credits_since_itemization" DECIMAL(19,4) NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "debts" ADD COLUMN "original_creditor_name" TEXT;

-- AlterTable
ALTER TABLE "debts" ADD COLUMN "validation_notice_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "debts" ADD COLUMN "validation_period_ends_at" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "contact_history" (
    "id" UUID NOT NULL,
    "debtor_id" UUID NOT NULL,
    "debt_id" UUID,
    "channel" "Channel" NOT NULL,
    "kind" TEXT NOT NULL,
    "outcome" TEXT,
    "direction" "Direction" NOT NULL DEFAULT 'OUTBOUND'::"Direction",
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "source" TEXT NOT NULL,
    "external_ref" TEXT,
    "note" TEXT,
    "recorded_by_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "contact_history_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "call_consents" (
    "id" UUID NOT NULL,
    "debt_id" UUID NOT NULL,
    "given_at" TIMESTAMPTZ(3) NOT NULL,
    "given_by" TEXT NOT NULL,
    "via" TEXT,
    "recorded_by_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "call_consents_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "attorney_representations" (
    "id" UUID NOT NULL,
    "debtor_id" UUID NOT NULL,
    "debt_id" UUID,
    "name" TEXT NOT NULL,
    "firm" TEXT,
    "line1" TEXT,
    "line2" TEXT,
    "city" TEXT,
    "region" TEXT,
    "postal_code" TEXT,
    "country" CHAR(2),
    "phone" TEXT,
    "email" TEXT,
    "status" "AttorneyStatus" NOT NULL DEFAULT 'REPRESENTING'::"AttorneyStatus",
    "status_changed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "recorded_by_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "attorney_representations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "moratoria" (
    "id" UUID NOT NULL,
    "debtor_id" UUID NOT NULL,
    "kind" "MoratoriumKind" NOT NULL,
    "reference" TEXT,
    "starts_at" TIMESTAMPTZ(3) NOT NULL,
    "ends_at" TIMESTAMPTZ(3),
    "ended_at" TIMESTAMPTZ(3),
    "resumed_at" TIMESTAMPTZ(3),
    "recorded_by_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "moratoria_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "disputes" (
    "id" UUID NOT NULL,
    "debt_id" UUID NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL,
    "via" TEXT,
    "summary" TEXT,
    "within_validation_period" BOOLEAN NOT NULL,
    "status" "DisputeStatus" NOT NULL DEFAULT 'OPEN'::"DisputeStatus",
    "outcome_at" TIMESTAMPTZ(3),
    "outcome_note" TEXT,
    "verification_message_id" UUID,
    "recorded_by_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "disputes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "template_overrides" (
    "locale" TEXT NOT NULL,
    "intent" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "updated_by_id" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "template_overrides_pkey" PRIMARY KEY ("locale", "intent", "channel")
);

-- CreateIndex
CREATE INDEX "contact_history_debtor_id_occurred_at_idx" ON "contact_history"("debtor_id", "occurred_at");

-- CreateIndex
CREATE UNIQUE INDEX "contact_history_debtor_id_external_ref_key" ON "contact_history"("debtor_id", "external_ref");

-- CreateIndex
CREATE INDEX "call_consents_debt_id_given_at_idx" ON "call_consents"("debt_id", "given_at");

-- CreateIndex
CREATE INDEX "attorney_representations_debtor_id_idx" ON "attorney_representations"("debtor_id");

-- CreateIndex
CREATE INDEX "moratoria_debtor_id_idx" ON "moratoria"("debtor_id");

-- CreateIndex
CREATE INDEX "moratoria_resumed_at_ends_at_idx" ON "moratoria"("resumed_at", "ends_at");

-- CreateIndex
CREATE INDEX "disputes_debt_id_idx" ON "disputes"("debt_id");

-- AddForeignKey
ALTER TABLE "contact_history" ADD CONSTRAINT "contact_history_debtor_id_fkey" FOREIGN KEY ("debtor_id") REFERENCES "debtors"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "contact_history" ADD CONSTRAINT "contact_history_debt_id_fkey" FOREIGN KEY ("debt_id") REFERENCES "debts"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "call_consents" ADD CONSTRAINT "call_consents_debt_id_fkey" FOREIGN KEY ("debt_id") REFERENCES "debts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "attorney_representations" ADD CONSTRAINT "attorney_representations_debtor_id_fkey" FOREIGN KEY ("debtor_id") REFERENCES "debtors"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "attorney_representations" ADD CONSTRAINT "attorney_representations_debt_id_fkey" FOREIGN KEY ("debt_id") REFERENCES "debts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "moratoria" ADD CONSTRAINT "moratoria_debtor_id_fkey" FOREIGN KEY ("debtor_id") REFERENCES "debtors"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "disputes" ADD CONSTRAINT "disputes_debt_id_fkey" FOREIGN KEY ("debt_id") REFERENCES "debts"("id") ON DELETE CASCADE ON UPDATE CASCADE;
