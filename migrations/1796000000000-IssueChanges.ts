import type { MigrationInterface, QueryRunner } from "typeorm";

/** The issue log's rows are changes (an "event" is a Smartcar delivery): the table and its indexes say so. */
export class IssueChanges1796000000000 implements MigrationInterface {
  name = "IssueChanges1796000000000";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "vehicle_issue_events" RENAME TO "vehicle_issue_changes"`);
    await this.rename(queryRunner, "vehicle_issue_events", "vehicle_issue_changes");
  }

  /** The names that carry the table's (indexes, keys, the id sequence), while it is called vehicle_issue_changes. */
  private async rename(queryRunner: QueryRunner, from: string, to: string): Promise<void> {
    const table = "vehicle_issue_changes";
    for (const suffix of ["occurred_at_idx", "issue_id_idx", "user_occurred_idx", "pkey"]) {
      await queryRunner.query(`ALTER INDEX "${from}_${suffix}" RENAME TO "${to}_${suffix}"`);
    }
    await queryRunner.query(`ALTER TABLE "${table}" RENAME CONSTRAINT "${from}_issue_id_fkey" TO "${to}_issue_id_fkey"`);
    await queryRunner.query(`ALTER SEQUENCE "${from}_id_seq" RENAME TO "${to}_id_seq"`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await this.rename(queryRunner, "vehicle_issue_changes", "vehicle_issue_events");
    await queryRunner.query(`ALTER TABLE "vehicle_issue_changes" RENAME TO "vehicle_issue_events"`);
  }
}
