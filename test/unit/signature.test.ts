import { hmacHex, signatureMatches } from "../../src/webhooks/signature";

// Test vectors from shared/smartcar.md §2.3, reproduced with Node's crypto.
describe("hmacHex", () => {
  it.each([
    ["amt", "challenge", "9baf5a7464bd86740ad5a06e439dcf535a075022ed2c92d74efacf646d79328e"],
    ["amt", '{"pizza":"pasta"}', "4c05a8da471f05156ad717baa4017acd13a3a809850b9ca7d3301dcaaa854f70"],
    ["amt", '"{\\"pizza\\":\\"pasta\\"}"', "9cf6cb0551d91f1d6e041f67f06ebe44512945e38155d44091b261e13a75def8"],
  ])("signs %j / %j as Smartcar does", (key, message, expected) => {
    expect(hmacHex(key, message)).toBe(expected);
  });
});

describe("signatureMatches", () => {
  const body = Buffer.from('{"pizza":"pasta"}');
  const good = "4c05a8da471f05156ad717baa4017acd13a3a809850b9ca7d3301dcaaa854f70";

  it("accepts the HMAC of the raw bytes, in either hex case", () => {
    expect(signatureMatches(body, good, ["amt"])).toBe(true);
    expect(signatureMatches(body, good.toUpperCase(), ["amt"])).toBe(true);
  });

  it("accepts a signature by any token during rotation", () => {
    expect(signatureMatches(body, good, ["new-token", "amt"])).toBe(true);
  });

  it("rejects a missing, short, non-hex or wrong header without throwing", () => {
    expect(signatureMatches(body, undefined, ["amt"])).toBe(false);
    expect(signatureMatches(body, "", ["amt"])).toBe(false);
    expect(signatureMatches(body, good.slice(0, 10), ["amt"])).toBe(false);
    expect(signatureMatches(body, "z".repeat(64), ["amt"])).toBe(false);
    expect(signatureMatches(body, good, ["other"])).toBe(false);
  });

  it("rejects the double-encoded body the Node SDK snippet signs", () => {
    const doubleEncoded = "9cf6cb0551d91f1d6e041f67f06ebe44512945e38155d44091b261e13a75def8";
    expect(signatureMatches(body, doubleEncoded, ["amt"])).toBe(false);
  });

  it("rejects a body changed by re-serialisation", () => {
    expect(signatureMatches(Buffer.from('{"pizza": "pasta"}'), good, ["amt"])).toBe(false);
  });
});
