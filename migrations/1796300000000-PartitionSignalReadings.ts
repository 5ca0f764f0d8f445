import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * The history, `signal_readings`, becomes a table partitioned by RANGE of `received_at` (the time a
 * reading was applied), one partition per UTC month, so retention drops a whole month instead of
 * deleting its rows one by one (src/signals/reading-partitions.ts says how the service keeps them).
 *
 * A partitioned table's primary key must contain the partition key: it is (id, received_at); ids stay
 * unique, drawn from one sequence, and every lookup by id still uses the key's index in each partition.
 * Existing rows are copied with their ids, and the new identity continues where the old one stopped.
 * The copy runs in this migration's transaction: on a large history, plan the upgrade (README, Upgrades).
 *
 * Partitions: `signal_readings_kept` (DEFAULT: readings a dropped month still needed, and archive
 * re-applies older than every month) and one per month from the oldest reading's through two ahead.
 */
export class PartitionSignalReadings1796300000000 implements MigrationInterface {
  name = "PartitionSignalReadings1796300000000";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await this.setAside(queryRunner);
    await queryRunner.query(
      `CREATE TABLE "signal_readings" (LIKE "signal_readings_unpartitioned" INCLUDING DEFAULTS,
         CONSTRAINT "signal_readings_pkey" PRIMARY KEY ("id", "received_at")) PARTITION BY RANGE ("received_at")`,
    );
    await queryRunner.query(`CREATE TABLE "signal_readings_kept" PARTITION OF "signal_readings" DEFAULT`);
    const [{ oldest }]: Array<{ oldest: Date | null }> = await queryRunner.query(
      `SELECT min(received_at) AS oldest FROM "signal_readings_unpartitioned"`,
    );
    const now = new Date();
    const first = oldest && oldest < now ? new Date(oldest) : now;
    const last = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 2, 1);
    for (let month = Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), 1); month <= last; ) {
      const from = new Date(month);
      const to = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + 1, 1));
      const name = `signal_readings_p${from.getUTCFullYear()}${String(from.getUTCMonth() + 1).padStart(2, "0")}`;
      await queryRunner.query(
        `CREATE TABLE "${name}" PARTITION OF "signal_readings" FOR VALUES FROM ('${from.toISOString()}') TO ('${to.toISOString()}')`,
      );
      month = to.getTime();
    }
    await this.finish(queryRunner, await this.moveRows(queryRunner));
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await this.setAside(queryRunner);
    await queryRunner.query(
      `CREATE TABLE "signal_readings" (LIKE "signal_readings_unpartitioned" INCLUDING DEFAULTS, CONSTRAINT "signal_readings_pkey" PRIMARY KEY ("id"))`,
    );
    await this.finish(queryRunner, await this.moveRows(queryRunner));
  }

  /** Renames the current table and the names it carries, so the new one can take them. */
  private async setAside(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "signal_readings" RENAME TO "signal_readings_unpartitioned"`);
    await queryRunner.query(`ALTER TABLE "signal_readings_unpartitioned" DROP CONSTRAINT "signal_readings_vehicle_id_fkey"`);
    await queryRunner.query(`ALTER TABLE "signal_readings_unpartitioned" DROP CONSTRAINT "signal_readings_pkey"`);
    for (const index of INDEXES) await queryRunner.query(`DROP INDEX "${index.name}"`);
  }

  /** Copies every row with its id, and remembers where the id sequence stood. */
  private async moveRows(queryRunner: QueryRunner): Promise<SequenceState> {
    await queryRunner.query(`INSERT INTO "signal_readings" SELECT * FROM "signal_readings_unpartitioned"`);
    const [sequence]: SequenceState[] = await queryRunner.query(`SELECT last_value, is_called FROM "signal_readings_id_seq"`);
    await queryRunner.query(`DROP TABLE "signal_readings_unpartitioned"`); // and its identity sequence, whose name the new one takes
    return sequence;
  }

  /** The identity (continuing the old sequence), the indexes and the foreign key, on the new table. */
  private async finish(queryRunner: QueryRunner, sequence: SequenceState): Promise<void> {
    await queryRunner.query(`ALTER TABLE "signal_readings" ALTER COLUMN "id" ADD GENERATED ALWAYS AS IDENTITY`);
    await queryRunner.query(`SELECT setval(pg_get_serial_sequence('signal_readings', 'id'), $1, $2)`, [
      sequence.last_value,
      sequence.is_called,
    ]);
    for (const index of INDEXES) await queryRunner.query(`CREATE INDEX "${index.name}" ON "signal_readings" (${index.columns})`);
    await queryRunner.query(
      `ALTER TABLE "signal_readings" ADD CONSTRAINT "signal_readings_vehicle_id_fkey" FOREIGN KEY ("vehicle_id") REFERENCES "vehicles"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }
}

interface SequenceState {
  last_value: string;
  is_called: boolean;
}

const INDEXES = [
  { name: "signal_readings_vehicle_code_observed_idx", columns: `"vehicle_id", "code", "observed_at"` },
  { name: "signal_readings_received_at_idx", columns: `"received_at"` },
  { name: "signal_readings_user_vehicle_code_observed_idx", columns: `"user_id", "vehicle_id", "code", "observed_at"` },
];
