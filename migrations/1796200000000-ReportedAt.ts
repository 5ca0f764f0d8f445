import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * "Observed" is a signal value's ordering (oemUpdatedAt, else retrievedAt, else receipt); issues and
 * signal errors are ordered by when Smartcar reported them: their column says so.
 */
export class ReportedAt1796200000000 implements MigrationInterface {
  name = "ReportedAt1796200000000";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "vehicle_issues" RENAME COLUMN "observed_at" TO "reported_at"`);
    await queryRunner.query(`ALTER TABLE "signal_errors" RENAME COLUMN "observed_at" TO "reported_at"`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "signal_errors" RENAME COLUMN "reported_at" TO "observed_at"`);
    await queryRunner.query(`ALTER TABLE "vehicle_issues" RENAME COLUMN "reported_at" TO "observed_at"`);
  }
}
