import fc from "fast-check";
import { signToken } from "../../helpers/graphql";
import { graphqlDocument, graphqlVariables } from "../../helpers/graphql-documents";
import { postDelivery, vehicleError, vehicleState } from "../../helpers/smartcar";
import { startTestApp, type TestApp } from "../../helpers/test-app";

/** Every code a 400 may carry: refusals before execution. */
const REFUSALS = [
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_USER_INPUT",
  "BAD_REQUEST",
  "QUERY_TOO_LARGE",
  "QUERY_TOO_DEEP",
  "QUERY_TOO_COMPLEX",
  "OPERATION_NOT_SUPPORTED",
];

interface Answer {
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

describe("GraphQL over HTTP under generated documents (property)", () => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await startTestApp();
    token = await signToken({ sub: "user-prop" });
    const signals = Array.from({ length: 5 }, (_, n) => ({ code: `prop-signal-${n}`, body: { value: n } }));
    expect((await postDelivery(t.url, vehicleState({ vehicleId: "veh-prop-1", userId: "user-prop", signals }))).status).toBe(200);
    const error = vehicleError({ vehicleId: "veh-prop-1", userId: "user-prop", errors: [{ type: "VEHICLE", code: "ASLEEP", state: "ERROR" }] });
    expect((await postDelivery(t.url, error)).status).toBe(200);
  });

  // How long each check takes is measured without a clock in test/unit/query-limits-linear.test.ts.
  it("answers every document with 200 or a 400 of a known code, never a server error", async () => {
    await fc.assert(
      fc.asyncProperty(graphqlDocument, graphqlVariables, async (query, variables) => {
        const request = JSON.stringify({ query, variables });
        const response = await fetch(`${t.url}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body: request,
        });
        const body = (await response.json()) as Answer;
        const codes = (body.errors ?? []).map((error) => error.extensions?.code);
        // A body over the 1 MiB JSON limit is refused before anything reads it.
        if (response.status === 413) return expect(Buffer.byteLength(request)).toBeGreaterThan(1024 * 1024);
        expect([200, 400]).toContain(response.status);
        if (response.status === 400) expect(REFUSALS).toContain(codes[0]);
        // Executed: only argument errors of single fields (a bad page size, cursor, interval).
        else for (const code of codes) expect(code).toBe("BAD_USER_INPUT");
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 120) },
    );
  }, 120_000);
});
