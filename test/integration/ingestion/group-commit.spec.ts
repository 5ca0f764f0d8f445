import { randomUUID } from "node:crypto";
import { postDelivery, vehicleState, type PostResult } from "../../helpers/smartcar";
import { startTestApp, testDatabase, type TestApp } from "../../helpers/test-app";

const SOC = "tractionbattery-stateofcharge";

/**
 * Group commit: deliveries arriving together are applied in one transaction, each answered after that
 * commit. The test database records the transaction of every stored event (txid_current() in a trigger:
 * only committed rows remain), holds a transaction open for a `slow-` event (so the next deliveries queue
 * behind it), and fails a `poison-` event: a fault no delivery can cause, which stands for any failure
 * of one delivery inside a batch.
 */
describe("POST /webhooks/smartcar with group commit", () => {
  let t: TestApp;
  // One batch at a time (a pool of two keeps one connection for the rest): deliveries arriving while it commits wait for the next one.
  const onePoolOfTwo = async () => ({ DATABASE_POOL_SIZE: (await testDatabase()).embedded ? "1" : "2" });

  beforeAll(async () => {
    t = await startTestApp(await onePoolOfTwo());
    await t.app.dataSource.query(`CREATE TABLE test_event_transactions (event_id text, txid bigint)`);
    await t.app.dataSource.query(`
      CREATE FUNCTION test_event_hook() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO test_event_transactions VALUES (NEW.event_id, txid_current());
        IF NEW.event_id LIKE 'slow-%' THEN PERFORM pg_sleep(1); END IF;
        IF NEW.event_id LIKE 'poison-%' THEN RAISE EXCEPTION 'poisoned delivery'; END IF;
        RETURN NEW;
      END $$`);
    await t.app.dataSource.query(
      `CREATE TRIGGER test_event_hook BEFORE INSERT ON webhook_events FOR EACH ROW EXECUTE FUNCTION test_event_hook()`,
    );
  });

  const delivery = (eventId = randomUUID(), vehicleId = randomUUID()) =>
    vehicleState({ vehicleId, eventId, signals: [{ code: SOC, body: { value: 50 } }] });

  /** Sends a delivery that holds its transaction open, then the others once it is under way. */
  async function behindASlowOne(url: string, payloads: unknown[]): Promise<{ slow: PostResult; answers: PostResult[] }> {
    const slow = postDelivery(url, delivery(`slow-${randomUUID()}`));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const answers = await Promise.all(payloads.map((payload) => postDelivery(url, payload)));
    return { slow: await slow, answers };
  }

  const transactionsOf = async (eventIds: string[]): Promise<number> => {
    const [{ count }] = await t.app.dataSource.query(
      `SELECT count(DISTINCT txid)::int AS count FROM test_event_transactions WHERE event_id = ANY($1::text[])`,
      [eventIds],
    );
    return count;
  };
  const stored = async (eventIds: string[]): Promise<string[]> =>
    (await t.app.dataSource.query(`SELECT event_id FROM webhook_events WHERE event_id = ANY($1::text[]) ORDER BY event_id`, [eventIds])).map(
      (row: { event_id: string }) => row.event_id,
    );

  it("applies deliveries that arrive together in shared transactions, each answered applied", async () => {
    const payloads = Array.from({ length: 20 }, () => delivery());
    const eventIds = payloads.map((p) => p.eventId as string);
    const { slow, answers } = await behindASlowOne(t.url, payloads);

    expect(slow.status).toBe(200);
    expect(answers.map((a) => a.body)).toEqual(eventIds.map((eventId) => ({ status: "applied", eventId })));
    expect(await stored(eventIds)).toEqual([...eventIds].sort());
    // One transaction each would be 20; queued behind the slow one they share one or two.
    expect(await transactionsOf(eventIds)).toBeLessThanOrEqual(10);
  });

  it("fails a delivery that breaks its batch alone: its neighbours are applied", async () => {
    const good = Array.from({ length: 10 }, () => delivery());
    const poison = delivery(`poison-${randomUUID()}`);
    const { answers } = await behindASlowOne(t.url, [...good.slice(0, 5), poison, ...good.slice(5)]);

    const poisoned = answers.splice(5, 1)[0];
    expect(poisoned.status).toBeGreaterThanOrEqual(500);
    const goodIds = good.map((p) => p.eventId as string);
    expect(answers.map((a) => [a.status, a.body])).toEqual(goodIds.map((eventId) => [200, { status: "applied", eventId }]));
    expect(await stored([...goodIds, poison.eventId as string])).toEqual([...goodIds].sort());
    const [{ readings }] = await t.app.dataSource.query(`SELECT count(*)::int AS readings FROM signal_readings WHERE event_id = ANY($1::text[])`, [
      goodIds,
    ]);
    expect(readings).toBe(10);
  });

  it("applies an event sent several times in one batch once, answering the others duplicate", async () => {
    const vehicleId = randomUUID();
    const repeated = delivery(randomUUID(), vehicleId);
    const others = Array.from({ length: 3 }, () => delivery());
    const { answers } = await behindASlowOne(t.url, [repeated, others[0], repeated, others[1], repeated, others[2]]);

    const eventId = repeated.eventId;
    const ofRepeated = [answers[0], answers[2], answers[4]].map((a) => [a.status, a.body]);
    expect(ofRepeated.filter(([, body]) => (body as { status: string }).status === "applied")).toEqual([[200, { status: "applied", eventId }]]);
    expect(ofRepeated.filter(([, body]) => (body as { status: string }).status === "duplicate")).toHaveLength(2);
    expect([answers[1], answers[3], answers[5]].map((a) => a.body)).toEqual(others.map((p) => ({ status: "applied", eventId: p.eventId })));
    expect(await t.app.dataSource.query(`SELECT count(*)::int AS n FROM signal_readings WHERE vehicle_id = $1`, [vehicleId])).toEqual([{ n: 1 }]);
    expect(await t.app.dataSource.query(`SELECT attempts FROM webhook_events WHERE event_id = $1`, [eventId])).toEqual([{ attempts: 3 }]);
  });

  it("answers 503 with Retry-After, storing nothing, when too many deliveries wait", async () => {
    const busy = await startTestApp({ ...(await onePoolOfTwo()), WEBHOOK_QUEUE_LIMIT: "2", WEBHOOK_BATCH_SIZE: "1" });
    const payloads = Array.from({ length: 10 }, () => delivery());
    const { slow, answers } = await behindASlowOne(busy.url, payloads);

    expect(slow.status).toBe(200);
    const refused = payloads.filter((_, i) => answers[i].status === 503);
    const applied = payloads.filter((_, i) => answers[i].status === 200);
    expect(refused.length + applied.length).toBe(payloads.length);
    expect(refused.length).toBeGreaterThan(0);
    expect(applied.length).toBeGreaterThan(0);
    for (const answer of answers.filter((a) => a.status === 503)) {
      expect(answer.headers.get("retry-after")).toMatch(/^\d+$/);
      expect(answer.body).toEqual({ error: { code: "SERVICE_UNAVAILABLE", message: expect.any(String) } });
    }
    const appliedIds = applied.map((p) => p.eventId as string);
    expect(await stored(payloads.map((p) => p.eventId as string))).toEqual([...appliedIds].sort());
  });
});
