import { createHash } from "node:crypto";
import { signToken } from "../../helpers/graphql";
import { startTestApp, type TestApp } from "../../helpers/test-app";

const QUERY = "{ vehicles { totalCount } }";
const HASH = createHash("sha256").update(QUERY).digest("hex");

/** A POST as Apollo Client's persisted-query link sends it: the hash, with or without the query. */
async function post(t: TestApp, token: string, body: Record<string, unknown>) {
  const response = await fetch(`${t.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ ...body, extensions: { persistedQuery: { version: 1, sha256Hash: HASH } } }),
  });
  return { status: response.status, body: (await response.json()) as { data?: unknown; errors?: Array<{ extensions?: { code?: string } }> } };
}

describe("automatic persisted queries are off, so every instance behind a load balancer answers alike", () => {
  let first: TestApp;
  let second: TestApp;
  let admin: string;

  beforeAll(async () => {
    // Two instances on one database, as behind a load balancer.
    [first, second] = await Promise.all([startTestApp(), startTestApp()]);
    admin = await signToken({ role: "admin", sub: "ops" });
  });

  it("answers PERSISTED_QUERY_NOT_SUPPORTED on every instance, so clients fall back to sending the query", async () => {
    const outcome = async (t: TestApp, body: Record<string, unknown>) => {
      const { status, body: answer } = await post(t, admin, body);
      return { status, data: answer.data, codes: answer.errors?.map((error) => error.extensions?.code) };
    };
    // Where APQ keeps hashes in each instance's memory, the hash registered on the first is unknown to the second.
    const answers = [
      await outcome(first, { query: QUERY }), // registers the hash where APQ is on
      await outcome(second, {}), // the hash alone, on the other instance
      await outcome(first, {}), // the hash alone, on the same instance
    ];
    const refused = { status: 200, data: undefined, codes: ["PERSISTED_QUERY_NOT_SUPPORTED"] };
    expect(answers).toEqual([refused, refused, refused]);
  });

  it("answers the same query sent in full on every instance", async () => {
    for (const t of [first, second]) {
      const response = await fetch(`${t.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${admin}` },
        body: JSON.stringify({ query: QUERY }),
      });
      expect(await response.json()).toEqual({ data: { vehicles: { totalCount: 0 } } });
    }
  });
});
