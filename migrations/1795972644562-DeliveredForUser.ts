import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Ownership by the newest delivery (contract, Access). A vehicle keeps the read time and event of the
 * delivery that made its owner, so an older one arriving late cannot hand it back; values, readings
 * and signal errors keep the user they were delivered for, and an issue is one user's (its key names
 * the user). Existing rows are taken to be their vehicle's current owner's.
 */
export class DeliveredForUser1795972644562 implements MigrationInterface {
  name = "DeliveredForUser1795972644562";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "vehicles" ADD "owner_read_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`ALTER TABLE "vehicles" ADD "owner_event_id" text`);
    // The newest read of the vehicle so far stands for the delivery that made its owner.
    await queryRunner.query(
      `UPDATE "vehicles" v
          SET "owner_read_at" = COALESCE(
                (SELECT max(COALESCE(r.retrieved_at, r.oem_updated_at, r.received_at)) FROM "signal_readings" r WHERE r.vehicle_id = v.id),
                v.last_seen_at)
        WHERE v.user_id IS NOT NULL`,
    );

    for (const table of ["signals", "signal_readings", "signal_errors"]) {
      await queryRunner.query(`ALTER TABLE "${table}" ADD "user_id" text`);
      await queryRunner.query(`UPDATE "${table}" t SET "user_id" = v.user_id FROM "vehicles" v WHERE v.id = t.vehicle_id AND v.user_id IS NOT NULL`);
    }
    // Issues and their log already name whom they were reported for; fill the gaps the same way.
    for (const table of ["vehicle_issues", "vehicle_issue_events"]) {
      await queryRunner.query(
        `UPDATE "${table}" t SET "user_id" = v.user_id FROM "vehicles" v WHERE v.id = t.vehicle_id AND t.user_id IS NULL AND v.user_id IS NOT NULL`,
      );
    }
    await queryRunner.query(
      `UPDATE "vehicle_issues" SET "issue_key" = concat_ws('|', COALESCE(vehicle_id, ''), COALESCE(user_id, ''), type, COALESCE(code, ''))`,
    );

    await queryRunner.query(
      `CREATE INDEX "signal_readings_user_vehicle_code_observed_idx" ON "signal_readings" ("user_id", "vehicle_id", "code", "observed_at")`,
    );
    await queryRunner.query(`CREATE INDEX "vehicle_issues_user_opened_idx" ON "vehicle_issues" ("user_id", "opened_at")`);
    await queryRunner.query(`CREATE INDEX "vehicle_issue_events_user_occurred_idx" ON "vehicle_issue_events" ("user_id", "occurred_at")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."vehicle_issue_events_user_occurred_idx"`);
    await queryRunner.query(`DROP INDEX "public"."vehicle_issues_user_opened_idx"`);
    await queryRunner.query(`DROP INDEX "public"."signal_readings_user_vehicle_code_observed_idx"`);
    // Back to one issue per (vehicle, type, code): the most recently updated user's stays.
    await queryRunner.query(
      `DELETE FROM "vehicle_issues" i
        WHERE EXISTS (SELECT 1 FROM "vehicle_issues" o
                       WHERE o.vehicle_id IS NOT DISTINCT FROM i.vehicle_id AND o.type = i.type AND o.code IS NOT DISTINCT FROM i.code
                         AND (o.updated_at, o.id) > (i.updated_at, i.id))`,
    );
    await queryRunner.query(`UPDATE "vehicle_issues" SET "issue_key" = concat_ws('|', COALESCE(vehicle_id, ''), type, COALESCE(code, ''))`);
    for (const table of ["signal_errors", "signal_readings", "signals"]) {
      await queryRunner.query(`ALTER TABLE "${table}" DROP COLUMN "user_id"`);
    }
    await queryRunner.query(`ALTER TABLE "vehicles" DROP COLUMN "owner_event_id"`);
    await queryRunner.query(`ALTER TABLE "vehicles" DROP COLUMN "owner_read_at"`);
  }
}
