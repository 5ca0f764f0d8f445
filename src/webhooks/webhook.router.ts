import express, { Router, type ErrorRequestHandler, type Request } from "express";
import { AppError, BadRequest, MethodNotAllowed, Unauthenticated, UnprocessableEntity, UnsupportedMediaType } from "../errors";
import type { Logger } from "../logger";
import type { Metrics } from "../metrics/metrics";
import type { IngestionOutcome, IngestionService } from "./ingestion.service";
import { normalizeDelivery } from "./normalize";
import type { NormalizedDelivery } from "./normalized-delivery";
import { signatureMatches } from "./signature";
import { answerChallenge, isPlainChallenge } from "./verify-challenge";

export interface WebhookRouterOptions {
  readonly ingestion: IngestionService;
  /** Management tokens, current first; empty accepts unsigned deliveries (development only). */
  readonly managementTokens: readonly string[];
  readonly bodyLimit: number;
  readonly logger: Logger;
  /** Counts deliveries by outcome, signature failures and apply latency. */
  readonly metrics?: Metrics;
}

const MAX_UNSIGNED_BYTES = 4096;

/**
 * `POST /webhooks/smartcar`. The checks run in a fixed order, each with its own status: content type
 * (415), size (413), signature over the raw bytes (401), JSON (400), shape (422), then one
 * transaction (503 when the database is down, so Smartcar retries). Errors go to the error middleware.
 */
export function webhookRouter(options: WebhookRouterOptions): Router {
  const { ingestion, managementTokens, logger, metrics } = options;
  const router = Router();

  router.post(
    "/webhooks/smartcar",
    (req, _res, next) => {
      // Checked before reading the body: a wrong type costs us nothing and stores nothing.
      if (!req.is("application/json")) return next(new UnsupportedMediaType());
      // Smartcar sends identity. Inflating would check the signature over other bytes than those
      // signed and archived, and let a small body expand past the limit: refuse any other encoding.
      if (!isIdentity(req.get("content-encoding"))) {
        return next(new UnsupportedMediaType("Content-Encoding must be identity (no compression)"));
      }
      next();
    },
    // The exact bytes: the signature covers them, and they are what we archive.
    express.raw({ type: () => true, limit: options.bodyLimit, inflate: false }),
    async (req, res) => {
      const rawBody = bodyOf(req);
      const receivedAt = new Date();
      const signed = managementTokens.length === 0 || signatureMatches(rawBody, req.get("sc-signature"), managementTokens);
      // Only a VERIFY may come unsigned, and a VERIFY is tiny: don't parse large unsigned bodies.
      if (!signed && rawBody.length > MAX_UNSIGNED_BYTES) throw invalidSignature();

      let json: unknown;
      try {
        json = JSON.parse(rawBody.toString("utf8"));
      } catch {
        // An unsigned body must not learn whether it parses.
        throw signed ? new BadRequest("request body is not valid JSON", "MALFORMED_JSON") : invalidSignature();
      }

      let delivery: NormalizedDelivery;
      try {
        delivery = normalizeDelivery(json);
      } catch (error) {
        if (!signed) throw invalidSignature();
        if (!(error instanceof UnprocessableEntity)) throw error;
        // Signed by Smartcar but not a shape we know: keep it so nothing is lost, then tell why.
        const labels = rejectionLabels(json);
        await ingestion.reject(rawBody, error.message, labels);
        metrics?.delivery(labels.eventType, "rejected");
        (req.log ?? logger).warn({ reason: error.message, outcome: "rejected" }, "webhook delivery rejected and kept raw");
        throw error;
      }

      if (delivery.kind === "VERIFY") {
        // VERIFY may come unsigned; answering a plain challenge signs nothing a caller could reuse.
        if (!signed && !isPlainChallenge(delivery.challenge)) throw invalidSignature();
        if (managementTokens.length === 0) {
          throw new AppError(503, "NOT_CONFIGURED", "cannot answer VERIFY: SMARTCAR_MANAGEMENT_TOKEN is not set");
        }
        res.json(answerChallenge(delivery.challenge, managementTokens[0]));
        return;
      }
      if (!signed) throw invalidSignature();

      const applied = metrics?.applyStarted();
      let outcome: IngestionOutcome;
      try {
        [outcome] = await ingestion.apply([{ delivery, rawBody, receivedAt }]);
      } catch (error) {
        // Answered 503 by the error middleware: Smartcar retries.
        if (ingestion.isUnreachable(error)) metrics?.delivery(delivery.kind, "unavailable");
        throw error;
      } finally {
        applied?.();
      }
      metrics?.delivery(delivery.kind, outcome.status);
      (req.log ?? logger).info({ eventId: outcome.eventId, outcome: outcome.status, eventType: delivery.kind }, "webhook delivery");
      res.status(outcome.status === "spooled" ? 202 : 200).json(outcome);
    },
  );
  // Every 401 above is a signature failure: counted once here rather than at each of its causes.
  router.use("/webhooks/smartcar", ((error, _req, _res, next) => {
    if (error instanceof Unauthenticated && error.code === "INVALID_SIGNATURE") metrics?.signatureFailure();
    next(error);
  }) as ErrorRequestHandler);
  // Smartcar only POSTs; any other method gets the contract's JSON error rather than express's HTML.
  router.all("/webhooks/smartcar", (_req, _res, next) => next(new MethodNotAllowed(["POST"])));
  return router;
}

/**
 * The eventId and eventType a rejection is filed under, as text PostgreSQL can store: they may be the
 * very reason for the rejection (a NUL, an unpaired surrogate), and the raw body keeps them exactly.
 */
function rejectionLabels(json: unknown): { eventId?: string; eventType?: string } {
  const { eventId, eventType } = (typeof json === "object" && json !== null ? json : {}) as Record<string, unknown>;
  const label = (value: unknown) => (typeof value === "string" ? value.replaceAll("\u0000", "\ufffd").replace(/\p{Cs}/gu, "\ufffd").slice(0, 1000) : undefined);
  return { eventId: label(eventId), eventType: label(eventType) };
}

function isIdentity(contentEncoding: string | undefined): boolean {
  return contentEncoding === undefined || contentEncoding.trim().toLowerCase() === "identity";
}

function bodyOf(req: Request): Buffer {
  // express.raw leaves `{}` when there was no body at all.
  return Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
}

function invalidSignature(): Unauthenticated {
  return new Unauthenticated("missing or invalid SC-Signature", "INVALID_SIGNATURE");
}
