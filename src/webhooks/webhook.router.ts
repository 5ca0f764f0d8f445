import type { IncomingMessage, ServerResponse } from "node:http";
import express, { Router, type Request } from "express";
import { ErrorCode } from "../error-codes";
import { AppError, BadRequest, MethodNotAllowed, Unauthenticated, UnprocessableEntity, UnsupportedMediaType } from "../errors";
import { errorAnswer } from "../http/error-middleware";
import { fastRoute, isIdentity, readBody, sendJson, type FastPath } from "../http/fast-path";
import { fixedFieldsLogger, type Logger } from "../logger";
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
const PATH = "/webhooks/smartcar";

/** What a delivery is answered with, once its body is read. */
export interface WebhookAnswer {
  readonly status: number;
  readonly body: unknown;
}

/**
 * The route's work once the body is read, whichever HTTP layer read it (see webhookFastPath): the
 * signature over the raw bytes (401), JSON (400), shape (422), then one transaction (503 when the
 * database is down, so Smartcar retries). Errors are thrown as AppErrors (or database errors).
 */
class WebhookReceiver {
  /** The outcome line of each delivery: fields built here only (see fixedFieldsLogger). */
  private readonly lines: Logger;

  constructor(private readonly options: WebhookRouterOptions) {
    this.lines = fixedFieldsLogger(options.logger);
  }

  /** `log` is the request's logger, `requestId` the id its lines carry (requestLogs). */
  async receive(rawBody: Buffer, signature: string | undefined, log: Logger, requestId: string | undefined): Promise<WebhookAnswer> {
    try {
      return await this.checkAndApply(rawBody, signature, log, requestId);
    } catch (error) {
      // Every 401 is a signature failure: counted once here rather than at each of its causes.
      if (error instanceof Unauthenticated && error.code === ErrorCode.INVALID_SIGNATURE) this.options.metrics?.signatureFailure();
      throw error;
    }
  }

  private async checkAndApply(rawBody: Buffer, signature: string | undefined, log: Logger, requestId: string | undefined): Promise<WebhookAnswer> {
    const { ingestion, managementTokens, metrics } = this.options;
    const receivedAt = new Date();
    const signed = managementTokens.length === 0 || signatureMatches(rawBody, signature, managementTokens);
    // Only a VERIFY may come unsigned, and a VERIFY is tiny: don't parse large unsigned bodies.
    if (!signed && rawBody.length > MAX_UNSIGNED_BYTES) throw invalidSignature();

    let json: unknown;
    try {
      json = JSON.parse(rawBody.toString("utf8"));
    } catch {
      // An unsigned body must not learn whether it parses.
      throw signed ? new BadRequest("request body is not valid JSON", ErrorCode.MALFORMED_JSON) : invalidSignature();
    }

    let delivery: NormalizedDelivery;
    try {
      delivery = normalizeDelivery(json);
    } catch (error) {
      if (!signed) throw invalidSignature();
      if (!(error instanceof UnprocessableEntity)) throw error;
      // Signed by Smartcar but not a shape we know: keep it so nothing is lost, then tell why.
      const labels = await ingestion.reject(rawBody, error.message, json);
      metrics?.delivery(labels.eventType, "rejected");
      log.warn({ reason: error.message, outcome: "rejected" }, "webhook delivery rejected and kept raw");
      throw error;
    }

    if (delivery.kind === "VERIFY") {
      // VERIFY may come unsigned; answering a plain challenge signs nothing a caller could reuse.
      if (!signed && !isPlainChallenge(delivery.challenge)) throw invalidSignature();
      if (managementTokens.length === 0) {
        throw new AppError(503, ErrorCode.NOT_CONFIGURED, "cannot answer VERIFY: SMARTCAR_MANAGEMENT_TOKEN is not set");
      }
      return { status: 200, body: answerChallenge(delivery.challenge, managementTokens[0]) };
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
    const line = { eventId: outcome.eventId, outcome: outcome.status, eventType: delivery.kind };
    // The same line as through `log` (whose binding is the request id), without making that child logger.
    if (requestId === undefined) log.info(line, "webhook delivery");
    else this.lines.info({ requestId, ...line }, "webhook delivery");
    return { status: outcome.status === "spooled" ? 202 : 200, body: outcome };
  }
}

/**
 * `POST /webhooks/smartcar` in express. The checks run in a fixed order, each with its own status:
 * content type (415), size (413), then WebhookReceiver's. Errors go to the error middleware.
 * webhookFastPath answers the plain deliveries Smartcar sends before express sees them; this route
 * answers every other request to the path, alike.
 */
export function webhookRouter(options: WebhookRouterOptions): Router {
  const receiver = new WebhookReceiver(options);
  const router = Router();

  router.post(
    PATH,
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
      const answer = await receiver.receive(bodyOf(req), req.get("sc-signature"), req.log ?? options.logger, req.requestId);
      res.status(answer.status).json(answer.body);
    },
  );
  // Smartcar only POSTs; any other method gets the contract's JSON error rather than express's HTML.
  router.all(PATH, (_req, _res, next) => next(new MethodNotAllowed(["POST"])));
  return router;
}

/**
 * The webhook on node:http, ahead of express: for a POST of identity-encoded `application/json` to
 * exactly `/webhooks/smartcar` (what Smartcar sends), the same answers, headers and log lines as
 * webhookRouter, without express's routing, request and response wrappers and body parser (about 40 %
 * of the service's CPU a delivery; bench/RESULTS.md). Returns false, touching nothing, for any other request.
 */
export function webhookFastPath(options: WebhookRouterOptions): FastPath {
  const receiver = new WebhookReceiver(options);
  return fastRoute(PATH, options.logger, (req, res) => {
    answer(req, res).catch((error: unknown) => {
      // Only writing the answer can fail here (everything before is answered as an error): nothing left to say.
      req.log.error({ err: error, method: req.method, path: PATH }, "unhandled request error");
      res.destroy();
    });
  });

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let status: number;
    let body: unknown;
    let headers: Readonly<Record<string, string>> = {};
    try {
      const rawBody = await readBody(req, options.bodyLimit);
      ({ status, body } = await receiver.receive(rawBody, req.headers["sc-signature"] as string | undefined, req.log, req.requestId));
    } catch (error) {
      ({ status, body, headers } = errorAnswer(error, req.log, req.method, PATH));
    }
    sendJson(res, status, body, headers);
  }
}

function bodyOf(req: Request): Buffer {
  // express.raw leaves `{}` when there was no body at all.
  return Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
}

function invalidSignature(): Unauthenticated {
  return new Unauthenticated("missing or invalid SC-Signature", ErrorCode.INVALID_SIGNATURE);
}
