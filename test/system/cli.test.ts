import { jwtVerify } from "jose";
import { buildOnce, runCli } from "../helpers/cli-process";
import { gql, gqlData } from "../helpers/graphql";
import { signToken } from "../helpers/ws-client";
import { startTestApp, TEST_JWT_SECRET, TEST_MANAGEMENT_TOKEN, type TestApp } from "../helpers/test-app";

/** The `fleetgraph` command, each subcommand run as its own process against a real server. */
describe("the fleetgraph command", () => {
  let app: TestApp;
  beforeAll(async () => {
    buildOnce();
    app = await startTestApp();
  }, 120_000);

  const secrets = { SMARTCAR_MANAGEMENT_TOKEN: TEST_MANAGEMENT_TOKEN, JWT_SECRET: TEST_JWT_SECRET };

  it("lists its subcommands, and each one explains its options", async () => {
    const [overview, token, simulate, check, unknown] = await Promise.all([
      runCli(["--help"]),
      runCli(["token", "--help"]),
      runCli(["simulate", "--help"]),
      runCli(["check-webhook", "--help"]),
      runCli(["reticulate"]),
    ]);
    expect(overview.code).toBe(0);
    for (const name of ["token", "simulate", "check-webhook"]) expect(overview.stdout).toMatch(new RegExp(`^  ${name} `, "m"));
    expect(token).toMatchObject({ code: 0, stdout: expect.stringContaining("fleetgraph token --sub <userId> [--admin] [--ttl <seconds>]") });
    expect(simulate).toMatchObject({ code: 0, stdout: expect.stringContaining("--rate <deliveries/s>") });
    expect(check).toMatchObject({ code: 0, stdout: expect.stringContaining("fleetgraph check-webhook [--url <base URL>]") });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "reticulate"/);
  });

  describe("token", () => {
    it("prints a token on the last line that verifies with JWT_SECRET, expires, and is accepted by /graphql", async () => {
      const before = Math.floor(Date.now() / 1000);
      const result = await runCli(["token", "--sub", "user-cli"], { JWT_SECRET: TEST_JWT_SECRET });
      expect(result.code).toBe(0);
      const token = result.stdout.trimEnd().split("\n").at(-1)!;
      const { payload, protectedHeader } = await jwtVerify(token, new TextEncoder().encode(TEST_JWT_SECRET), { algorithms: ["HS256"] });
      expect(protectedHeader.alg).toBe("HS256");
      expect(payload.sub).toBe("user-cli");
      expect(payload.role).toBeUndefined();
      expect(payload.exp! - payload.iat!).toBe(3600);
      expect(payload.iat!).toBeGreaterThanOrEqual(before);

      const answer = await gql<{ vehicles: { totalCount: number } }>(app.url, "{ vehicles { totalCount } }", { token });
      expect(answer).toMatchObject({ status: 200, errors: undefined, data: { vehicles: { totalCount: 0 } } });
    });

    it("mints an admin token with the given lifetime", async () => {
      const result = await runCli(["token", "--admin", "--ttl", "60"], { JWT_SECRET: TEST_JWT_SECRET });
      expect(result.code).toBe(0);
      const token = result.stdout.trimEnd().split("\n").at(-1)!;
      const { payload } = await jwtVerify(token, new TextEncoder().encode(TEST_JWT_SECRET));
      expect(payload).toMatchObject({ role: "admin" });
      expect(payload.exp! - payload.iat!).toBe(60);
      expect((await gql(app.url, "{ issues { totalCount } }", { token })).status).toBe(200);
    });

    it("refuses without JWT_SECRET, with a short one (never printing it), and without --sub", async () => {
      const [missing, short, noSub] = await Promise.all([
        runCli(["token", "--sub", "user-cli"]),
        runCli(["token", "--sub", "user-cli"], { JWT_SECRET: "short-secret-value" }),
        runCli(["token"], { JWT_SECRET: TEST_JWT_SECRET }),
      ]);
      expect(missing).toMatchObject({ code: 78, stdout: "" });
      expect(missing.stderr).toMatch(/JWT_SECRET is not set/);
      expect(short).toMatchObject({ code: 78, stdout: "" });
      expect(short.stderr).toMatch(/JWT_SECRET must be at least 32 bytes/);
      expect(short.stderr).not.toContain("short-secret-value");
      expect(noSub).toMatchObject({ code: 2, stdout: "" });
      expect(noSub.stderr).toMatch(/--sub <userId> is required/);
    });
  });

  describe("simulate", () => {
    interface Summary {
      sent: number;
      applied: number;
      duplicate: number;
      redelivered: number;
      errors: Record<string, number>;
      deliveriesPerSecond: number;
      vehicles: Array<{ id: string; userId: string }>;
    }
    let summary: Summary;
    let stderr: string;
    const admin = () => signToken({ role: "admin" });

    beforeAll(async () => {
      const result = await runCli(
        ["simulate", "--url", app.url, "--vehicles", "3", "--duration", "3", "--rate", "30", "--seed", "s2", "--json"],
        { SMARTCAR_MANAGEMENT_TOKEN: TEST_MANAGEMENT_TOKEN },
      );
      stderr = result.stderr;
      expect(result).toMatchObject({ code: 0 });
      summary = JSON.parse(result.stdout) as Summary;
    });

    it("verifies first, then reports what the service answered", () => {
      expect(stderr).toMatch(/VERIFY answered correctly/);
      expect(summary.errors).toEqual({});
      expect(summary.sent).toBeGreaterThan(10);
      expect(summary.applied).toBeGreaterThan(0);
      // Every deliberate redelivery (Smartcar retry or byte-for-byte duplicate) came back as a duplicate
      // (seed "s2" redelivers one of its first ten events).
      expect(summary.redelivered).toBeGreaterThan(0);
      expect(summary.duplicate).toBe(summary.redelivered);
      expect(summary.applied + summary.duplicate).toBe(summary.sent);
      expect(summary.deliveriesPerSecond).toBeGreaterThan(0);
    });

    it("leaves its vehicles, one user each, with numeric, boolean, text and location signals and incapable ones", async () => {
      const data = await gqlData<{
        vehicles: {
          totalCount: number;
          edges: Array<{ node: { id: string; userId: string; signals: Array<{ code: string; body: { value?: unknown } }>; signalErrors: Array<{ code: string; errorCode: string }> } }>;
        };
      }>(app.url, "{ vehicles(first: 10) { totalCount edges { node { id userId signals { code body } signalErrors { code errorCode } } } } }", {
        token: await admin(),
      });
      expect(data.vehicles.totalCount).toBe(3);
      expect(new Set(data.vehicles.edges.map(({ node }) => node.userId)).size).toBe(3);
      expect(data.vehicles.edges.map(({ node }) => node.id).sort()).toEqual(summary.vehicles.map((vehicle) => vehicle.id).sort());
      for (const { node } of data.vehicles.edges) {
        const body = (code: string) => node.signals.find((signal) => signal.code === code)?.body;
        expect(typeof body("tractionbattery-stateofcharge")?.value).toBe("number");
        expect(typeof body("closure-islocked")?.value).toBe("boolean");
        expect(body("charge-detailedchargingstatus")?.value).toMatch(/^(CHARGING|NOT_CHARGING|FULLY_CHARGED)$/);
        expect(body("location-preciselocation")).toMatchObject({ latitude: expect.any(Number), longitude: expect.any(Number) });
        expect(node.signalErrors).toContainEqual(expect.objectContaining({ errorCode: "VEHICLE_NOT_CAPABLE" }));
      }
    });

    it("opened issues and resolved some of them", async () => {
      const data = await gqlData<{ issues: { totalCount: number; edges: Array<{ node: { state: string; episodes: Array<{ resolvedAt: string | null }> } }> } }>(
        app.url,
        "{ issues(first: 100) { totalCount edges { node { state episodes { openedAt resolvedAt } } } } }",
        { token: await admin() },
      );
      expect(data.issues.totalCount).toBeGreaterThan(0);
      const resolved = data.issues.edges.filter(({ node }) => node.episodes.some((episode) => episode.resolvedAt !== null));
      expect(resolved.length).toBeGreaterThan(0);
    });

    it("sends the same fleet again for the same seed", async () => {
      const again = await runCli(
        ["simulate", "--url", app.url, "--vehicles", "3", "--duration", "0.5", "--rate", "10", "--seed", "s2", "--json"],
        { SMARTCAR_MANAGEMENT_TOKEN: TEST_MANAGEMENT_TOKEN },
      );
      expect(again.code).toBe(0);
      expect((JSON.parse(again.stdout) as Summary).vehicles).toEqual(summary.vehicles);
    });

    it("stops before sending anything when the management token is wrong", async () => {
      const result = await runCli(["simulate", "--url", app.url, "--vehicles", "1", "--duration", "1"], { SMARTCAR_MANAGEMENT_TOKEN: "not-the-token" });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/VERIFY failed \(HTTP 200\)/);
      expect(result.stdout).toBe("");
    });
  });

  describe("check-webhook", () => {
    it("passes every check against a good instance", async () => {
      const result = await runCli(["check-webhook", "--url", app.url], secrets);
      expect(result.stdout).not.toMatch(/FAIL/);
      expect(result.stdout.match(/^ok {4}/gm)).toHaveLength(5);
      expect(result.stdout).toMatch(/^ok {4}the change arrived on the subscription/m);
      expect(result.code).toBe(0);
    });

    it("fails, saying which checks, with a wrong management token", async () => {
      const result = await runCli(["check-webhook", "--url", app.url], { ...secrets, SMARTCAR_MANAGEMENT_TOKEN: "not-the-token" });
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/^FAIL {2}VERIFY answered for SMARTCAR_MANAGEMENT_TOKEN: .*another token/m);
      expect(result.stdout).toMatch(/^FAIL {2}signed sample delivery applied: expected "applied", got HTTP 401/m);
    });

    it("fails the subscription check without a token for a protected API", async () => {
      const result = await runCli(["check-webhook", "--url", app.url], { SMARTCAR_MANAGEMENT_TOKEN: TEST_MANAGEMENT_TOKEN });
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/^FAIL {2}subscription to signalUpdated accepted over graphql-ws: socket closed 4401/m);
      expect(result.stdout).toMatch(/^ok {4}signed sample delivery applied/m);
    });
  });
});
