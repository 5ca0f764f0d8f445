import { randomUUID } from "node:crypto";
import type { App } from "../../../src/app";
import { createLogger } from "../../../src/logger";
import { postDelivery, vehicleState } from "../../helpers/smartcar";
import { startTestApp, testDatabase } from "../../helpers/test-app";

/** An app whose log lines are captured. */
async function startLoggedApp(env: Record<string, string> = {}): Promise<{ app: App; lines: string[] }> {
  const lines: string[] = [];
  const { app } = await startTestApp({ WEBHOOK_BODY_LIMIT: String(8 * 1024 * 1024), ...env }, { logs: lines });
  return { app, lines };
}

/**
 * A failing statement's error carried every SQL parameter (raw bodies, user ids, locations) into
 * the log, one line of megabytes; the database URL's `?password=` was logged verbatim.
 */
describe("what reaches the log", () => {
  it("a database error during a big delivery is logged without parameters, values or body, and bounded", async () => {
    const { app, lines } = await startLoggedApp();
    // Every insert into webhook_events fails: the apply statement's error is logged as a 500.
    await app.dataSource.query(`
      CREATE FUNCTION refuse_events() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'events are refused for this test' USING ERRCODE = 'P0001', TABLE = 'webhook_events'; END $$;
      CREATE TRIGGER refuse_events BEFORE INSERT ON webhook_events FOR EACH ROW EXECUTE FUNCTION refuse_events();`);

    const userId = `user-${randomUUID()}`;
    const secretPlace = 48.85837009;
    const padding = `PADDING-${randomUUID()}-`.repeat(100_000); // about 4.5 MB
    const delivery = vehicleState({
      vehicleId: randomUUID(),
      userId,
      signals: [
        { code: "location-preciselocation", body: { latitude: secretPlace, longitude: 2.29448089, heading: 0 } },
        { code: "x-padding", body: { value: padding } },
      ],
    });
    const before = lines.length;
    const result = await postDelivery(app.url, delivery);
    expect(result.status).toBe(500);

    const logged = lines.slice(before);
    const failure = logged.map((line) => JSON.parse(line)).find((record) => record.err !== undefined);
    expect(failure).toBeDefined();
    // What an operator needs: the message, SQLSTATE, the table.
    expect(failure.err).toMatchObject({ message: expect.stringContaining("events are refused"), code: "P0001", table: "webhook_events" });
    for (const key of ["parameters", "query", "driverError", "detail", "where"]) expect(failure.err).not.toHaveProperty(key);
    const text = logged.join("");
    expect(text).not.toContain("PADDING");
    expect(text).not.toContain(userId);
    expect(text).not.toContain(String(secretPlace));
    expect(text).not.toContain(delivery.eventId as string);
    for (const line of logged) expect(line.length).toBeLessThan(16 * 1024);
  });

  it("logs an error of any size bounded", async () => {
    const lines: string[] = [];
    const logger = createLogger("info", { write: (line: string) => void lines.push(line) });
    const huge = Object.assign(new Error("x".repeat(1_000_000)), { parameters: ["secret"], nested: { deep: "y".repeat(1_000_000) } });
    huge.cause = huge; // a cycle must not loop either
    logger.error({ err: huge }, "failed");
    expect(lines).toHaveLength(1);
    expect(lines[0].length).toBeLessThan(16 * 1024);
    expect(lines[0]).not.toContain("secret");
  });

  it.each([
    ["a password query parameter", "password=hunter2-query", "hunter2-query"],
    ["an sslpassword query parameter", "sslpassword=hunter2-ssl", "hunter2-ssl"],
  ])("masks %s of DATABASE_URL", async (_case, query, secret) => {
    const url = new URL((await testDatabase()).url);
    url.search = `?${query}&application_name=fleetgraph-test`;
    const { lines } = await startLoggedApp({ DATABASE_URL: url.toString() });
    const text = lines.join("");
    expect(text).toContain("database: PostgreSQL from DATABASE_URL");
    expect(text).toContain("application_name=fleetgraph-test");
    expect(text).not.toContain(secret);
  });
});
