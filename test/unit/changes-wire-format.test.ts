import fc from "fast-check";
import { IssueState } from "../../src/issues/issue-state";
import type { Change } from "../../src/changes/change";
import { decodePayload, encodeChanges, encodeFlush, MAX_PAYLOAD_BYTES } from "../../src/changes/wire-format";

const signal = (readingId: string, code = "tractionbattery-stateofcharge"): Change => ({
  kind: "signal",
  vehicleId: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
  userId: "user-1",
  code,
  readingId,
});

describe("NOTIFY payloads", () => {
  it("round-trip signal and issue changes, nulls included", () => {
    const changes: Change[] = [
      signal("1"),
      { kind: "issue", issueId: "a1b2", vehicleId: null, userId: null, state: IssueState.RESOLVED, changeId: "7" },
    ];
    const [payload, ...rest] = encodeChanges(changes);
    expect(rest).toEqual([]);
    expect(decodePayload(payload)).toEqual({ kind: "changes", items: changes });
  });

  it("split a large batch into payloads under the limit, keeping the order", () => {
    const changes = Array.from({ length: 500 }, (_, index) => signal(String(index)));
    const payloads = encodeChanges(changes);
    expect(payloads.length).toBeGreaterThan(1);
    for (const payload of payloads) expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    expect(payloads.flatMap((payload) => (decodePayload(payload) as { items: Change[] }).items)).toEqual(changes);
  });

  it("stay under the limit whatever the strings, sending only the id of an change too long to inline", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string({ maxLength: 6000, unit: "grapheme" }), fc.nat()), { maxLength: 20 }), (specs) => {
        const changes = specs.map(([code, id]) => signal(String(id), code));
        const payloads = encodeChanges(changes);
        for (const payload of payloads) expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
        const items = payloads.flatMap((payload) => (decodePayload(payload) as { items: unknown[] }).items);
        // An change is inlined when its own payload `[[...]]` fits.
        const fits = (change: Change & { kind: "signal" }) =>
          Buffer.byteLength(JSON.stringify([["s", change.vehicleId, change.userId, change.code, change.readingId]])) <= MAX_PAYLOAD_BYTES;
        expect(items).toEqual(
          changes.map((change) => (change.kind === "signal" && !fits(change) ? { kind: "signal", readingId: change.readingId } : change)),
        );
      }),
    );
  });

  it("recognise a flush marker and ignore what another program may NOTIFY", () => {
    expect(decodePayload(encodeFlush("n1"))).toEqual({ kind: "flush", nonce: "n1" });
    for (const foreign of [undefined, "", "hello", "{}", "[1]", '[["s",1]]', "null"]) expect(decodePayload(foreign)).toBeUndefined();
  });
});
