import { Router } from "express";
import type { DataSource } from "typeorm";
import type { Spool } from "../spool/spool";

/**
 * Liveness answers while the process serves; readiness only while the database answers too. With a
 * spool, both readiness answers say how deep it is: deliveries still waiting do not make the service
 * unready (new ones are applied directly while the spool drains), but an operator watches them go.
 */
export function healthRouter(dataSource: () => DataSource | undefined, spool: () => Spool | undefined = () => undefined): Router {
  const router = Router();
  router.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  router.get("/readyz", async (_req, res) => {
    const ds = dataSource();
    const current = spool();
    const spooled = current ? { spool: { depth: current.depth, damagedBytes: current.damagedBytes } } : {};
    try {
      if (!ds?.isInitialized) throw new Error("not initialised");
      await withTimeout(ds.query("SELECT 1"), 2000);
      res.json({ status: "ready", ...spooled });
    } catch {
      res.status(503).json({ error: { code: "SERVICE_UNAVAILABLE", message: "database unavailable" }, ...spooled });
    }
  });
  return router;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("timeout")), ms);
  });
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
