import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { OperationTypeNode, parse, print } from "graphql";
import { gql, signToken } from "../../helpers/graphql";
import { postDelivery, vehicleState } from "../../helpers/smartcar";
import { startTestApp, type TestApp } from "../../helpers/test-app";

/**
 * The README's examples, run as a reader would paste them, against real servers: its curl commands, its
 * first GraphQL document (the typed-values one is run by fleet-queries.test.ts) and its subscription
 * script, as a `.mjs` file under Node. Only the host, the token and the vehicle id are substituted.
 */
const ROOT = path.join(__dirname, "..", "..", "..");
const README = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
/** The vehicle and user of the README's sample delivery, test/fixtures/real-4.0-byd-seal-live.json. */
const VEHICLE = "b3014ded-85db-4f12-8923-7a231354d8d0";
const OWNER = "da4ef0df-73b9-4ad7-8c59-1b15ff646f0b";
const SOC = "tractionbattery-stateofcharge";

/** The code blocks of `language` in the README section that starts with `heading` (up to the next `## `). */
function blocks(heading: string, language: string): string[] {
  const start = README.indexOf(`${heading}\n`);
  expect(start).toBeGreaterThanOrEqual(0);
  const end = README.indexOf("\n## ", start + heading.length);
  const section = README.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(new RegExp("```" + language + "\\n([\\s\\S]*?)```", "g"))].map((match) => match[1]);
}

/** Every `curl` command of the README's bash blocks, continuation lines joined, in reading order. */
function curlCommands(): string[] {
  const bash = [...README.matchAll(/```bash\n([\s\S]*?)```/g)].map((match) => match[1]).join("\n");
  return bash
    .replace(/\\\n\s*/g, " ")
    .split("\n")
    .filter((line) => line.startsWith("curl "));
}

describe("the README's examples run as written", () => {
  // As `npm start` runs in development (no secrets), and as it runs with JWT_SECRET, on one database.
  let open: TestApp;
  let protectedApp: TestApp;
  let token: string;

  beforeAll(async () => {
    open = await startTestApp({ JWT_SECRET: undefined, SMARTCAR_MANAGEMENT_TOKEN: undefined });
    protectedApp = await startTestApp({ SMARTCAR_MANAGEMENT_TOKEN: undefined });
    token = await signToken({ role: "admin", sub: "readme-reader" });
    // The sample delivery the README posts with curl, so each test can run alone (the curl then finds a duplicate).
    const sample = fs.readFileSync(path.join(ROOT, "test", "fixtures", "real-4.0-byd-seal-live.json"));
    expect(await postDelivery(open.url, sample, { token: null })).toMatchObject({ status: 200, body: { status: "applied" } });
  });

  it("runs every curl command, each answering JSON without an error", async () => {
    const commands = curlCommands();
    for (const expected of ["/healthz", "/webhooks/smartcar", "curl -sG localhost:4000/graphql", "npx fleetgraph token --admin"]) {
      expect(commands.some((command) => command.includes(expected))).toBe(true);
    }
    for (const command of commands) {
      // Commands that send a token go to the protected instance, with a token `fleetgraph token` would mint.
      const target = /authorization/i.test(command) ? protectedApp : open;
      const runnable = command.replaceAll("localhost:4000", new URL(target.url).host).replaceAll("$(npx fleetgraph token --admin)", "$TOKEN");
      const { stdout } = await promisify(execFile)("bash", ["-c", runnable], { cwd: ROOT, env: { ...process.env, TOKEN: token }, timeout: 10_000 });
      const answer = JSON.parse(stdout) as Record<string, unknown>;
      expect([command, answer.error, answer.errors]).toEqual([command, undefined, undefined]);
      if (command.includes("/webhooks/smartcar")) expect(answer.status).toBe("duplicate");
      if (command.includes("curl -sG")) {
        expect(answer).toMatchObject({ data: { vehicles: { edges: [{ node: { id: VEHICLE, make: "BYD" } }] } } });
        // What the README says the header is for: without it, Apollo's CSRF prevention refuses the GET.
        const bare = runnable.replace("-H 'apollo-require-preflight: 1'", "");
        const refused = await promisify(execFile)("bash", ["-c", bare], { cwd: ROOT, env: { ...process.env, TOKEN: token }, timeout: 10_000 });
        expect(refused.stdout).toMatch(/Cross-Site Request Forgery/);
      }
    }
  });

  it("answers each query of the first GraphQL example", async () => {
    const [document] = blocks("## Querying with GraphQL", "graphql");
    const operations = parse(document.replaceAll("c5b6…", VEHICLE)).definitions;
    expect(operations.map((definition) => definition.kind === "OperationDefinition" && definition.operation)).toEqual(Array(4).fill(OperationTypeNode.QUERY));
    for (const operation of operations) {
      const result = await gql(protectedApp.url, print(operation), { token });
      expect(result.errors).toBeUndefined();
    }
    const vehicle = await gql<{ vehicle: { make: string } }>(protectedApp.url, print(operations[0]), { token });
    expect(vehicle.data?.vehicle.make).toBe("BYD");
  });

  it("runs the subscription script under Node: the replay since a time, then a live value", async () => {
    const [script] = blocks("## Live subscriptions", "js");
    const runnable = script.replace("ws://localhost:4000/graphql", protectedApp.wsUrl).replace("c5b6…", VEHICLE);
    expect(runnable).not.toBe(script);
    // Under node_modules, so that its imports resolve as they would in the reader's project.
    const folder = fs.mkdtempSync(path.join(ROOT, "node_modules", ".readme-example-"));
    const file = path.join(folder, "subscribe.mjs");
    fs.writeFileSync(file, runnable);
    const child = spawn(process.execPath, [file, "2000-01-01T00:00:00Z"], { env: { ...process.env, FLEETGRAPH_TOKEN: token }, stdio: ["ignore", "pipe", "pipe"] });
    try {
      let output = "";
      let errors = "";
      child.stderr.on("data", (chunk: Buffer) => (errors += chunk.toString()));
      const line = (count: number) =>
        new Promise<string[]>((resolve, reject) => {
          const check = () => {
            const lines = output.split("\n").filter(Boolean);
            if (lines.length >= count) resolve(lines);
          };
          child.stdout.on("data", (chunk: Buffer) => {
            output += chunk.toString();
            check();
          });
          child.on("exit", (code) => reject(new Error(`the script exited (${code}): ${errors}`)));
          check();
        });
      // The sample delivery's value, replayed since the given time…
      expect((await line(1))[0]).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z ${SOC} 78$`));
      // …then a new one, live.
      const delivered = await postDelivery(protectedApp.url, vehicleState({ vehicleId: VEHICLE, userId: OWNER, make: "BYD", signals: [{ code: SOC, body: { value: 42, unit: "percent" } }] }));
      expect(delivered).toMatchObject({ status: 200, body: { status: "applied" } });
      expect((await line(2))[1]).toMatch(new RegExp(` ${SOC} 42$`));
    } finally {
      child.kill();
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });
});
