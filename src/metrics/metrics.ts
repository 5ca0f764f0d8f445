import { timingSafeEqual } from "node:crypto";
import { Router } from "express";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { ErrorCode } from "../error-codes";
import { Unauthenticated } from "../errors";

/** What the service reads on each scrape: values it already keeps, so nothing is counted twice. */
export interface MetricsSources {
  /** Deliveries waiting in SPOOL_DIR (0 without a spool). */
  spoolDepth(): number;
  /** pg's pools by name (src/db/pools.ts): connections open, idle, and callers waiting for one (none before the database is connected). */
  databasePools(): Record<string, { total: number; idle: number; waiting: number }>;
  /** GraphQL operations allowed to run at once now, running, and waiting for admission (undefined: no bound). */
  graphqlAdmission(): { limit: number; pauseMs: number; running: number; waiting: number } | undefined;
  /** Open WebSocket connections and the subscriptions open on them. */
  live(): { sockets: number; subscriptions: number };
}

/** Webhook outcomes of the contract (Operations): every answered delivery is one of them. */
export type DeliveryOutcomeLabel = "applied" | "duplicate" | "test" | "spooled" | "rejected" | "unavailable";

/** Event types a label may take; anything else a client sends is counted as "unknown" (bounded cardinality). */
const EVENT_TYPES = new Set(["VEHICLE_STATE", "VEHICLE_ERROR", "VERIFY"]);

/** Operation names kept as labels; past this many distinct names the rest count as "other". */
export const MAX_OPERATION_NAMES = 100;
const OPERATION_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,99}$/;

/**
 * The service's Prometheus metrics, on a registry of its own (several apps may run in one process, as
 * the tests do). Pipelines receive it from app.ts and record what they know; gauges are read on scrape.
 */
export class Metrics {
  readonly registry = new Registry();

