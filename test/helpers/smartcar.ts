import { randomUUID } from "node:crypto";
import { hmacHex } from "../../src/webhooks/signature";
import { TEST_MANAGEMENT_TOKEN } from "./test-app";

/** One signal of a VEHICLE_STATE delivery; `error` makes it a failed signal (no body, no meta). */
export interface SignalSpec {
  code: string;
  name?: string;
  group?: string;
  body?: unknown;
  oemUpdatedAt?: number;
  retrievedAt?: number;
  error?: { type: string; code: string | null };
}

export interface VehicleSpec {
  vehicleId: string;
  userId?: string;
  make?: string;
  model?: string;
  year?: number;
  eventId?: string;
  mode?: "LIVE" | "TEST";
  deliveredAt?: number;
}

/** The envelope every 4.0 delivery shares: its event, user and vehicle, and its meta. */
function delivery(eventType: string, spec: VehicleSpec, data: object, meta: object): Record<string, unknown> {
  const { vehicleId, userId = "user-1", make = "TESLA", model = "Model 3", year = 2020 } = spec;
  return {
    eventId: spec.eventId ?? randomUUID(),
    eventType,
    data: { user: { id: userId }, vehicle: { id: vehicleId, make, model, year }, ...data },
    ...meta,
  };
}

function deliveryMeta(spec: VehicleSpec, deliveredAt: number): Record<string, unknown> {
  return { version: "4.0", deliveryId: randomUUID(), deliveredAt, webhookId: "webhook-1", webhookName: "tests", mode: spec.mode ?? "LIVE" };
}

/** A Smartcar 4.0 VEHICLE_STATE delivery, shaped like the captured LIVE payloads. */
export function vehicleState(spec: VehicleSpec & { signals: SignalSpec[] }): Record<string, unknown> {
  const deliveredAt = spec.deliveredAt ?? Date.now();
  const signals = spec.signals.map((signal) => {
    const base = { code: signal.code, name: signal.name ?? signal.code, group: signal.group ?? signal.code.split("-")[0] };
    if (signal.error) return { ...base, status: { value: "ERROR", error: signal.error } };
    return {
      ...base,
      body: signal.body ?? { value: 1 },
      status: { value: "SUCCESS" },
      meta: { oemUpdatedAt: signal.oemUpdatedAt ?? deliveredAt, retrievedAt: signal.retrievedAt ?? deliveredAt },
    };
  });
  return delivery("VEHICLE_STATE", spec, { signals }, {
    triggers: spec.signals.slice(0, 1).map((signal) => ({ type: "SIGNAL_UPDATED", signal: { code: signal.code } })),
    meta: { ...deliveryMeta(spec, deliveredAt), signalCount: spec.signals.length },
  });
}

export interface ErrorSpec {
  type: string;
  code: string | null;
  state: "ERROR" | "RESOLVED";
  signals?: string[];
  description?: string;
  suggestedUserMessage?: string;
  resolutionType?: string | null;
}

/** A Smartcar 4.0 VEHICLE_ERROR delivery. */
export function vehicleError(spec: VehicleSpec & { errors: ErrorSpec[] }): Record<string, unknown> {
  const errors = spec.errors.map((error) => ({
    type: error.type,
    code: error.code,
    state: error.state,
    description: error.description ?? `${error.type} ${error.code ?? ""}`.trim(),
    suggestedUserMessage: error.suggestedUserMessage,
    docURL: "https://smartcar.com/docs/errors/api-errors",
    resolution: { type: error.resolutionType ?? null },
    signals: (error.signals ?? []).map((code) => ({ code })),
  }));
  return delivery("VEHICLE_ERROR", spec, { errors }, { meta: deliveryMeta(spec, spec.deliveredAt ?? Date.now()) });
}

export interface PostOptions {
  /** Signing key; `null` sends no SC-Signature header. @default TEST_MANAGEMENT_TOKEN */
  token?: string | null;
  signature?: string;
  contentType?: string;
}

export interface PostResult {
  status: number;
  headers: Headers;
  body: unknown;
}

/** POSTs a delivery (object or exact raw text) to /webhooks/smartcar, signed like Smartcar signs. */
export async function postDelivery(baseUrl: string, payload: unknown, options: PostOptions = {}): Promise<PostResult> {
  const raw = typeof payload === "string" || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
  const token = options.token === undefined ? TEST_MANAGEMENT_TOKEN : options.token;
  const headers: Record<string, string> = { "content-type": options.contentType ?? "application/json" };
  const signature = options.signature ?? (token === null ? undefined : hmacHex(token, raw));
  if (signature !== undefined) headers["sc-signature"] = signature;
  const response = await fetch(`${baseUrl}/webhooks/smartcar`, { method: "POST", headers, body: raw });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body };
}
