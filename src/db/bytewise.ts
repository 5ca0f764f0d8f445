/**
 * Orders strings by their UTF-8 bytes, as PostgreSQL's `COLLATE "C"` does whatever the database's
 * collation: lock order and tie-breaks in TypeScript then agree with the SQL's.
 */
export function compareBytewise(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
