import net from "node:net";
import { randomUUID } from "node:crypto";
import { createDataSource } from "../../src/db/data-source";
import { isDatabaseUnavailable } from "../../src/db/pg-errors";
import { postDelivery, vehicleState } from "../helpers/smartcar";
import { startTcpProxy } from "../helpers/tcp-proxy";
import { hmacHex } from "../../src/webhooks/signature";
import { startTestApp, testDatabase, TEST_MANAGEMENT_TOKEN } from "../helpers/test-app";

const signal = { code: "odometer-traveleddistance", body: { value: 1, unit: "km" } };

/** Smartcar gives up after 15 s; every webhook must be answered well before, whatever the network does. */
const ANSWER_BOUND_MS = 10_000;

async function timedPost(url: string, payload: unknown): Promise<{ status: number; ms: number; body: unknown }> {
  const started = Date.now();
  const result = await postDelivery(url, payload);
  return { status: result.status, ms: Date.now() - started, body: result.body };
}

describe("a database that stops answering", () => {
  it("answers every webhook 503 with Retry-After within 10 s while the database silently drops every byte", async () => {
    const proxy = await startTcpProxy((await testDatabase()).url);
    const t = await startTestApp({ DATABASE_URL: proxy.url });
    try {
      // Warm pooled connections: the ones a silent partition leaves hanging.
      for (let i = 0; i < 3; i++) {
        expect((await postDelivery(t.url, vehicleState({ vehicleId: randomUUID(), signals: [signal] }))).status).toBe(200);
      }
      await proxy.blackhole();
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => timedPost(t.url, vehicleState({ vehicleId: randomUUID(), signals: [signal] }))),
      );
      for (const answer of answers) {
        expect(answer).toMatchObject({ status: 503, body: { error: { code: "SERVICE_UNAVAILABLE" } } });
        expect(answer.ms).toBeLessThan(ANSWER_BOUND_MS);
      }
      // /readyz does not hang either.
      const started = Date.now();
      expect((await fetch(`${t.url}/readyz`)).status).toBe(503);
      expect(Date.now() - started).toBeLessThan(ANSWER_BOUND_MS);
    } finally {
      await t.stop();
      await proxy.close();
    }
  });

  it("fails a query that gets no answer within the client-side timeout, and does not reuse its connection", async () => {
    const proxy = await startTcpProxy((await testDatabase()).url);
    // One connection in the pool: if the timed-out one went back into it, the next query would hang on it.
    const ds = createDataSource({ url: proxy.url, poolSize: 1, queryTimeoutMs: 1_000, connectTimeoutMs: 1_000 });
    await ds.initialize();
    try {
      expect(await ds.query("SELECT 1 AS one")).toEqual([{ one: 1 }]);
      await proxy.blackhole();
      const started = Date.now();
      const error = await ds.query("SELECT 2").catch((e: unknown) => e);
      expect(isDatabaseUnavailable(error)).toBe(true);
      expect(Date.now() - started).toBeLessThan(ANSWER_BOUND_MS);

      // The partition heals for new connections; the silenced one stays silent.
      await proxy.restore();
      expect(await ds.query("SELECT 3 AS three")).toEqual([{ three: 3 }]);
    } finally {
      await ds.destroy().catch(() => undefined);
      await proxy.close();
    }
  });
});

describe("slow HTTP clients", () => {
  /** Opens a raw connection, writes `first`, then one more byte of `rest` every `everyMs`; resolves when the server closes it. */
  function trickle(url: string, first: string, rest: string, everyMs: number): Promise<{ ms: number; received: string }> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve) => {
      const started = Date.now();
      const socket = net.connect(Number(port), hostname);
      let received = "";
      let index = 0;
      const timer = setInterval(() => {
        if (index < rest.length && socket.writable) socket.write(rest[index++]);
      }, everyMs);
      socket.on("connect", () => socket.write(first));
      socket.on("data", (chunk) => (received += chunk.toString()));
      socket.on("error", () => undefined);
      socket.on("close", () => {
        clearInterval(timer);
        resolve({ ms: Date.now() - started, received });
      });
    });
  }

  const limits = { HTTP_HEADERS_TIMEOUT_MS: "1000", HTTP_REQUEST_TIMEOUT_MS: "2000" };
  // Far below the 60 s and 300 s a trickling client held a connection before, far above the limits set.
  const CUT_BOUND_MS = 15_000;

  it("cuts a client that trickles its headers", async () => {
    const t = await startTestApp(limits);
    const { ms } = await trickle(t.url, "POST /webhooks/smartcar HTTP/1.1\r\nHost: x\r\n", "X-Slow: " + "a".repeat(200), 250);
    expect(ms).toBeLessThan(CUT_BOUND_MS);
  });

  it("cuts a client that trickles its body", async () => {
    const t = await startTestApp(limits);
    const headers = "POST /webhooks/smartcar HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n";
    const { ms, received } = await trickle(t.url, headers, "x".repeat(500), 100);
    expect(ms).toBeLessThan(CUT_BOUND_MS);
    expect(received).toMatch(/^HTTP\/1\.1 408/);
  });

  it("refuses connections beyond HTTP_MAX_CONNECTIONS and serves again once they close", async () => {
    const t = await startTestApp({ HTTP_MAX_CONNECTIONS: "3" });
    const { hostname, port } = new URL(t.url);
    const open = await Promise.all(
      Array.from({ length: 3 }, () => new Promise<net.Socket>((resolve) => {
        const socket = net.connect(Number(port), hostname, () => resolve(socket));
        socket.on("error", () => undefined);
      })),
    );
    try {
      // Let the server count them before the next one arrives.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const refused = await fetch(`${t.url}/healthz`).then(() => "answered", () => "refused");
      expect(refused).toBe("refused");
    } finally {
      for (const socket of open) socket.destroy();
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  });
});

describe("stopping (what SIGTERM does)", () => {
  it("answers requests it began to read, headers or body half received, before closing", async () => {
    const t = await startTestApp();
    const { hostname, port } = new URL(t.url);
    // Split in the headers, then in the body.
    const requests = [40, -20].map(async (split) => {
      const delivery = vehicleState({ vehicleId: randomUUID(), signals: [signal] });
      const body = Buffer.from(JSON.stringify(delivery));
      const request = Buffer.concat([
        Buffer.from(
          `POST /webhooks/smartcar HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
            `SC-Signature: ${hmacHex(TEST_MANAGEMENT_TOKEN, body)}\r\nContent-Length: ${body.length}\r\n\r\n`,
        ),
        body,
      ]);
      const splitAt = split < 0 ? request.length + split : split;
      const socket = net.connect(Number(port), hostname);
      let answer = "";
      socket.on("data", (chunk) => (answer += chunk.toString()));
      socket.on("error", () => undefined);
      const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
      await new Promise<void>((resolve) => socket.on("connect", () => resolve()));
      socket.write(request.subarray(0, splitAt));
      return { rest: () => socket.write(request.subarray(splitAt)), closed, answer: () => answer, delivery };
    });
    const begun = await Promise.all(requests);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const stopping = t.stop();
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const request of begun) request.rest();
    await Promise.all(begun.map((request) => Promise.race([request.closed, new Promise((resolve) => setTimeout(resolve, 10_000))])));
    await stopping;
    expect(begun.map((request) => request.answer().split("\r\n")[0])).toEqual(["HTTP/1.1 200 OK", "HTTP/1.1 200 OK"]);
  });
});
