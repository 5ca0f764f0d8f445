import fs from "node:fs";
import { buildAppSchema, SCHEMA_FILE } from "../../src/api/schema";
import { printAppSchema } from "../../src/graphql/print-schema";

describe("schema.graphql", () => {
  it("is the schema the code builds (run `npm run schema` when this fails)", async () => {
    const generated = printAppSchema(await buildAppSchema());
    expect(fs.readFileSync(SCHEMA_FILE, "utf8")).toBe(generated);
  });
});
