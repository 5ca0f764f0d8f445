import fs from "node:fs";
import path from "node:path";
import { ErrorCode } from "../../src/error-codes";

/** The codes in the first column of README's "Error codes" table. */
function readmeCodes(): string[] {
  const readme = fs.readFileSync(path.join(__dirname, "../../README.md"), "utf8");
  const section = readme.split(/^#+ Error codes$/m)[1]?.split(/^#/m)[0] ?? "";
  return [...section.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((match) => match[1]);
}

describe("error codes", () => {
  it("each is named as it is spelled on the wire", () => {
    for (const [name, code] of Object.entries(ErrorCode)) expect(code).toBe(name);
  });

  it("README's table lists every code a client can meet, once, and no other", () => {
    const listed = readmeCodes();
    expect([...listed].sort()).toEqual(Object.values(ErrorCode).sort());
  });
});
