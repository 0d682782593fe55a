-- CreateEnum
CREATE TYPE "Channel" AS ENUM ('SMS', 'EMAIL', 'VOICE', 'LETTER');

-- CreateEnum
CREATE TYPE "Direction" AS ENUM ('OUTBOUND', 'INBOUND');

-- CreateEnum
CREATE TYPE "ContactPointKind" AS ENUM ('PHONE', 'EMAIL', 'ADDRESS');

-- CreateEnum
CREATE TYPE "ConsentState" AS ENUM ('GRANTED', 'UNKNOWN', 'REVOKED');

-- CreateEnum
CREATE TYPE "ContactRestriction" AS ENUM ('CEASE_COMMUNICATION', 'DISPUTE_UNDER_REVIEW', 'BANKRUPTCY', 'ATTORNEY_REPRESENTED', 'DECEASED', 'MORATORIUM');

-- CreateEnum
CREATE TYPE "DebtStatus" AS ENUM ('OPEN', 'PROMISED', 'PAYMENT_PLAN', 'DISPUTED', 'PAID', 'SETTLED', 'WRITTEN_OFF', 'CLOSED');

-- CreateEnum
CREATE TYPE "MessageStatus" AS ENUM ('PENDING', 'SCHEDULED', 'SENDING', 'QUEUED', 'SENT', 'DELIVERED', 'UNDELIVERED', 'FAILED', 'BOUNCED', 'CANCELLED', 'RECEIVED', 'RINGING', 'IN_PROGRESS', 'COMPLETED', 'BUSY', 'NO_ANSWER', 'MAILED', 'IN_TRANSIT', 'RETURNED');

-- CreateEnum
CREATE TYPE "ConversationStatus" AS ENUM ('OPEN', 'PENDING', 'SNOOZED', 'RESOLVED');

-- CreateEnum
CREATE TYPE "ConversationFlag" AS ENUM ('OPT_OUT', 'DISPUTE', 'CEASE', 'ALREADY_PAID', 'PROMISE_TO_PAY', 'HARDSHIP', 'CALLBACK_REQUEST', 'WRONG_NUMBER', 'UNMATCHED', 'UNKNOWN_SENDER_ADDRESS', 'NEEDS_REVIEW');

-- CreateEnum
CREATE TYPE "Role" AS ENUM ('ADMIN', 'AGENT');

-- CreateEnum
CREATE TYPE "PromiseStatus" AS ENUM ('ACTIVE', 'KEPT', 'BROKEN', 'CANCELLED');

-- CreateEnum
CREATE TYPE "InboundEventStatus" AS ENUM ('RECEIVED', 'PROCESSED', 'FAILED', 'IGNORED');

-- CreateEnum
CREATE TYPE "CampaignStatus" AS ENUM ('DRAFT', 'ACTIVE', 'PAUSED', 'CANCELLED', 'COMPLETED');

-- CreateEnum
CREATE TYPE "EnrollmentStatus" AS ENUM ('ACTIVE', 'COMPLETED', 'STOPPED');

-- CreateEnum
CREATE TYPE "StepAnchor" AS ENUM ('ENROLLMENT', 'DUE_DATE');

-- CreateEnum
CREATE TYPE "JobStatus" AS ENUM ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED');

