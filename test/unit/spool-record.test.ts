import fc from "fast-check";
import { encodeRecord, HEADER_BYTES, scanRecords, type ScanItem } from "../../src/webhooks/spool-record";

const entry = (body: string, at = 1_700_000_000_000) => ({ receivedAt: new Date(at), rawBody: Buffer.from(body) });
const bodies = (items: ScanItem[]) => items.flatMap((item) => (item.kind === "record" ? [item.entry.rawBody.toString()] : []));
const damaged = (items: ScanItem[]) => items.filter((item) => item.kind === "damaged").map(({ start, end }) => [start, end]);

describe("spool records", () => {
  it("read back in order with their exact bytes and time of receipt", () => {
    const raw = ['{"eventId":"a"}', "", "\u00e9\u0000\ud83d\ude97 binary-ish"];
    const file = Buffer.concat(raw.map((body, i) => encodeRecord(entry(body, 1000 + i))));
    const { items, consumed } = scanRecords(file, true);
    expect(bodies(items)).toEqual(raw);
    expect(items.map((item) => (item.kind === "record" ? item.entry.receivedAt.getTime() : 0))).toEqual([1000, 1001, 1002]);
    expect(consumed).toBe(file.length);
    expect(damaged(items)).toEqual([]);
  });

  it("report a torn tail (a crash mid-append) at every cut point, keeping every whole record before it", () => {
    const whole = Buffer.concat([encodeRecord(entry("one")), encodeRecord(entry("two"))]);
    const last = encodeRecord(entry("three, torn"));
    for (let cut = 1; cut < last.length; cut++) {
      const file = Buffer.concat([whole, last.subarray(0, cut)]);
      const { items, consumed } = scanRecords(file, true);
      expect(bodies(items)).toEqual(["one", "two"]);
      expect(damaged(items)).toEqual([[whole.length, file.length]]);
      expect(consumed).toBe(file.length);
    }
  });

  it("skip a damaged record in the middle and find the next one", () => {
    const records = ["first", "second, to be damaged", "third"].map((body) => encodeRecord(entry(body)));
    for (const at of [0, 5, HEADER_BYTES - 1, HEADER_BYTES + 3, records[1].length - 1]) {
      const file = Buffer.concat(records);
      file[records[0].length + at] ^= 0xff;
      const { items } = scanRecords(file, true);
      expect(bodies(items)).toEqual(["first", "third"]);
      expect(damaged(items)).toEqual([[records[0].length, records[0].length + records[1].length]]);
    }
  });

  it("leave a record that continues past the buffer for the next read when the file goes on", () => {
    const file = Buffer.concat([encodeRecord(entry("one")), encodeRecord(entry("two"))]);
    const partial = scanRecords(file.subarray(0, file.length - 3), false);
    expect(bodies(partial.items)).toEqual(["one"]);
    expect(damaged(partial.items)).toEqual([]);
    expect(partial.consumed).toBe(encodeRecord(entry("one")).length);
  });

  it("never lose a whole record to damage elsewhere (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 40 }), { minLength: 1, maxLength: 8 }),
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (raw, victimSeed, offsetSeed, flip) => {
          const records = raw.map((body) => encodeRecord(entry(body)));
          const victim = victimSeed % records.length;
          const file = Buffer.concat(records);
          const start = records.slice(0, victim).reduce((sum, r) => sum + r.length, 0);
          file[start + (offsetSeed % records[victim].length)] ^= flip;
          // CRC-32 catches every burst of up to 32 bits: the damaged record is dropped, every other one survives.
          expect(bodies(scanRecords(file, true).items)).toEqual(raw.filter((_, i) => i !== victim));
        },
      ),
    );
  });
});
