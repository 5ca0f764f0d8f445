import type { MigrationInterface, QueryRunner } from "typeorm";

/** signals.last_read_at: the newest successful read of a signal, late readings included. */
export class SignalLastReadAt1795590000000 implements MigrationInterface {
  name = "SignalLastReadAt1795590000000";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "signals" ADD "last_read_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(
      `UPDATE "signals" s SET "last_read_at" = (
         SELECT max(COALESCE(r.retrieved_at, r.oem_updated_at, r.received_at)) FROM "signal_readings" r
          WHERE r.vehicle_id = s.vehicle_id AND r.code = s.code)`,
    );
    await queryRunner.query(`UPDATE "signals" SET "last_read_at" = COALESCE("retrieved_at", "observed_at") WHERE "last_read_at" IS NULL`);
    await queryRunner.query(`ALTER TABLE "signals" ALTER COLUMN "last_read_at" SET NOT NULL`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "signals" DROP COLUMN "last_read_at"`);
  }
}
