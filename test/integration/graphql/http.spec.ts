import { randomUUID } from "node:crypto";
import { signToken } from "../../helpers/graphql";
import { postDelivery, vehicleState } from "../../helpers/smartcar";
import { routeAnswer } from "../../helpers/route-answers";
import { startTestApp, type TestApp } from "../../helpers/test-app";

/**
 * Plain JSON POSTs to /graphql are answered on node:http before express (src/api/graphql-http.ts);
 * every other request takes express's route. A Content-Type with an extra parameter takes the express
 * route: both must answer alike, with the same headers, limits and request log lines.
 */
describe("POST /graphql answers alike on both routes", () => {
  let t: TestApp;
  const logs: string[] = [];
  const routes = { "fast path": "application/json", express: "application/json; charset=utf-8; x-route=express" };
  const RATE_LIMIT = 3;

  beforeAll(async () => {
    t = await startTestApp({ GRAPHQL_RATE_LIMIT: String(RATE_LIMIT) }, { logs });
  });

  const send = (contentType: string, body: string, token?: string) =>
    fetch(`${t.url}/graphql`, {
      method: "POST",
      headers: { "content-type": contentType, "x-request-id": randomUUID(), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body,
    });
  const operation = (query: string) => JSON.stringify({ query });

  /** A user with one vehicle, and a token of theirs: each route gets its own (the per-token limit counts each). */
  async function owner(): Promise<string> {
    const userId = randomUUID();
    const delivered = await postDelivery(t.url, vehicleState({ vehicleId: `route-${userId}`, userId, signals: [{ code: "tractionbattery-stateofcharge", body: { value: 40 } }] }));
    expect(delivered.status).toBe(200);
    return signToken({ sub: userId });
  }

  const VEHICLES = "{ vehicles(first: 5) { totalCount edges { node { signals { code value } } } } }";
  const cases: Array<[string, (contentType: string) => Promise<Response>]> = [
    ["data", async (contentType) => send(contentType, operation(VEHICLES), await owner())],
    ["no token", (contentType) => send(contentType, operation(VEHICLES))],
    ["a forged token", (contentType) => send(contentType, operation(VEHICLES), "e30.e30.AAAA")],
    ["a syntax error", async (contentType) => send(contentType, operation("{ vehicles("), await owner())],
    ["malformed JSON", async (contentType) => send(contentType, "{not json", await owner())],
    ["a JSON string", async (contentType) => send(contentType, '"{ __typename }"', await owner())],
    ["an empty body", async (contentType) => send(contentType, "", await owner())],
    ["over the body limit", async (contentType) => send(contentType, operation(`{ __typename } # ${"x".repeat(1024 * 1024)}`), await owner())],
    ["too many tokens", async (contentType) => send(contentType, operation(`{ ${"__typename ".repeat(10_001)}}`), await owner())],
    [
      "over the per-token rate limit",
      async (contentType) => {
        const token = await owner();
        for (let n = 0; n < RATE_LIMIT; n++) expect((await send(contentType, operation("{ __typename }"), token)).status).toBe(200);
        return send(contentType, operation("{ __typename }"), token);
      },
    ],
  ];

  it.each(cases)("%s", async (_case, request) => {
    const answers = [];
    for (const contentType of Object.values(routes)) {
      const response = await request(contentType);
      const body = (await response.json()) as unknown;
      answers.push({ ...routeAnswer(response, logs), rateLimitPolicy: response.headers.get("ratelimit-policy"), body });
    }
    expect(answers[0].status).toBeLessThan(500);
    expect(answers[0].logged.length).toBeGreaterThan(0);
    expect(answers[1]).toEqual(answers[0]);
  });
});
