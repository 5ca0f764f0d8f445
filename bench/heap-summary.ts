/**
 * Where memory went between two V8 heap snapshots (`HEAP_SNAPSHOT=<dir> npm run bench:subscribe` writes
 * one before and one after the idle subscriptions): bytes and objects per constructor, the growth
 * divided by `per` (the number of idle subscriptions) when given.
 *
 *   npx ts-node bench/heap-summary.ts <before.heapsnapshot> <after.heapsnapshot> [per]
 */
import { readFileSync } from "node:fs";

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Self bytes and object count per "type:name" (closures by function name, objects by constructor). */
function tally(file: string): Map<string, { bytes: number; count: number }> {
  const { snapshot, nodes, strings } = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
  const fields = snapshot.meta.node_fields;
  const types = snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ["type", "name", "self_size"].map((field) => fields.indexOf(field));
  const totals = new Map<string, { bytes: number; count: number }>();
  for (let i = 0; i < nodes.length; i += fields.length) {
    const type = types[nodes[i + typeAt]];
    // Strings and code are named by their contents: one bucket each.
    const name = ["string", "concatenated string", "sliced string", "code", "number"].includes(type) ? "" : strings[nodes[i + nameAt]];
    const key = `${type}:${name.slice(0, 60)}`;
    const entry = totals.get(key) ?? { bytes: 0, count: 0 };
    entry.bytes += nodes[i + sizeAt];
    entry.count += 1;
    totals.set(key, entry);
  }
  return totals;
}

const [beforeFile, afterFile, perArg] = process.argv.slice(2);
if (!beforeFile || !afterFile) throw new Error("usage: heap-summary <before.heapsnapshot> <after.heapsnapshot> [per]");
const per = perArg ? Number(perArg) : 1;
const before = tally(beforeFile);
const after = tally(afterFile);
const growth = [...after].map(([key, { bytes, count }]) => ({
  key,
  bytes: bytes - (before.get(key)?.bytes ?? 0),
  count: count - (before.get(key)?.count ?? 0),
}));
const total = growth.reduce((sum, row) => sum + row.bytes, 0);
const rows = growth
  .sort((a, b) => b.bytes - a.bytes)
  .slice(0, 40)
  .map((row) => `${(row.bytes / per).toFixed(0).padStart(8)} B ${(row.count / per).toFixed(2).padStart(7)} objects  ${row.key}`);
process.stdout.write([`growth ${(total / per).toFixed(0)} B${per > 1 ? ` per subscription (${per})` : ""}`, ...rows, ""].join("\n"));
