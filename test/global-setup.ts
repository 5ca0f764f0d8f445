import { prepareTemplate } from "./helpers/template";

/** Migrates one template database for the whole run; test files copy it (see test/helpers/test-database.ts). */
export default async function globalSetup(): Promise<void> {
  (globalThis as { dropTestTemplate?: () => Promise<void> }).dropTestTemplate = await prepareTemplate();
}
