/**
 * Where a service's CPU time went, from a V8 CPU profile (`BENCH_CPU_PROF=<dir> npm run bench:ingest`):
 * self time per package or source folder, and per function, start-up (compiling TypeScript) left out.
 *
 *   npx ts-node bench/profile-summary.ts <file.cpuprofile> [deliveries]   # with deliveries: ms each
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, deliveriesArg] = process.argv.slice(2);
if (!file) throw new Error("usage: profile-summary <file.cpuprofile> [deliveries]");
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const deliveries = deliveriesArg ? Number(deliveriesArg) : undefined;

const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

/** Where a frame lives: an npm package, a folder of ours, Node itself, or V8's pseudo-frames. */
function place(url: string, functionName: string): string {
  if (url === "") return functionName.startsWith("(") ? functionName : "(native)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const ours = /\/(src|bench)\/([^/]+\/)?/.exec(url);
  if (ours) return `${ours[1]}/${ours[2] ?? ""}`;
  if (url.startsWith("node:")) return `node:${url.slice(5).split("/")[1] ?? url.slice(5)}`;
  return url;
}

/** Start-up: loading modules (and TypeScript compiling them under ts-node), not the service's work. */
function isStartup(nodeId: number): boolean {
  for (let id: number | undefined = nodeId; id !== undefined; id = parent.get(id)) {
    const { url } = byId.get(id)!.callFrame;
    if (url.includes("node_modules/typescript/") || url.includes("node_modules/ts-node/") || url.startsWith("node:internal/modules/")) return true;
  }
  return false;
}

const selfByPlace = new Map<string, number>();
const selfByFunction = new Map<string, number>();
let busy = 0;
let startup = 0;
profile.samples.forEach((nodeId, index) => {
  const ms = (profile.timeDeltas[index] ?? 0) / 1000;
  const { functionName, url, lineNumber } = byId.get(nodeId)!.callFrame;
  if (functionName === "(idle)") return;
  if (isStartup(nodeId)) {
    startup += ms;
    return;
  }
  busy += ms;
  const where = place(url, functionName);
  selfByPlace.set(where, (selfByPlace.get(where) ?? 0) + ms);
  const fn = `${functionName || "(anonymous)"} ${url.replace(/.*node_modules\//, "").replace(/.*\/(src|bench)\//, "$1/")}:${lineNumber + 1}`;
  selfByFunction.set(fn, (selfByFunction.get(fn) ?? 0) + ms);
});

const line = (name: string, ms: number) =>
  `${(deliveries ? (ms / deliveries).toFixed(3) + " ms" : ms.toFixed(0) + " ms").padStart(10)}  ${((100 * ms) / busy).toFixed(1).padStart(5)}%  ${name}`;
const top = (map: Map<string, number>, count: number) =>
  [...map].sort((a, b) => b[1] - a[1]).slice(0, count).map(([name, ms]) => line(name, ms));

process.stdout.write(
  [
    `busy ${busy.toFixed(0)} ms${deliveries ? ` for ${deliveries} deliveries: ${(busy / deliveries).toFixed(3)} ms each` : ""}; start-up (module loading) ${startup.toFixed(0)} ms left out`,
    "",
    "self time by package or folder:",
    ...top(selfByPlace, 30),
    "",
    "self time by function:",
    ...top(selfByFunction, 40),
    "",
  ].join("\n"),
);
