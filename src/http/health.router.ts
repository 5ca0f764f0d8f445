import { Router } from "express";
import { withDeadline } from "../deadline";
import { ErrorCode } from "../error-codes";
import { errorBody } from "./error-middleware";
import type { DataSource } from "typeorm";

/**
 * Liveness answers while the process serves; readiness only while the database answers too. Both
 * readiness answers carry `details()` (the spool's depth): deliveries still waiting in the spool do
 * not make the service unready (new ones are applied directly while it drains).
 */
export function healthRouter(dataSource: () => DataSource | undefined, details: () => object = () => ({})): Router {
  const router = Router();
  router.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  router.get("/readyz", async (_req, res) => {
    const ds = dataSource();
    const spooled = details();
    try {
      if (!ds?.isInitialized) throw new Error("not initialised");
      await withDeadline(ds.query("SELECT 1"), 2000, () => new Error("readiness check timed out"));
      res.json({ status: "ready", ...spooled });
    } catch {
      res.status(503).json({ ...errorBody({ code: ErrorCode.SERVICE_UNAVAILABLE, message: "database unavailable" }), ...spooled });
    }
  });
  return router;
}
