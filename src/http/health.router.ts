import { Router } from "express";
import type { DataSource } from "typeorm";

/** Liveness answers while the process serves; readiness only while the database answers too. */
export function healthRouter(dataSource: () => DataSource | undefined): Router {
  const router = Router();
  router.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  router.get("/readyz", async (_req, res) => {
    const ds = dataSource();
    try {
      if (!ds?.isInitialized) throw new Error("not initialised");
      await withTimeout(ds.query("SELECT 1"), 2000);
      res.json({ status: "ready" });
    } catch {
      res.status(503).json({ error: { code: "SERVICE_UNAVAILABLE", message: "database unavailable" } });
    }
  });
  return router;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("timeout")), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
