import type { DataSource } from "typeorm";
import type { Viewer } from "../auth/viewer";
import { IssueService } from "../issues/issue.service";
import type { Logger } from "../logger";
import { SignalService } from "../signals/signal.service";
import { VehicleService } from "../vehicles/vehicle.service";
import { createLoaders, type Loaders, type Services } from "./loaders";

/** What the transport knows about an operation (HTTP request or WebSocket subscription). */
export interface ContextInput {
  readonly viewer: Viewer;
  readonly dataSource: DataSource;
  readonly logger: Logger;
}

/** Per-operation GraphQL context, built by `createContext` for each HTTP request and each subscription event. */
export interface Context extends ContextInput {
  /** When the operation started: ages and open durations in one answer are measured from the same instant. */
  readonly now: Date;
  readonly services: Services;
  /** Fresh for every call of createContext: DataLoader caches must not outlive one operation. */
  readonly loaders: Loaders;
}

export function createServices(dataSource: DataSource): Services {
  return {
    vehicles: new VehicleService(dataSource),
    signals: new SignalService(dataSource),
    issues: new IssueService(dataSource),
  };
}

/**
 * Builds the context of one operation. Fields added to ContextInput by a transport pass through
 * unchanged. Cheap: services are plain objects and loaders run no SQL until asked.
 */
export function createContext<T extends ContextInput>(input: T): T & Context {
  const services = createServices(input.dataSource);
  return { ...input, now: new Date(), services, loaders: createLoaders(input.viewer, services) };
}
