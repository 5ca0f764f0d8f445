import { startTestApp } from "../../helpers/test-app";

describe("migrations", () => {
  it("create exactly the schema the entities describe (else: npm run migration:generate -- migrations/Name)", async () => {
    const { app } = await startTestApp();
    const pending = await app.dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((query) => query.query)).toEqual([]);
  });

  it("can be reverted and applied again", async () => {
    const { app } = await startTestApp();
    const applied = await app.dataSource.query<unknown[]>("SELECT * FROM migrations");
    for (let i = 0; i < applied.length; i++) await app.dataSource.undoLastMigration({ transaction: "each" });
    expect(await app.dataSource.query("SELECT to_regclass('public.vehicles') AS t")).toEqual([{ t: null }]);
    await app.dataSource.runMigrations({ transaction: "each" });
    expect(await app.dataSource.showMigrations()).toBe(false);
  });
});
