import fc from "fast-check";
import { GraphQLError } from "graphql";
import { decodeCursor, encodeCursor } from "../../src/graphql/cursor";

describe("cursors", () => {
  it("decode to the key they were made from", () => {
    fc.assert(
      fc.property(fc.string(), fc.array(fc.string(), { minLength: 1, maxLength: 3 }), (kind, key) => {
        expect(decodeCursor(encodeCursor(kind, key), kind, key.length)).toEqual(key);
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
      decodeCursor(cursor, "vehicles:ID:ASC", 1);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(GraphQLError);
    expect((error as GraphQLError).extensions.code).toBe("BAD_USER_INPUT");
  });
});
