import fc from "fast-check";
import { IssueState } from "../../src/issues/issue-state";
import type { ChangeEvent } from "../../src/changes/change";
import { decodePayload, encodeEvents, encodeFlush, MAX_PAYLOAD_BYTES } from "../../src/changes/wire-format";

const signal = (readingId: string, code = "tractionbattery-stateofcharge"): ChangeEvent => ({
  kind: "signal",
  vehicleId: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
  userId: "user-1",
  code,
  readingId,
});

describe("NOTIFY payloads", () => {
  it("round-trip signal and issue changes, nulls included", () => {
    const events: ChangeEvent[] = [
      signal("1"),
      { kind: "issue", issueId: "a1b2", vehicleId: null, userId: null, state: IssueState.RESOLVED, changeId: "7" },
    ];
    const [payload, ...rest] = encodeEvents(events);
    expect(rest).toEqual([]);
    expect(decodePayload(payload)).toEqual({ kind: "events", items: events });
  });

  it("split a large batch into payloads under the limit, keeping the order", () => {
    const events = Array.from({ length: 500 }, (_, index) => signal(String(index)));
    const payloads = encodeEvents(events);
    expect(payloads.length).toBeGreaterThan(1);
    for (const payload of payloads) expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    expect(payloads.flatMap((payload) => (decodePayload(payload) as { items: ChangeEvent[] }).items)).toEqual(events);
  });

  it("stay under the limit whatever the strings, sending only the id of an event too long to inline", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string({ maxLength: 6000, unit: "grapheme" }), fc.nat()), { maxLength: 20 }), (specs) => {
        const events = specs.map(([code, id]) => signal(String(id), code));
        const payloads = encodeEvents(events);
        for (const payload of payloads) expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
        const items = payloads.flatMap((payload) => (decodePayload(payload) as { items: unknown[] }).items);
        // An event is inlined when its own payload `[[...]]` fits.
        const fits = (event: ChangeEvent & { kind: "signal" }) =>
          Buffer.byteLength(JSON.stringify([["s", event.vehicleId, event.userId, event.code, event.readingId]])) <= MAX_PAYLOAD_BYTES;
        expect(items).toEqual(
          events.map((event) => (event.kind === "signal" && !fits(event) ? { kind: "signal", readingId: event.readingId } : event)),
        );
      }),
    );
  });

  it("recognise a flush marker and ignore what another program may NOTIFY", () => {
    expect(decodePayload(encodeFlush("n1"))).toEqual({ kind: "flush", nonce: "n1" });
    for (const foreign of [undefined, "", "hello", "{}", "[1]", '[["s",1]]', "null"]) expect(decodePayload(foreign)).toBeUndefined();
  });
});
