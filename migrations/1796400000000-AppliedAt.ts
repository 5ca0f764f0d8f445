import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * A latest value's and a reading's `received_at` held the time the value was applied (its vehicle's
 * lock taken, so each vehicle's times follow commit order), not when its delivery arrived: the column
 * says so now. GraphQL still calls it `receivedAt` (contract). The partitions follow their parent.
 */
export class AppliedAt1796400000000 implements MigrationInterface {
  name = "AppliedAt1796400000000";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "signals" RENAME COLUMN "received_at" TO "applied_at"`);
    await queryRunner.query(`ALTER TABLE "signal_readings" RENAME COLUMN "received_at" TO "applied_at"`);
    await queryRunner.query(`ALTER INDEX "signal_readings_received_at_idx" RENAME TO "signal_readings_applied_at_idx"`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER INDEX "signal_readings_applied_at_idx" RENAME TO "signal_readings_received_at_idx"`);
    await queryRunner.query(`ALTER TABLE "signal_readings" RENAME COLUMN "applied_at" TO "received_at"`);
    await queryRunner.query(`ALTER TABLE "signals" RENAME COLUMN "applied_at" TO "received_at"`);
  }
}
