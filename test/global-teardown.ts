export default async function globalTeardown(): Promise<void> {
  await (globalThis as { dropTestTemplate?: () => Promise<void> }).dropTestTemplate?.();
}