  private readonly deliveries = new Counter({
    name: "fleetgraph_webhook_deliveries_total",
    help: "Webhook deliveries answered, by event type and outcome",
    labelNames: ["event_type", "outcome"] as const,
    registers: [this.registry],
  });
  private readonly signatureFailures = new Counter({
    name: "fleetgraph_webhook_signature_failures_total",
    help: "Webhook requests refused with 401 for a missing or wrong SC-Signature",
    registers: [this.registry],
  });
  private readonly applyDuration = new Histogram({
    name: "fleetgraph_webhook_apply_duration_seconds",
    help: "Time from a delivery's arrival to its answer: waiting for its batch, the transaction (or spool append), seconds",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly batchSize = new Histogram({
    name: "fleetgraph_webhook_apply_batch_size",
    help: "Deliveries applied together in one transaction",
    buckets: [1, 2, 5, 10, 20, 50, 100, 200],
    registers: [this.registry],
  });
  private readonly operations = new Counter({
    name: "fleetgraph_graphql_operations_total",
    help: "GraphQL operations over HTTP, by operation name",
    labelNames: ["operation"] as const,
    registers: [this.registry],
  });
  private readonly operationErrors = new Counter({
    name: "fleetgraph_graphql_operation_errors_total",
    help: "GraphQL operations over HTTP whose response holds errors, by operation name",
    labelNames: ["operation"] as const,
    registers: [this.registry],
  });
  private readonly operationDuration = new Histogram({
    name: "fleetgraph_graphql_operation_duration_seconds",
    help: "GraphQL operations over HTTP, from request to response, seconds",
    labelNames: ["operation"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly changesPublished = new Counter({
    name: "fleetgraph_changes_published_total",
    help: "Changes this instance published on the change bus, counted once their transaction committed, by kind",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });
  private readonly changesDelivered = new Counter({
    name: "fleetgraph_changes_delivered_total",
    help: "Subscription events sent to WebSocket clients of this instance",
    registers: [this.registry],
  });
  private readonly changesCoalesced = new Counter({
    name: "fleetgraph_subscription_changes_coalesced_total",
    help: "Subscription changes not sent because a newer one of the same signal or issue was queued behind it while the server was behind",
    registers: [this.registry],
  });
  private readonly operationNames = new Set<string>();

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    new Gauge({
      name: "fleetgraph_spool_depth",
      help: "Deliveries waiting in SPOOL_DIR to be applied",
      registers,
      collect() {
        this.set(sources.spoolDepth());
      },
    });
    new Gauge({
      name: "fleetgraph_database_pool_connections",
      help: "Database pool connections, by pool (ingest, reads, primary; shared on a one-session database) and state (total, idle) and callers waiting for one (waiting)",
      labelNames: ["pool", "state"] as const,
      registers,
      collect() {
        this.reset();
        for (const [pool, counts] of Object.entries(sources.databasePools())) {
          for (const [state, value] of Object.entries(counts)) this.set({ pool, state }, value);
        }
      },
    });
    new Gauge({
      name: "fleetgraph_graphql_operations",
      help: "GraphQL operations allowed to run at once now (limit: fewer while the event loop is busy), running, and waiting for admission",
      labelNames: ["state"] as const,
      registers,
      collect() {
        const admission = sources.graphqlAdmission();
        if (!admission) return;
        for (const state of ["limit", "running", "waiting"] as const) this.set({ state }, admission[state]);
      },
    });
    new Gauge({
      name: "fleetgraph_graphql_admission_pause_seconds",
      help: "Least time between two GraphQL operations' starts: above 0 while the event loop stays busy with one operation at a time",
      registers,
      collect() {
        this.set((sources.graphqlAdmission()?.pauseMs ?? 0) / 1000);
      },
    });
    new Gauge({
      name: "fleetgraph_websocket_connections",
      help: "Open WebSocket connections",
      registers,
      collect() {
        this.set(sources.live().sockets);
      },
    });
    new Gauge({
      name: "fleetgraph_subscriptions_open",
      help: "GraphQL subscriptions open on this instance",
      registers,
      collect() {
        this.set(sources.live().subscriptions);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: "fleetgraph_" });
  }

  delivery(eventType: string | undefined, outcome: DeliveryOutcomeLabel): void {
    this.deliveries.inc({ event_type: eventType !== undefined && EVENT_TYPES.has(eventType) ? eventType : "unknown", outcome });
  }

  signatureFailure(): void {
    this.signatureFailures.inc();
  }

  /** Starts timing one delivery's apply; call the result when it is answered (whatever the outcome). */
  applyStarted(): () => void {
    return this.applyDuration.startTimer();
  }

  /** One group-commit transaction of `size` deliveries. */
  batchApplied(size: number): void {
    this.batchSize.observe(size);
  }

  /** One GraphQL operation: its name (undefined when none resolved), duration and whether it failed. */
  graphqlOperation(name: string | undefined, seconds: number, failed: boolean): void {
    const operation = this.operationLabel(name);
    this.operations.inc({ operation });
    this.operationDuration.observe({ operation }, seconds);
    if (failed) this.operationErrors.inc({ operation });
  }

  /** Call once the transaction that published it committed (afterCommit). */
  changePublished(kind: string, count = 1): void {
    this.changesPublished.inc({ kind }, count);
  }

  changeDelivered(): void {
    this.changesDelivered.inc();
  }

  /** Queued subscription changes superseded by a newer one of their signal or issue, and so not sent. */
  changeCoalesced(count: number): void {
    this.changesCoalesced.inc(count);
  }

  /** Clients choose operation names: keep the label set bounded. */
  private operationLabel(name: string | undefined): string {
    if (name === undefined || name === "") return "anonymous";
    if (!OPERATION_NAME.test(name)) return "other";
    if (this.operationNames.has(name)) return name;
    if (this.operationNames.size >= MAX_OPERATION_NAMES) return "other";
    this.operationNames.add(name);
    return name;
  }
}

/**
 * `GET /metrics` in Prometheus text format. With a token (METRICS_TOKEN), only for
 * `Authorization: Bearer <token>`: the figures hold no secret, but say how busy the fleet is.
 */
export function metricsRouter(metrics: Metrics, token: string | undefined): Router {
  const router = Router();
  router.get("/metrics", async (req, res, next) => {
    if (token !== undefined && !bearerMatches(req.get("authorization"), token)) {
      return next(new Unauthenticated("a valid METRICS_TOKEN bearer token is required", ErrorCode.UNAUTHENTICATED));
    }
    const text = await metrics.registry.metrics();
    res.type(metrics.registry.contentType).send(text);
  });
  return router;
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer (.+)$/i.exec(header?.trim() ?? "");
  if (!match) return false;
  const given = Buffer.from(match[1]);
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
