import { createLogger, fixedFieldsLogger } from "../../src/logger";

/** Lines written to a sink, parsed. */
function capture(): { lines: Array<Record<string, unknown>>; write(line: string): void } {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) };
}

describe("logger redaction", () => {
  it("censors credentials wherever the redaction paths find them, without touching the logged objects", () => {
    const sink = capture();
    const logger = createLogger("info", sink);
    const headers = { authorization: "Bearer t", "sc-signature": "s", cookie: "c", accept: "json" };
    logger.child({ token: "bound" }).info({ headers, req: { headers: { ...headers, "set-cookie": "x" }, password: "p" }, secret: "k" }, "line");
    expect(sink.lines[0]).toMatchObject({
      token: "[redacted]",
      secret: "[redacted]",
      headers: { authorization: "[redacted]", "sc-signature": "[redacted]", cookie: "[redacted]", accept: "json" },
      req: { password: "[redacted]", headers: { authorization: "[redacted]", "set-cookie": "[redacted]", accept: "json" } },
    });
    expect(headers.authorization).toBe("Bearer t");
  });

  it("fixedFieldsLogger writes the same line for fields that hold nothing to censor, at the parent's level", () => {
    const sink = capture();
    const logger = createLogger("info", sink);
    const fields = { requestId: "r-1", req: { method: "POST", path: "/webhooks/smartcar" }, res: { status: 200 }, durationMs: 3 };
    logger.info(fields, "POST /webhooks/smartcar 200");
    fixedFieldsLogger(logger).info(fields, "POST /webhooks/smartcar 200");
    const [redacted, fixed] = sink.lines.map(({ time: _time, ...line }) => line);
    expect(fixed).toEqual(redacted);
    logger.level = "warn";
    fixedFieldsLogger(logger).info(fields, "not written");
    expect(sink.lines).toHaveLength(2);
  });
});
