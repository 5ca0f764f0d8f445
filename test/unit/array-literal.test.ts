import { Client } from "pg";
import { arrayLiteral } from "../../src/db/array-literal";

describe("arrayLiteral", () => {
  it("quotes strings (escaping quotes and backslashes), leaves numbers and booleans bare, spells null NULL", () => {
    expect(arrayLiteral(["plain", 'with "quotes"', "back\\slash", "", "NULL", "{braces},commas", '{"value": 1.5}', null, undefined])).toBe(
      '{"plain","with \\"quotes\\"","back\\\\slash","","NULL","{braces},commas","{\\"value\\": 1.5}",NULL,NULL}',
    );
    expect(arrayLiteral([0, -1.5, 1e21, null])).toBe("{0,-1.5,1e+21,NULL}");
    expect(arrayLiteral([true, false, null])).toBe("{true,false,NULL}");
    const [t1, t2] = [new Date("2026-01-02T03:04:05.678Z"), new Date("1969-12-31T23:59:59.999Z")];
    expect(arrayLiteral([t1, new Date(t1), t2, null, t1])).toBe(
      '{"2026-01-02T03:04:05.678Z","2026-01-02T03:04:05.678Z","1969-12-31T23:59:59.999Z",NULL,"2026-01-02T03:04:05.678Z"}',
    );
    expect(arrayLiteral([])).toBe("{}");
  });

  const url = process.env.DATABASE_URL;
  (url ? it : it.skip)("round-trips through PostgreSQL", async () => {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      const texts = ['a"b', "c\\d", "NULL", "", null, "{x,y}", " spaced ", '{"value": 1.5}', "é\u{1F600}"];
      const { rows } = await client.query("SELECT $1::text[] AS t, $2::float8[] AS f, $3::bool[] AS b, $4::timestamptz[] AS d", [
        arrayLiteral(texts),
        arrayLiteral([1.5, -2, null, 1e21]),
        arrayLiteral([true, null, false]),
        arrayLiteral([new Date(0), null]),
      ]);
      expect(rows[0]).toEqual({ t: texts, f: [1.5, -2, null, 1e21], b: [true, null, false], d: [new Date(0), null] });
    } finally {
      await client.end();
    }
  });
});
