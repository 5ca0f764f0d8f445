import fs from "node:fs";
import path from "node:path";
import { hmacHex } from "../../../src/webhooks/signature";
import { postDelivery } from "../../helpers/smartcar";
import { startTestApp, TEST_MANAGEMENT_TOKEN, type TestApp } from "../../helpers/test-app";

/** Every payload of shared/reference/ and shared/smartcar.md §7, as Smartcar sent or documented it. */
const FIXTURES = path.join(__dirname, "..", "..", "fixtures");
const raw = (name: string) => fs.readFileSync(path.join(FIXTURES, name), "utf8");

describe("POST /webhooks/smartcar with every known payload variant", () => {
  let t: TestApp;
  const query = <T>(sql: string, params: unknown[] = []) => t.app.dataSource.query<T[]>(sql, params);
  beforeAll(async () => {
    t = await startTestApp();
  });

  it("answers the 4.0 VERIFY with the HMAC of the challenge", async () => {
    const result = await postDelivery(t.url, raw("docs-4.0-verify.json"));
    expect(result.status).toBe(200);
    expect(result.body).toEqual({ challenge: hmacHex(TEST_MANAGEMENT_TOKEN, "3a5c8f72-e6d9-4b1a-9f2e-8c7d6a5b4e3f") });
  });

  it("answers a real unsigned VERIFY with an ISO deliveredAt", async () => {
    const body = raw("real-4.0-verify-iso-delivered-at.json");
    const { challenge } = (JSON.parse(body) as { data: { challenge: string } }).data;
    const result = await postDelivery(t.url, body, { token: null });
    expect(result.status).toBe(200);
    expect(result.body).toEqual({ challenge: hmacHex(TEST_MANAGEMENT_TOKEN, challenge) });
  });

  it("answers the legacy 2.0 VERIFY", async () => {
    const result = await postDelivery(t.url, { version: "2.0", webhookId: "w", eventName: "verify", payload: { challenge: "abc" } });
    expect(result.body).toEqual({ challenge: hmacHex(TEST_MANAGEMENT_TOKEN, "abc") });
  });

  it("stores a real 4.0 LIVE VEHICLE_STATE: vehicle, every signal, history and the raw bytes", async () => {
    const body = raw("real-4.0-byd-seal-live.json");
    const payload = JSON.parse(body) as { eventId: string; data: { signals: Array<{ code: string }> } };
    const result = await postDelivery(t.url, body);
    expect(result).toMatchObject({ status: 200, body: { status: "applied", eventId: payload.eventId } });

    const [vehicle] = await query<{ make: string; user_id: string }>(
      "SELECT make, user_id FROM vehicles WHERE id = 'b3014ded-85db-4f12-8923-7a231354d8d0'",
    );
    expect(vehicle).toEqual({ make: "BYD", user_id: "da4ef0df-73b9-4ad7-8c59-1b15ff646f0b" });
    const signals = await query<{ code: string }>(
      "SELECT code FROM signals WHERE vehicle_id = 'b3014ded-85db-4f12-8923-7a231354d8d0' UNION ALL " +
        "SELECT code FROM signal_errors WHERE vehicle_id = 'b3014ded-85db-4f12-8923-7a231354d8d0'",
    );
    expect(signals.map((s) => s.code).sort()).toEqual(payload.data.signals.map((s) => s.code).sort());
    const [event] = await query<{ raw_body: Buffer; version: string; mode: string; outcome: string }>(
      "SELECT raw_body, version, mode, outcome FROM webhook_events WHERE event_id = $1",
      [payload.eventId],
    );
    expect(event.raw_body.toString("utf8")).toBe(body);
    expect(event).toMatchObject({ version: "4.0", mode: "LIVE", outcome: "applied" });
  });

  it("stores a 4.0 delivery whose failed signal becomes a signal error, next to the good values", async () => {
    expect((await postDelivery(t.url, raw("docs-4.0-vehicle-state-with-signal-error.json"))).status).toBe(200);
    const vehicleId = "123e4567-e89b-12d3-a456-426614174000";
    const [soc] = await query<{ value: number; unit: string; oem_updated_at: Date }>(
      "SELECT value, unit, oem_updated_at FROM signals WHERE vehicle_id = $1 AND code = 'tractionbattery-stateofcharge'",
      [vehicleId],
    );
    expect(soc).toEqual({ value: 75, unit: "percent", oem_updated_at: new Date(1758668712404) });
    const errors = await query<{ code: string; error_type: string; error_code: string }>(
      "SELECT code, error_type, error_code FROM signal_errors WHERE vehicle_id = $1",
      [vehicleId],
    );
    expect(errors).toEqual([{ code: "location-isathome", error_type: "COMPATIBILITY", error_code: "VEHICLE_NOT_CAPABLE" }]);
  });

  it("stores the 3.0 payload with `percentage` bodies and no status or meta", async () => {
    // This docs example reuses eventId 1234567890 with the other old examples; each is its own event here.
    const body = raw("docs-3.0-vehicle-state-percentage.json").replace('"1234567890"', '"docs-3.0-state"');
    expect((await postDelivery(t.url, body)).body).toMatchObject({ status: "applied" });
    const rows = await query<{ code: string; value: number | null; unit: string | null; observed_at: Date; applied_at: Date }>(
      "SELECT code, value, unit, observed_at, applied_at FROM signals WHERE event_id = 'docs-3.0-state' ORDER BY code",
    );
    expect(rows.map(({ code, value, unit }) => ({ code, value, unit }))).toEqual([
      { code: "location-preciselocation", value: null, unit: null },
      { code: "tractionbattery-stateofcharge", value: 75, unit: "percent" },
    ]);
    // No timestamps at all: ordered by the time of receipt.
    expect(rows[0].observed_at).toEqual(rows[0].applied_at);
    const [vehicle] = await query<{ vin: string }>("SELECT vin FROM vehicles WHERE id = '123e4567-e89b-12d3-a456-426614174000'");
    expect(vehicle.vin).toBe("1HGCM82633A123456");
  });

  it("stores the documented FIRST_DELIVERY with data.triggers and fetchedAt", async () => {
    expect((await postDelivery(t.url, raw("docs-4.0-first-delivery-fetched-at.json"))).body).toMatchObject({ status: "applied" });
    const [soc] = await query<{ value: number; retrieved_at: Date; oem_updated_at: Date }>(
      "SELECT value, retrieved_at, oem_updated_at FROM signals WHERE vehicle_id = '9af13248-3b73-4c9d-9a4b-d937ce6bc8e2' AND code = 'tractionbattery-stateofcharge'",
    );
    expect(soc).toEqual({ value: 65, retrieved_at: new Date(1731926102000), oem_updated_at: new Date(1731926100000) });
  });

  it("stores an unversioned payload with string triggers and no mode as LIVE", async () => {
    expect((await postDelivery(t.url, raw("unversioned-vehicle-state-string-triggers.json"))).body).toMatchObject({
      status: "applied",
    });
    const [odometer] = await query<{ value: number; unit: string }>(
      "SELECT value, unit FROM signals WHERE vehicle_id = 'a1d50709-3502-4faa-ba43-a5c7565e6a09' AND code = 'odometer-traveleddistance'",
    );
    expect(odometer).toEqual({ value: 42506.3, unit: "km" });
  });

  it("keeps a Dashboard TEST delivery raw without touching live state", async () => {
    const body = raw("real-4.0-dashboard-test-delivery.json");
    const result = await postDelivery(t.url, body);
    expect(result.body).toEqual({ status: "test", eventId: "8a79f1a0-c034-4e44-a8b7-eecb8d123908" });
    expect(await query("SELECT 1 FROM vehicles WHERE id = '4f9214c5-2caa-4448-bc1e-2da0bd1e64d3'")).toEqual([]);
    const [event] = await query<{ mode: string; outcome: string; raw_body: Buffer }>(
      "SELECT mode, outcome, raw_body FROM webhook_events WHERE event_id = '8a79f1a0-c034-4e44-a8b7-eecb8d123908'",
    );
    expect(event).toMatchObject({ mode: "TEST", outcome: "test" });
    expect(event.raw_body.toString("utf8")).toBe(body);
  });

  it("opens issues from a real unversioned VEHICLE_ERROR with string signals and a null code", async () => {
    expect((await postDelivery(t.url, raw("real-unversioned-vw-error-string-signals.json"))).body).toMatchObject({
      status: "applied",
    });
    const issues = await query<{ type: string; code: string | null; state: string; signal_codes: string[]; resolution_type: string | null }>(
      "SELECT type, code, state, signal_codes, resolution_type FROM vehicle_issues WHERE vehicle_id = 'a1d50709-3502-4faa-ba43-a5c7565e6a09' ORDER BY type",
    );
    expect(issues).toHaveLength(2);
    expect(issues[0]).toMatchObject({ type: "COMPATIBILITY", code: "VEHICLE_NOT_CAPABLE", state: "OPEN" });
    expect(issues[0].signal_codes).toContain("connectivitystatus-isonline");
    // The capture swaps name and group; the code is what counts.
    expect(issues[1]).toEqual({
      type: "PERMISSION",
      code: null,
      state: "OPEN",
      signal_codes: ["closure-islocked"],
      resolution_type: "REAUTHENTICATE",
    });
  });

  it("opens the documented 4.0 VEHICLE_ERROR issue and records a resolution of an issue never seen", async () => {
    const vehicleId = "123e4567-e89b-12d3-a456-426614174000";
    // Shares its eventId with the docs VEHICLE_STATE example above.
    const error = raw("docs-4.0-vehicle-error.json").replace('"5a537912-9ad3-424b-ba33-65a1704567e9"', '"docs-4.0-error"');
    expect((await postDelivery(t.url, error)).body).toMatchObject({ status: "applied" });
    expect((await postDelivery(t.url, raw("docs-4.0-vehicle-error-resolved.json"))).body).toMatchObject({ status: "applied" });

    const issues = await query<{ type: string; code: string; state: string; opened_at: Date; resolved_at: Date | null; signal_codes: string[] }>(
      "SELECT type, code, state, opened_at, resolved_at, signal_codes FROM vehicle_issues WHERE vehicle_id = $1 ORDER BY type",
      [vehicleId],
    );
    expect(issues).toEqual([
      {
        type: "COMPATIBILITY",
        code: "VEHICLE_NOT_CAPABLE",
        state: "OPEN",
        opened_at: new Date(1761896351529),
        resolved_at: null,
        signal_codes: ["location-preciselocation", "tractionbattery-stateofcharge"],
      },
      {
        type: "VEHICLE_STATE",
        code: "UNREACHABLE",
        state: "RESOLVED",
        opened_at: new Date(1761898351529),
        resolved_at: new Date(1761898351529),
        signal_codes: ["location-preciselocation"],
      },
    ]);
  });

  it.each(["docs-vehicle-error-top-level.json", "docs-vehicle-error-top-level-code-only-signals.json"])(
    "records the vehicle-less top-level VEHICLE_ERROR %s",
    async (name) => {
      const eventId = `docs-${name}`;
      const body = raw(name).replace('"1234567890"', JSON.stringify(eventId));
      expect((await postDelivery(t.url, body)).body).toEqual({ status: "applied", eventId });
      const [issue] = await query<{ vehicle_id: string | null; type: string; state: string; signal_codes: string[] }>(
        "SELECT i.vehicle_id, i.type, i.state, i.signal_codes FROM vehicle_issues i JOIN vehicle_issue_changes e ON e.issue_id = i.id WHERE e.event_id = $1",
        [eventId],
      );
      expect(issue).toMatchObject({ vehicle_id: null, type: "COMPATIBILITY", state: "OPEN" });
      expect(issue.signal_codes.length).toBeGreaterThan(0);
    },
  );
});
