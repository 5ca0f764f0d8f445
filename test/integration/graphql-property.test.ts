import fc from "fast-check";
import { signToken } from "../helpers/graphql";
import { graphqlDocument, graphqlVariables } from "../helpers/graphql-documents";
import { postDelivery, vehicleError, vehicleState } from "../helpers/smartcar";
import { startTestApp, type TestApp } from "../helpers/test-app";

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

  it("answers every document with 200 or a 400 of a known code, never a server error, and promptly", async () => {
    let slowest = 0;
    await fc.assert(
      fc.asyncProperty(graphqlDocument, graphqlVariables, async (query, variables) => {
        const started = Date.now();
        const response = await fetch(`${t.url}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body: JSON.stringify({ query, variables }),
        });
        const body = (await response.json()) as Answer;
        slowest = Math.max(slowest, Date.now() - started);
        const codes = (body.errors ?? []).map((error) => error.extensions?.code);
        expect([200, 400]).toContain(response.status);
        if (response.status === 400) expect(REFUSALS).toContain(codes[0]);
        // Executed: only argument errors of single fields (a bad page size, cursor, interval).
        else for (const code of codes) expect(code).toBe("BAD_USER_INPUT");
      }),
      { numRuns: 150 },
    );
    // Generous: every document is bounded (10,000 tokens, cost 200,000), and refusals come in milliseconds.
    expect(slowest).toBeLessThan(5_000);
  });
});