-- CreateTable
CREATE TABLE "creditors" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "external_ref" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "creditors_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "debtors" (
    "id" UUID NOT NULL,
    "external_ref" TEXT,
    "full_name" TEXT NOT NULL,
    "locale" TEXT NOT NULL DEFAULT 'en'::text,
    "jurisdiction" TEXT,
    "time_zone" TEXT,
    "restrictions" "ContactRestriction"[] DEFAULT ARRAY[]::"ContactRestriction"[],
    "tags" TEXT[] DEFAULT ARRAY[]::text[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "debtors_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "contact_points" (
    "id" UUID NOT NULL,
    "debtor_id" UUID NOT NULL,
    "kind" "ContactPointKind" NOT NULL,
    "value" TEXT NOT NULL,
    "label" TEXT,
    "is_mobile" BOOLEAN,
    "is_work" BOOLEAN NOT NULL DEFAULT false,
    "employer_forbids_contact" BOOLEAN NOT NULL DEFAULT false,
    "line1" TEXT,
    "line2" TEXT,
    "city" TEXT,
    "region" TEXT,
    "postal_code" TEXT,
    "country" CHAR(2),
    "time_zone" TEXT,
    "valid" BOOLEAN NOT NULL DEFAULT true,
    "invalid_reason" TEXT,
    "invalid_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "contact_points_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "channel_consents" (
    "id" UUID NOT NULL,
    "contact_point_id" UUID NOT NULL,
    "channel" "Channel" NOT NULL,
    "state" "ConsentState" NOT NULL DEFAULT 'UNKNOWN'::"ConsentState",
    "source" TEXT,
    "changed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "channel_consents_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "contact_preferences" (
    "debtor_id" UUID NOT NULL,
    "channel_order" "Channel"[] DEFAULT ARRAY[]::"Channel"[],
    "inconvenient_times" JSONB NOT NULL DEFAULT '[]'::jsonb,
    "contact_limits" JSONB NOT NULL DEFAULT '{}'::jsonb,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "contact_preferences_pkey" PRIMARY KEY ("debtor_id")
);

-- CreateTable
CREATE TABLE "debts" (
    "id" UUID NOT NULL,
    "creditor_id" UUID NOT NULL,
    "external_ref" TEXT NOT NULL,
    "debtor_id" UUID NOT NULL,
    "original_amount" DECIMAL(19,4) NOT NULL,
    "balance" DECIMAL(19,4) NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "due_date" DATE NOT NULL,
    "status" "DebtStatus" NOT NULL DEFAULT 'OPEN'::"DebtStatus",
    "jurisdiction" TEXT,
    "restrictions" "ContactRestriction"[] DEFAULT ARRAY[]::"ContactRestriction"[],
    "tags" TEXT[] DEFAULT ARRAY[]::text[],
    "time_barred" BOOLEAN NOT NULL DEFAULT false,
    "payment_link" TEXT,
    "last_phone_conversation_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "debts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "promises_to_pay" (
    "id" UUID NOT NULL,
    "debt_id" UUID NOT NULL,
    "amount" DECIMAL(19,4) NOT NULL,
    "due_date" DATE NOT NULL,
    "plan_id" UUID,
    "status" "PromiseStatus" NOT NULL DEFAULT 'ACTIVE'::"PromiseStatus",
    "created_by_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "promises_to_pay_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "payments" (
    "id" UUID NOT NULL,
    "debt_id" UUID NOT NULL,
    "amount" DECIMAL(19,4) NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "paid_at" TIMESTAMPTZ(3) NOT NULL,
    "external_ref" TEXT,
    "source" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "payments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "conversations" (
    "id" UUID NOT NULL,
    "debtor_id" UUID,
    "reply_token" TEXT NOT NULL,
    "status" "ConversationStatus" NOT NULL DEFAULT 'OPEN'::"ConversationStatus",
    "flags" "ConversationFlag"[] DEFAULT ARRAY[]::"ConversationFlag"[],
    "assignee_id" UUID,
    "snoozed_until" TIMESTAMPTZ(3),
    "unmatched_address" TEXT,
    "last_seq" INTEGER NOT NULL DEFAULT 0,
    "last_activity_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_inbound_channel" "Channel",
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "conversations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "conversation_events" (
    "id" BIGSERIAL NOT NULL,
    "conversation_id" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "type" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "conversation_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "messages" (
    "id" UUID NOT NULL,
    "conversation_id" UUID NOT NULL,
    "debtor_id" UUID,
    "debt_id" UUID,
    "contact_point_id" UUID,
    "campaign_id" UUID,
    "direction" "Direction" NOT NULL,
    "channel" "Channel" NOT NULL,
    "status" "MessageStatus" NOT NULL,
    "intent" TEXT,
    "template_id" TEXT,
    "locale" TEXT,
    "from_address" TEXT,
    "to_address" TEXT,
    "subject" TEXT,
    "body" TEXT NOT NULL,
    "html" TEXT,
    "decision" JSONB,
    "scheduled_at" TIMESTAMPTZ(3),
    "sent_at" TIMESTAMPTZ(3),
    "delivered_at" TIMESTAMPTZ(3),
    "provider" TEXT,
    "provider_message_id" TEXT,
    "rfc_message_id" TEXT,
    "in_reply_to" TEXT,
    "error_code" TEXT,
    "error_message" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "segments" INTEGER,
    "encoding" TEXT,
    "pdf_path" TEXT,
    "call_outcome" JSONB,
    "from_unknown_address" BOOLEAN NOT NULL DEFAULT false,
    "counts_as_attempt" BOOLEAN NOT NULL DEFAULT false,
    "idempotency_key" TEXT,
    "created_by_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "messages_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "message_status_events" (
    "id" BIGSERIAL NOT NULL,
    "message_id" UUID NOT NULL,
    "status" "MessageStatus" NOT NULL,
    "provider_status" TEXT,
    "error_code" TEXT,
    "provider_event_id" TEXT,
    "detail" JSONB,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "message_status_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "attachments" (
    "id" UUID NOT NULL,
    "message_id" UUID NOT NULL,
    "filename" TEXT NOT NULL,
    "content_type" TEXT NOT NULL,
    "size" INTEGER NOT NULL,
    "sha256" CHAR(64) NOT NULL,
    "path" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "attachments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "notes" (
    "id" UUID NOT NULL,
    "conversation_id" UUID NOT NULL,
    "author_id" UUID NOT NULL,
    "body" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "notes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "inbound_events" (
    "id" UUID NOT NULL,
    "provider" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "dedupe_key" TEXT NOT NULL,
    "headers" JSONB NOT NULL,
    "body" BYTEA NOT NULL,
    "status" "InboundEventStatus" NOT NULL DEFAULT 'RECEIVED'::"InboundEventStatus",
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "next_attempt_at" TIMESTAMPTZ(3),
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "processed_at" TIMESTAMPTZ(3),
    CONSTRAINT "inbound_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "users" (
    "id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "role" "Role" NOT NULL DEFAULT 'AGENT'::"Role",
    "password_hash" TEXT NOT NULL,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "failed_logins" INTEGER NOT NULL DEFAULT 0,
    "locked_until" TIMESTAMPTZ(3),
    "last_login_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sessions" (
    "id" CHAR(64) NOT NULL,
    "user_id" UUID NOT NULL,
    "csrf_token" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ip" TEXT,
    "user_agent" TEXT,
    CONSTRAINT "sessions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_keys" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "hash" CHAR(64) NOT NULL,
    "role" "Role" NOT NULL DEFAULT 'AGENT'::"Role",
    "created_by_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),
    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_events" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor_type" TEXT NOT NULL,
    "actor_id" TEXT,
    "action" TEXT NOT NULL,
    "entity_type" TEXT,
    "entity_id" TEXT,
    "data" JSONB,
    "ip" TEXT,
    "request_id" TEXT,
    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "idempotency_records" (
    "scope" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "request_hash" CHAR(64) NOT NULL,
    "status_code" INTEGER,
    "response" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "idempotency_records_pkey" PRIMARY KEY ("scope", "key")
);

-- CreateTable
CREATE TABLE "campaigns" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "status" "CampaignStatus" NOT NULL DEFAULT 'DRAFT'::"CampaignStatus",
    "audience" JSONB NOT NULL,
    "stop_conditions" TEXT[] DEFAULT ARRAY[]::text[],
    "throttle" JSONB NOT NULL DEFAULT '{}'::jsonb,
    "cron" TEXT,
    "time_zone" TEXT,
    "created_by_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "campaigns_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "campaign_steps" (
    "id" UUID NOT NULL,
    "campaign_id" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "offset_days" INTEGER NOT NULL,
    "anchor" "StepAnchor" NOT NULL DEFAULT 'ENROLLMENT'::"StepAnchor",
    "intent" TEXT NOT NULL,
    "channel" "Channel",
    "conditions" JSONB NOT NULL DEFAULT '{}'::jsonb,
    "window" JSONB,
    CONSTRAINT "campaign_steps_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "campaign_enrollments" (
    "id" UUID NOT NULL,
    "campaign_id" UUID NOT NULL,
    "debt_id" UUID NOT NULL,
    "debtor_id" UUID NOT NULL,
    "status" "EnrollmentStatus" NOT NULL DEFAULT 'ACTIVE'::"EnrollmentStatus",
    "stop_reason" TEXT,
    "next_step" INTEGER NOT NULL DEFAULT 1,
    "next_step_at" TIMESTAMPTZ(3),
    "enrolled_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "campaign_enrollments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "campaign_step_runs" (
    "id" UUID NOT NULL,
    "enrollment_id" UUID NOT NULL,
    "step_id" UUID NOT NULL,
    "message_id" UUID,
    "outcome" TEXT NOT NULL,
    "reasons" TEXT[] DEFAULT ARRAY[]::text[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "campaign_step_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "import_jobs" (
    "id" UUID NOT NULL,
    "format" TEXT NOT NULL,
    "filename" TEXT,
    "status" "JobStatus" NOT NULL DEFAULT 'QUEUED'::"JobStatus",
    "rows_done" INTEGER NOT NULL DEFAULT 0,
    "rows_failed" INTEGER NOT NULL DEFAULT 0,
    "errors" JSONB NOT NULL DEFAULT '[]'::jsonb,
    "created_by_id" UUID,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "import_jobs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_subscriptions" (
    "id" UUID NOT NULL,
    "url" TEXT NOT NULL,
    "secret" TEXT NOT NULL,
    "events" TEXT[] DEFAULT ARRAY[]::text[],
    "active" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "webhook_subscriptions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_deliveries" (
    "id" UUID NOT NULL,
    "subscription_id" UUID NOT NULL,
    "event" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "status" "JobStatus" NOT NULL DEFAULT 'QUEUED'::"JobStatus",
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "next_attempt_at" TIMESTAMPTZ(3),
    "delivered_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "creditors_external_ref_key" ON "creditors"("external_ref");

-- CreateIndex
CREATE UNIQUE INDEX "debtors_external_ref_key" ON "debtors"("external_ref");

-- CreateIndex
CREATE INDEX "debtors_full_name_idx" ON "debtors"("full_name");

-- CreateIndex
CREATE INDEX "contact_points_kind_value_idx" ON "contact_points"("kind", "value");

-- CreateIndex
CREATE UNIQUE INDEX "contact_points_debtor_id_kind_value_key" ON "contact_points"("debtor_id", "kind", "value");

-- CreateIndex
CREATE UNIQUE INDEX "channel_consents_contact_point_id_channel_key" ON "channel_consents"("contact_point_id", "channel");

-- CreateIndex
CREATE INDEX "debts_debtor_id_idx" ON "debts"("debtor_id");

-- CreateIndex
CREATE INDEX "debts_status_due_date_idx" ON "debts"("status", "due_date");

-- CreateIndex
CREATE UNIQUE INDEX "debts_creditor_id_external_ref_key" ON "debts"("creditor_id", "external_ref");

-- CreateIndex
CREATE INDEX "promises_to_pay_debt_id_status_idx" ON "promises_to_pay"("debt_id", "status");

-- CreateIndex
CREATE UNIQUE INDEX "payments_external_ref_key" ON "payments"("external_ref");

-- CreateIndex
CREATE INDEX "payments_debt_id_idx" ON "payments"("debt_id");

-- CreateIndex
CREATE UNIQUE INDEX "conversations_debtor_id_key" ON "conversations"("debtor_id");

-- CreateIndex
CREATE UNIQUE INDEX "conversations_reply_token_key" ON "conversations"("reply_token");

-- CreateIndex
CREATE UNIQUE INDEX "conversations_unmatched_address_key" ON "conversations"("unmatched_address");

-- CreateIndex
CREATE INDEX "conversations_status_last_activity_at_idx" ON "conversations"("status", "last_activity_at");

-- CreateIndex
CREATE INDEX "conversations_assignee_id_idx" ON "conversations"("assignee_id");

-- CreateIndex
CREATE UNIQUE INDEX "conversation_events_conversation_id_seq_key" ON "conversation_events"("conversation_id", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "messages_provider_message_id_key" ON "messages"("provider_message_id");

-- CreateIndex
CREATE UNIQUE INDEX "messages_rfc_message_id_key" ON "messages"("rfc_message_id");

-- CreateIndex
CREATE UNIQUE INDEX "messages_idempotency_key_key" ON "messages"("idempotency_key");

-- CreateIndex
CREATE INDEX "messages_conversation_id_created_at_idx" ON "messages"("conversation_id", "created_at");

-- CreateIndex
CREATE INDEX "messages_debtor_id_channel_created_at_idx" ON "messages"("debtor_id", "channel", "created_at");

-- CreateIndex
CREATE INDEX "messages_debt_id_channel_created_at_idx" ON "messages"("debt_id", "channel", "created_at");

-- CreateIndex
CREATE INDEX "messages_status_scheduled_at_idx" ON "messages"("status", "scheduled_at");

-- CreateIndex
CREATE UNIQUE INDEX "message_status_events_provider_event_id_key" ON "message_status_events"("provider_event_id");

-- CreateIndex
CREATE INDEX "message_status_events_message_id_occurred_at_idx" ON "message_status_events"("message_id", "occurred_at");

-- CreateIndex
CREATE INDEX "attachments_message_id_idx" ON "attachments"("message_id");

-- CreateIndex
CREATE INDEX "notes_conversation_id_created_at_idx" ON "notes"("conversation_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "inbound_events_dedupe_key_key" ON "inbound_events"("dedupe_key");

-- CreateIndex
CREATE INDEX "inbound_events_status_next_attempt_at_idx" ON "inbound_events"("status", "next_attempt_at");

-- CreateIndex
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");

-- CreateIndex
CREATE INDEX "sessions_user_id_idx" ON "sessions"("user_id");

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_hash_key" ON "api_keys"("hash");

-- CreateIndex
CREATE INDEX "audit_events_entity_type_entity_id_idx" ON "audit_events"("entity_type", "entity_id");

-- CreateIndex
CREATE INDEX "audit_events_at_idx" ON "audit_events"("at");

-- CreateIndex
CREATE UNIQUE INDEX "campaign_steps_campaign_id_position_key" ON "campaign_steps"("campaign_id", "position");

-- CreateIndex
CREATE INDEX "campaign_enrollments_campaign_id_status_next_step_at_idx" ON "campaign_enrollments"("campaign_id", "status", "next_step_at");

-- CreateIndex
CREATE UNIQUE INDEX "campaign_enrollments_campaign_id_debt_id_key" ON "campaign_enrollments"("campaign_id", "debt_id");

-- CreateIndex
CREATE UNIQUE INDEX "campaign_step_runs_message_id_key" ON "campaign_step_runs"("message_id");

-- CreateIndex
CREATE UNIQUE INDEX "campaign_step_runs_enrollment_id_step_id_key" ON "campaign_step_runs"("enrollment_id", "step_id");

-- CreateIndex
CREATE INDEX "webhook_deliveries_status_next_attempt_at_idx" ON "webhook_deliveries"("status", "next_attempt_at");

-- AddForeignKey
ALTER TABLE "contact_points" ADD CONSTRAINT "contact_points_debtor_id_fkey" FOREIGN KEY ("debtor_id") REFERENCES "debtors"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "channel_consents" ADD CONSTRAINT "channel_consents_contact_point_id_fkey" FOREIGN KEY ("contact_point_id") REFERENCES "contact_points"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "contact_preferences" ADD CONSTRAINT "contact_preferences_debtor_id_fkey" FOREIGN KEY ("debtor_id") REFERENCES "debtors"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "debts" ADD CONSTRAINT "debts_creditor_id_fkey" FOREIGN KEY ("creditor_id") REFERENCES "creditors"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "debts" ADD CONSTRAINT "debts_debtor_id_fkey" FOREIGN KEY ("debtor_id") REFERENCES "debtors"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "promises_to_pay" ADD CONSTRAINT "promises_to_pay_debt_id_fkey" FOREIGN KEY ("debt_id") REFERENCES "debts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "payments" ADD CONSTRAINT "payments_debt_id_fkey" FOREIGN KEY ("debt_id") REFERENCES "debts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "conversations" ADD CONSTRAINT "conversations_debtor_id_fkey" FOREIGN KEY ("debtor_id") REFERENCES "debtors"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "conversations" ADD CONSTRAINT "conversations_assignee_id_fkey" FOREIGN KEY ("assignee_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "conversation_events" ADD CONSTRAINT "conversation_events_conversation_id_fkey" FOREIGN KEY ("conversation_id") REFERENCES "conversations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "messages" ADD CONSTRAINT "messages_conversation_id_fkey" FOREIGN KEY ("conversation_id") REFERENCES "conversations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "messages" ADD CONSTRAINT "messages_debtor_id_fkey" FOREIGN KEY ("debtor_id") REFERENCES "debtors"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "messages" ADD CONSTRAINT "messages_debt_id_fkey" FOREIGN KEY ("debt_id") REFERENCES "debts"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "messages" ADD CONSTRAINT "messages_contact_point_id_fkey" FOREIGN KEY ("contact_point_id") REFERENCES "contact_points"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "messages" ADD CONSTRAINT "messages_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaigns"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "message_status_events" ADD CONSTRAINT "message_status_events_message_id_fkey" FOREIGN KEY ("message_id") REFERENCES "messages"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "attachments" ADD CONSTRAINT "attachments_message_id_fkey" FOREIGN KEY ("message_id") REFERENCES "messages"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "notes" ADD CONSTRAINT "notes_conversation_id_fkey" FOREIGN KEY ("conversation_id") REFERENCES "conversations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "notes" ADD CONSTRAINT "notes_author_id_fkey" FOREIGN KEY ("author_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_created_by_id_fkey" FOREIGN KEY ("created_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "campaign_steps" ADD CONSTRAINT "campaign_steps_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaigns"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "campaign_enrollments" ADD CONSTRAINT "campaign_enrollments_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaigns"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "campaign_enrollments" ADD CONSTRAINT "campaign_enrollments_debt_id_fkey" FOREIGN KEY ("debt_id") REFERENCES "debts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "campaign_enrollments" ADD CONSTRAINT "campaign_enrollments_debtor_id_fkey" FOREIGN KEY ("debtor_id") REFERENCES "debtors"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "campaign_step_runs" ADD CONSTRAINT "campaign_step_runs_enrollment_id_fkey" FOREIGN KEY ("enrollment_id") REFERENCES "campaign_enrollments"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "campaign_step_runs" ADD CONSTRAINT "campaign_step_runs_step_id_fkey" FOREIGN KEY ("step_id") REFERENCES "campaign_steps"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_subscription_id_fkey" FOREIGN KEY ("subscription_id") REFERENCES "webhook_subscriptions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Audit log is append-only: evidence in a dispute must be complete and unaltered.
CREATE FUNCTION "audit_events_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER "audit_events_no_update_delete"
  BEFORE UPDATE OR DELETE ON "audit_events"
  FOR EACH ROW EXECUTE FUNCTION "audit_events_append_only"();

CREATE TRIGGER "audit_events_no_truncate"
  BEFORE TRUNCATE ON "audit_events"
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_events_append_only"();
