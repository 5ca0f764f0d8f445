import { gql, signToken } from "../../helpers/graphql";
import { startTestApp, type TestApp } from "../../helpers/test-app";

const QUERY = `{ vehicles { totalCount } }`;

async function post(t: TestApp, authorization?: string): Promise<Response> {
  return fetch(`${t.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
    body: JSON.stringify({ query: QUERY }),
  });
}

async function expectRateLimited(response: Response): Promise<void> {
  expect(response.status).toBe(429);
  const retryAfter = Number(response.headers.get("retry-after"));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(0);
  expect(retryAfter).toBeLessThanOrEqual(60);
  const body = (await response.json()) as { errors?: Array<{ message: string; extensions?: { code?: string } }> };
  expect(body.errors?.[0].extensions?.code).toBe("RATE_LIMITED");
  expect(body.errors?.[0].message).toMatch(/too many requests/);
}

describe("GraphQL rate limits", () => {
  it("limits each token by its subject, apart from other tokens", async () => {
    const t = await startTestApp({ GRAPHQL_RATE_LIMIT: "3" });
    const alice = await signToken({ sub: "user-alice" });
    // A second token of the same user shares the budget; another user has their own.
    const aliceAgain = await signToken({ sub: "user-alice", expiresIn: 600 });
    const bob = await signToken({ sub: "user-bob" });
    for (const token of [alice, aliceAgain, alice]) expect((await gql(t.url, QUERY, { token })).status).toBe(200);
    await expectRateLimited(await post(t, `Bearer ${aliceAgain}`));
    expect((await gql(t.url, QUERY, { token: bob })).status).toBe(200);
    expect((await gql(t.url, QUERY, { token: await signToken({ role: "admin" }) })).status).toBe(200);
  });

  it("never charges a user for tokens that fail verification (a forged sub counts against the IP only)", async () => {
    const t = await startTestApp({ GRAPHQL_RATE_LIMIT: "2" });
    const forged = await signToken({ sub: "user-carol", secret: "another-secret-that-is-also-32-bytes-long" });
    for (let i = 0; i < 5; i++) expect((await post(t, `Bearer ${forged}`)).status).toBe(401);
    expect((await gql(t.url, QUERY, { token: await signToken({ sub: "user-carol" }) })).status).toBe(200);
  });

  it("limits each client IP over all its requests, with or without a valid token", async () => {
    const t = await startTestApp({ GRAPHQL_IP_RATE_LIMIT: "4" });
    expect((await post(t)).status).toBe(401);
    expect((await post(t, "Bearer not.a.jwt")).status).toBe(401);
    for (const sub of ["user-1", "user-2"]) expect((await gql(t.url, QUERY, { token: await signToken({ sub }) })).status).toBe(200);
    await expectRateLimited(await post(t, `Bearer ${await signToken({ sub: "user-3" })}`));
    await expectRateLimited(await post(t));
    // Other endpoints are not limited by it.
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  });
});
