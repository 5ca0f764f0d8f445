import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * The history, `signal_readings`, loses its foreign key to `vehicles`. Its check ran once per reading
 * (an SPI `SELECT ... FOR KEY SHARE` on the vehicle for each of a delivery's 10 readings), on a row the
 * inserting transaction had just upserted and still holds locked. What the key guaranteed still holds:
 * readings are inserted only by `applyReadings`, after `upsertVehicles` created or locked each of their
 * vehicles in the same transaction (so no vehicle can be deleted before the readings commit), and the
 * one place that deletes vehicles, `forgetUser`, deletes their readings first (it never relied on the
 * cascade). bench/RESULTS.md, "Ingestion, continued (session 15)", has the measurement.
 */
export class ReadingsWithoutForeignKey1796500000000 implements MigrationInterface {
  name = "ReadingsWithoutForeignKey1796500000000";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "signal_readings" DROP CONSTRAINT "signal_readings_vehicle_id_fkey"`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "signal_readings" ADD CONSTRAINT "signal_readings_vehicle_id_fkey" FOREIGN KEY ("vehicle_id") REFERENCES "vehicles"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }
}
