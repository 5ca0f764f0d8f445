import fc from "fast-check";
import { GraphQLError } from "graphql";
import { decodeCursor, encodeCursor } from "../../src/graphql/cursor";

describe("cursors", () => {
  it("decode to the key they were made from", () => {
    fc.assert(
      fc.property(fc.string(), fc.array(fc.string(), { minLength: 1, maxLength: 3 }), (kind, key) => {
        expect(decodeCursor(encodeCursor(kind, key), kind, key.map(() => "text" as const))).toEqual(key);
      }),
    );
  });

  it("are opaque: no raw key text in the cursor", () => {
    const cursor = encodeCursor("vehicles:ID:ASC", ["veh-123"]);
    expect(cursor).not.toContain("veh-123");
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it.each([
    ["garbage", "%%%"],
    ["base64 of non-JSON", Buffer.from("hello").toString("base64url")],
    ["another list's cursor", encodeCursor("issues:OPENED_AT:DESC", ["2026-01-01 00:00:00+00", "x"])],
    ["a key of the wrong length", encodeCursor("vehicles:ID:ASC", ["a", "b"])],
    ["non-string key parts", Buffer.from(JSON.stringify(["vehicles:ID:ASC", 1])).toString("base64url")],
  ])("refuses %s with BAD_USER_INPUT", (_name, cursor) => {
    let error: unknown;
    try {
      decodeCursor(cursor, "vehicles:ID:ASC", ["text"]);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(GraphQLError);
    expect((error as GraphQLError).extensions.code).toBe("BAD_USER_INPUT");
  });
});

describe("cursor key parts", () => {
  const decode = (key: string[], parts: Array<"text" | "timestamp" | "uuid" | "bigint">) => () => decodeCursor(encodeCursor("k", key), "k", parts);

  it.each([
    ["2026-01-01 10:00:00+00"],
    ["2026-01-01 10:00:00.123456+00"],
    ["2024-02-29 23:59:59.5-05:30"],
    ["1850-06-01 00:00:00+00:53:28"],
    ["0044-03-15 12:00:00+00 BC"],
  ])("accepts PostgreSQL timestamptz text %s", (text) => {
    expect(decode([text], ["timestamp"])()).toEqual([text]);
  });

  it.each([["yesterday"], ["2026-02-30 00:00:00+00"], ["2025-02-29 00:00:00+00"], ["2026-01-01 24:00:00+00"], ["2026-01-01T00:00:00Z"], ["0000-01-01 00:00:00+00"]])(
    "refuses %s as a timestamp",
    (text) => {
      expect(decode([text], ["timestamp"])).toThrow(GraphQLError);
    },
  );

  it("checks uuids and bigints", () => {
    expect(decode(["2f1c7c52-8b1e-4c7e-9d6a-0c1d2e3f4a5b"], ["uuid"])()).toHaveLength(1);
    expect(decode(["123"], ["bigint"])()).toEqual(["123"]);
    expect(decode(["x"], ["uuid"])).toThrow(GraphQLError);
    expect(decode(["-1"], ["bigint"])).toThrow(GraphQLError);
    expect(decode(["1".repeat(30)], ["bigint"])).toThrow(GraphQLError);
  });
});

describe("float-or-empty cursor parts (orderBy: {signal})", () => {
  const decode = (part: string) => () => decodeCursor(encodeCursor("k", [part]), "k", ["float-or-empty"]);

  it.each(["", "78", "-0.25", "1e+20", "1.7976931348623157e+308", "5e-324"])("accepts %j as PostgreSQL prints a float8", (part) => {
    expect(decode(part)()).toEqual([part]);
  });

  it.each(["NaN", "Infinity", "1e+400", "1;DROP", " 1", "0x10", "1.", "--1"])("refuses %j", (part) => {
    expect(decode(part)).toThrow(GraphQLError);
  });
});
