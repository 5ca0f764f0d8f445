import { createDataSource } from "../db/data-source";
import { DERIVED_TABLES, reprocess, type ReprocessReport } from "../webhooks/reprocess";
import { parseOptions, SetupError, UsageError, type Command } from "./command";

export const reprocessCommand: Command = {
  name: "reprocess",
  summary: "rebuild latest values, history, signal errors and issues from the raw event archive",
  help: `Usage: fleetgraph reprocess [--from <time>] [--to <time>] [--dry-run]

After a parser fix: every vehicle that received an event in the time range is rebuilt from the raw
event archive (webhook_events). Its latest values, history, signal errors, issues and issue changes are
deleted, and every archived event it ever had is applied again in the order received, through the same
normaliser and apply path as a live delivery, so the result is what a fresh apply gives. Events stay
stored as they are. Works a batch of vehicles per transaction (their live deliveries wait meanwhile),
with progress on stderr; prints rows per table before and after, and events that no longer parse.
Subscribers are not told of the rebuilt values.

Options:
  --from <time>   events received at or after this time (ISO 8601); default: the oldest
  --to <time>     events received before this time (ISO 8601); default: now
  --dry-run       do it all in one transaction, roll it back, and print what would change
  -h, --help      this text

Environment:
  DATABASE_URL    required: the service's PostgreSQL

Example:
  DATABASE_URL=postgres://... npx fleetgraph reprocess --from 2026-11-01T00:00:00Z --dry-run`,

  async run(argv, io) {
    const options = parseOptions(argv, {
      from: { type: "string" },
      to: { type: "string" },
      "dry-run": { type: "boolean", default: false },
    });
    if (options.help) {
      io.out(this.help);
      return 0;
    }
    const from = timeOption("from", options.from);
    const to = timeOption("to", options.to);
    if (from && to && from.getTime() >= to.getTime()) throw new UsageError("--from must be before --to");
    const url = io.env.DATABASE_URL?.trim();
    if (!url) {
      throw new SetupError(
        "DATABASE_URL is not set: reprocess works on the service's PostgreSQL. The embedded database in DATA_DIR is " +
          "locked while the service runs: stop the service, then run `npm run db:embedded -- npx fleetgraph reprocess`.",
      );
    }
    const dryRun = options["dry-run"] === true;

    const dataSource = createDataSource({ url, poolSize: 1 });
    try {
      await dataSource.initialize();
    } catch (error) {
      throw new SetupError(`cannot connect with DATABASE_URL: ${error instanceof Error ? error.message : String(error)}`);
    }
    try {
      if (await dataSource.showMigrations()) {
        throw new SetupError("the database has migrations to run: start the service once (it runs them), then reprocess");
      }
      const started = Date.now();
      const report = await reprocess(dataSource, {
        from,
        to,
        dryRun,
        onProgress: ({ vehiclesDone, vehicles, events }) =>
          io.err(`reprocess: ${vehiclesDone}/${vehicles} vehicles, ${events} events${dryRun ? " (dry run)" : ""}`),
      });
      for (const line of summary(report, Date.now() - started)) io.out(line);
      return 0;
    } finally {
      await dataSource.destroy();
    }
  },
};

function timeOption(name: string, raw: string | undefined): Date | undefined {
  if (raw === undefined) return undefined;
  const time = new Date(raw);
  if (raw.trim() === "" || Number.isNaN(time.getTime())) throw new UsageError(`--${name} must be a time, e.g. 2026-11-01T00:00:00Z`);
  return time;
}

function summary(report: ReprocessReport, elapsedMs: number): string[] {
  const width = Math.max(...DERIVED_TABLES.map((table) => table.length));
  return [
    `${report.dryRun ? "dry run, rolled back: would reprocess" : "reprocessed"} ${report.events} events of ${report.vehicles} vehicles in ${(elapsedMs / 1000).toFixed(1)} s`,
    `${"table".padEnd(width)}  ${"before".padStart(8)}  ${"after".padStart(8)}`,
    ...DERIVED_TABLES.map((table) => {
      const { before, after } = report.tables[table];
      return `${table.padEnd(width)}  ${String(before).padStart(8)}  ${String(after).padStart(8)}`;
    }),
    `events that no longer parse: ${report.unparseable.length}`,
    ...report.unparseable.map((event) => `  ${event.eventId}: ${event.reason}`),
  ];
}
