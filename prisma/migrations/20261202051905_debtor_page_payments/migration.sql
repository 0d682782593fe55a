-- CreateEnum
CREATE TYPE "PaymentStatus" AS ENUM ('SUCCEEDED', 'REFUNDED', 'DISPUTED');

-- AlterTable
ALTER TABLE "creditors" ADD COLUMN "portal_settings" JSONB NOT NULL DEFAULT '{}'::jsonb;

-- AlterTable
ALTER TABLE "debtors" ADD COLUMN "date_of_birth" DATE;

-- AlterTable
ALTER TABLE "promises_to_pay" ADD COLUMN "next_charge_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "promises_to_pay" ADD COLUMN "charge_attempts" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "promises_to_pay" ADD COLUMN "last_charge_ref" TEXT;

-- AlterTable
ALTER TABLE "payments" ADD COLUMN "status" "PaymentStatus" NOT NULL DEFAULT 'SUCCEEDED'::"PaymentStatus";

-- AlterTable
ALTER TABLE "payments" ADD COLUMN "reversed_amount" DECIMAL(19,4) NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "payments" ADD COLUMN "reversed_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "payments" ADD COLUMN "reversal_reason" TEXT;

-- CreateTable
CREATE TABLE "portal_access" (
    "debtor_id" UUID NOT NULL,
    "failed_attempts" INTEGER NOT NULL DEFAULT 0,
    "locked_until" TIMESTAMPTZ(3),
    "code_hash" CHAR(64),
    "code_contact_point_id" UUID,
    "code_expires_at" TIMESTAMPTZ(3),
    "code_sent_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "portal_access_pkey" PRIMARY KEY ("debtor_id")
);

-- CreateTable
CREATE TABLE "portal_sessions" (
    "id" CHAR(64) NOT NULL,
    "debtor_id" UUID NOT NULL,
    "debt_id" UUID NOT NULL,
    "csrf_token" TEXT NOT NULL,
    "verified_by" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "portal_sessions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "provider_payments" (
    "id" UUID NOT NULL,
    "provider" TEXT NOT NULL,
    "provider_ref" TEXT NOT NULL,
    "intent_ref" TEXT,
    "kind" TEXT NOT NULL,
    "debt_id" UUID NOT NULL,
    "debtor_id" UUID NOT NULL,
    "amount" DECIMAL(19,4),
    "currency" CHAR(3) NOT NULL,
    "status" TEXT NOT NULL,
    "promise_id" UUID,
    "plan_id" UUID,
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "provider_payments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "payment_plans" (
    "id" UUID NOT NULL,
    "debt_id" UUID NOT NULL,
    "debtor_id" UUID NOT NULL,
    "provider" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "schedule" JSONB NOT NULL,
    "customer_ref" TEXT,
    "payment_method_ref" TEXT,
    "failed_charges" INTEGER NOT NULL DEFAULT 0,
    "max_failed_charges" INTEGER NOT NULL,
    "retry_days" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "payment_plans_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "promises_to_pay_next_charge_at_idx" ON "promises_to_pay"("next_charge_at");

-- CreateIndex
CREATE INDEX "portal_sessions_debtor_id_idx" ON "portal_sessions"("debtor_id");

-- CreateIndex
CREATE UNIQUE INDEX "provider_payments_provider_ref_key" ON "provider_payments"("provider_ref");

-- CreateIndex
CREATE UNIQUE INDEX "provider_payments_intent_ref_key" ON "provider_payments"("intent_ref");

-- CreateIndex
CREATE INDEX "provider_payments_debt_id_idx" ON "provider_payments"("debt_id");

-- CreateIndex
CREATE INDEX "payment_plans_debt_id_idx" ON "payment_plans"("debt_id");
