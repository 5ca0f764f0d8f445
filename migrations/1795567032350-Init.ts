import { MigrationInterface, QueryRunner } from "typeorm";

export class Init1795567032350 implements MigrationInterface {
    name = 'Init1795567032350'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "vehicles" ("id" text NOT NULL, "make" text, "model" text, "year" integer, "vin" text, "user_id" text, "first_seen_at" TIMESTAMP WITH TIME ZONE NOT NULL, "last_seen_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "vehicles_pkey" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "vehicles_last_seen_at_idx" ON "vehicles"  ("last_seen_at", "id") `);
        await queryRunner.query(`CREATE INDEX "vehicles_user_id_idx" ON "vehicles"  ("user_id", "id") `);
        await queryRunner.query(`CREATE TABLE "vehicle_issues" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "issue_key" text NOT NULL, "vehicle_id" text, "user_id" text, "type" text NOT NULL, "code" text, "state" text NOT NULL, "description" text, "suggested_user_message" text, "doc_url" text, "resolution_type" text, "signal_codes" text array NOT NULL DEFAULT '{}', "opened_at" TIMESTAMP WITH TIME ZONE NOT NULL, "resolved_at" TIMESTAMP WITH TIME ZONE, "last_seen_at" TIMESTAMP WITH TIME ZONE NOT NULL, "reopen_count" integer NOT NULL DEFAULT '0', "occurrences" integer NOT NULL DEFAULT '1', "observed_at" TIMESTAMP WITH TIME ZONE NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL, "event_id" text NOT NULL, CONSTRAINT "vehicle_issues_pkey" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE UNIQUE INDEX "vehicle_issues_key_uidx" ON "vehicle_issues"  ("issue_key") `);
        await queryRunner.query(`CREATE INDEX "vehicle_issues_state_updated_idx" ON "vehicle_issues"  ("state", "updated_at") `);
        await queryRunner.query(`CREATE INDEX "vehicle_issues_vehicle_state_idx" ON "vehicle_issues"  ("vehicle_id", "state", "opened_at") `);
        await queryRunner.query(`CREATE TABLE "vehicle_issue_events" ("id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL, "issue_id" uuid NOT NULL, "vehicle_id" text, "user_id" text, "state" text NOT NULL, "change" text NOT NULL, "event_id" text NOT NULL, "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "vehicle_issue_events_pkey" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "vehicle_issue_events_issue_id_idx" ON "vehicle_issue_events"  ("issue_id", "id") `);
        await queryRunner.query(`CREATE INDEX "vehicle_issue_events_occurred_at_idx" ON "vehicle_issue_events"  ("occurred_at") `);
        await queryRunner.query(`CREATE TABLE "signal_errors" ("vehicle_id" text NOT NULL, "code" text NOT NULL, "name" text, "group_name" text, "error_type" text NOT NULL, "error_code" text, "first_seen_at" TIMESTAMP WITH TIME ZONE NOT NULL, "last_seen_at" TIMESTAMP WITH TIME ZONE NOT NULL, "observed_at" TIMESTAMP WITH TIME ZONE NOT NULL, "event_id" text NOT NULL, CONSTRAINT "signal_errors_pkey" PRIMARY KEY ("vehicle_id", "code"))`);
        await queryRunner.query(`CREATE TABLE "signal_readings" ("id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL, "vehicle_id" text NOT NULL, "code" text NOT NULL, "name" text, "group_name" text, "body" jsonb NOT NULL, "value" double precision, "unit" text, "retrieved_at" TIMESTAMP WITH TIME ZONE, "oem_updated_at" TIMESTAMP WITH TIME ZONE, "received_at" TIMESTAMP WITH TIME ZONE NOT NULL, "observed_at" TIMESTAMP WITH TIME ZONE NOT NULL, "late" boolean NOT NULL DEFAULT false, "event_id" text NOT NULL, CONSTRAINT "signal_readings_pkey" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "signal_readings_vehicle_code_observed_idx" ON "signal_readings"  ("vehicle_id", "code", "observed_at") `);
        await queryRunner.query(`CREATE TABLE "signals" ("vehicle_id" text NOT NULL, "code" text NOT NULL, "name" text, "group_name" text, "body" jsonb NOT NULL, "value" double precision, "unit" text, "retrieved_at" TIMESTAMP WITH TIME ZONE, "oem_updated_at" TIMESTAMP WITH TIME ZONE, "received_at" TIMESTAMP WITH TIME ZONE NOT NULL, "observed_at" TIMESTAMP WITH TIME ZONE NOT NULL, "event_id" text NOT NULL, CONSTRAINT "signals_pkey" PRIMARY KEY ("vehicle_id", "code"))`);
        await queryRunner.query(`CREATE TABLE "webhook_events" ("id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL, "event_id" text NOT NULL, "event_type" text NOT NULL, "mode" text NOT NULL, "version" text, "webhook_id" text, "vehicle_id" text, "delivery_id" text, "delivered_at" TIMESTAMP WITH TIME ZONE, "outcome" text NOT NULL, "attempts" integer NOT NULL DEFAULT '1', "raw_body" bytea NOT NULL, "received_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "last_received_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "webhook_events_pkey" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE UNIQUE INDEX "webhook_events_event_id_uidx" ON "webhook_events"  ("event_id") `);
        await queryRunner.query(`CREATE INDEX "webhook_events_vehicle_id_idx" ON "webhook_events"  ("vehicle_id", "received_at") `);
        await queryRunner.query(`CREATE INDEX "webhook_events_received_at_idx" ON "webhook_events"  ("received_at") `);
        await queryRunner.query(`CREATE TABLE "webhook_rejections" ("id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL, "event_id" text, "event_type" text, "reason" text NOT NULL, "raw_body" bytea NOT NULL, "received_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "webhook_rejections_pkey" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "webhook_rejections_received_at_idx" ON "webhook_rejections"  ("received_at") `);
        await queryRunner.query(`ALTER TABLE "vehicle_issues" ADD CONSTRAINT "vehicle_issues_vehicle_id_fkey" FOREIGN KEY ("vehicle_id") REFERENCES "vehicles"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "vehicle_issue_events" ADD CONSTRAINT "vehicle_issue_events_issue_id_fkey" FOREIGN KEY ("issue_id") REFERENCES "vehicle_issues"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "signal_errors" ADD CONSTRAINT "signal_errors_vehicle_id_fkey" FOREIGN KEY ("vehicle_id") REFERENCES "vehicles"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "signal_readings" ADD CONSTRAINT "signal_readings_vehicle_id_fkey" FOREIGN KEY ("vehicle_id") REFERENCES "vehicles"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "signals" ADD CONSTRAINT "signals_vehicle_id_fkey" FOREIGN KEY ("vehicle_id") REFERENCES "vehicles"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "signals" DROP CONSTRAINT "signals_vehicle_id_fkey"`);
        await queryRunner.query(`ALTER TABLE "signal_readings" DROP CONSTRAINT "signal_readings_vehicle_id_fkey"`);
        await queryRunner.query(`ALTER TABLE "signal_errors" DROP CONSTRAINT "signal_errors_vehicle_id_fkey"`);
        await queryRunner.query(`ALTER TABLE "vehicle_issue_events" DROP CONSTRAINT "vehicle_issue_events_issue_id_fkey"`);
        await queryRunner.query(`ALTER TABLE "vehicle_issues" DROP CONSTRAINT "vehicle_issues_vehicle_id_fkey"`);
        await queryRunner.query(`DROP INDEX "public"."webhook_rejections_received_at_idx"`);
        await queryRunner.query(`DROP TABLE "webhook_rejections"`);
        await queryRunner.query(`DROP INDEX "public"."webhook_events_received_at_idx"`);
        await queryRunner.query(`DROP INDEX "public"."webhook_events_vehicle_id_idx"`);
        await queryRunner.query(`DROP INDEX "public"."webhook_events_event_id_uidx"`);
        await queryRunner.query(`DROP TABLE "webhook_events"`);
        await queryRunner.query(`DROP TABLE "signals"`);
        await queryRunner.query(`DROP INDEX "public"."signal_readings_vehicle_code_observed_idx"`);
        await queryRunner.query(`DROP TABLE "signal_readings"`);
        await queryRunner.query(`DROP TABLE "signal_errors"`);
        await queryRunner.query(`DROP INDEX "public"."vehicle_issue_events_occurred_at_idx"`);
        await queryRunner.query(`DROP INDEX "public"."vehicle_issue_events_issue_id_idx"`);
        await queryRunner.query(`DROP TABLE "vehicle_issue_events"`);
        await queryRunner.query(`DROP INDEX "public"."vehicle_issues_vehicle_state_idx"`);
        await queryRunner.query(`DROP INDEX "public"."vehicle_issues_state_updated_idx"`);
        await queryRunner.query(`DROP INDEX "public"."vehicle_issues_key_uidx"`);
        await queryRunner.query(`DROP TABLE "vehicle_issues"`);
        await queryRunner.query(`DROP INDEX "public"."vehicles_user_id_idx"`);
        await queryRunner.query(`DROP INDEX "public"."vehicles_last_seen_at_idx"`);
        await queryRunner.query(`DROP TABLE "vehicles"`);
    }

}
