import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * What kind of value each signal body holds (src/signals/typed-value.ts), stored with the typed
 * columns fleet queries filter on, and backfilled for existing rows with the same rules in SQL.
 * Partial indexes per kind on the latest values (`signals`) serve `vehicles(where: {signals})`.
 *
 * `kind` stays nullable for one release (README, Upgrades: the previous version keeps working): during a
 * rolling upgrade the previous version still inserts values without it, and updates latest values
 * without touching the typed columns. The next release re-derives `signals` (one row per signal of a
 * vehicle, cheap) and the readings without a kind with KIND below, then sets NOT NULL.
 */
export class TypedSignalValues1796100000000 implements MigrationInterface {
  name = "TypedSignalValues1796100000000";

  public async up(queryRunner: QueryRunner): Promise<void> {
    for (const table of ["signals", "signal_readings"]) {
      await queryRunner.query(
        `ALTER TABLE "${table}" ADD "kind" text, ADD "value_boolean" boolean, ADD "value_text" text,
           ADD "latitude" double precision, ADD "longitude" double precision`,
      );
      await queryRunner.query(`UPDATE "${table}" SET kind = ${KIND}`);
      await queryRunner.query(
        `UPDATE "${table}" SET
           value_boolean = CASE WHEN kind = 'BOOLEAN' THEN (body->>'value')::boolean END,
           value_text = CASE WHEN kind = 'TEXT' THEN body->>'value' END,
           latitude = CASE WHEN kind = 'LOCATION' THEN (body->>'latitude')::float8 END,
           longitude = CASE WHEN kind = 'LOCATION' THEN (body->>'longitude')::float8 END
         WHERE kind IN ('BOOLEAN', 'TEXT', 'LOCATION')`,
      );
    }
    await queryRunner.query(`CREATE INDEX "signals_number_idx" ON "signals" ("code", "value") WHERE kind = 'NUMBER'`);
    await queryRunner.query(`CREATE INDEX "signals_boolean_idx" ON "signals" ("code", "value_boolean") WHERE kind = 'BOOLEAN'`);
    // A hash index: a long text would not fit a btree entry (about 2.7 kB), and `equals` is all it serves.
    await queryRunner.query(`CREATE INDEX "signals_text_idx" ON "signals" USING hash ("value_text") WHERE kind = 'TEXT'`);
    // The bounding box of `near` is a latitude range on this index, longitudes checked in it.
    await queryRunner.query(`CREATE INDEX "signals_location_idx" ON "signals" ("code", "latitude", "longitude") WHERE kind = 'LOCATION'`);
    // A code has one kind: without this the planner multiplies their selectivities, expects a few
    // matches where there are thousands, and scans every vehicle for a 20-row page.
    await queryRunner.query(`CREATE STATISTICS "signals_code_kind_stats" (mcv, dependencies) ON "code", "kind" FROM "signals"`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP STATISTICS "signals_code_kind_stats"`);
    for (const index of ["signals_number_idx", "signals_boolean_idx", "signals_text_idx", "signals_location_idx"]) {
      await queryRunner.query(`DROP INDEX "${index}"`);
    }
    for (const table of ["signal_readings", "signals"]) {
      await queryRunner.query(
        `ALTER TABLE "${table}" DROP COLUMN "longitude", DROP COLUMN "latitude", DROP COLUMN "value_text",
           DROP COLUMN "value_boolean", DROP COLUMN "kind"`,
      );
    }
  }
}

/** typedValue's rules in SQL (test/integration/typed-values.test.ts checks they agree). */
const KIND = `CASE
  WHEN body IS NULL OR jsonb_typeof(body) = 'null' THEN 'NULL'
  WHEN jsonb_typeof(body) <> 'object' THEN 'OBJECT'
  WHEN body ? 'value' THEN
    CASE jsonb_typeof(body->'value') WHEN 'number' THEN 'NUMBER' WHEN 'boolean' THEN 'BOOLEAN' WHEN 'string' THEN 'TEXT'
                                     WHEN 'null' THEN 'NULL' ELSE 'OBJECT' END
  WHEN jsonb_typeof(body->'percentage') = 'number' THEN 'NUMBER'
  WHEN jsonb_typeof(body->'latitude') = 'number' AND jsonb_typeof(body->'longitude') = 'number' THEN
    -- Nested, so the casts only ever see numbers (AND does not promise an order).
    CASE WHEN abs((body->>'latitude')::float8) <= 90 AND abs((body->>'longitude')::float8) <= 180 THEN 'LOCATION' ELSE 'OBJECT' END
  ELSE 'OBJECT'
END`;
