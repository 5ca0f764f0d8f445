import type { MigrationInterface, QueryRunner } from "typeorm";

/** Readings by time of receipt: subscription replay (`since`) across vehicles, and retention later. */
export class SignalReadingsReceivedAt1795600000000 implements MigrationInterface {
  name = "SignalReadingsReceivedAt1795600000000";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "signal_readings_received_at_idx" ON "signal_readings" ("received_at")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."signal_readings_received_at_idx"`);
  }
}
