import { Column } from "typeorm";
import type { SignalValueKind } from "./typed-value";

/**
 * The typed copy of a value's body (typedValue), stored beside it on `signals` and `signal_readings`
 * so fleet queries can filter on it with indexes. Columns only: clients read the typed GraphQL fields,
 * which come from the body.
 */
export abstract class TypedValueColumns {
  /**
   * What the body holds: fleet queries filter on it and the typed columns below. Null only for a
   * value written by the previous release during a rolling upgrade (see the TypedSignalValues migration).
   */
  @Column("text", { nullable: true })
  kind: SignalValueKind | null;

  /** The BOOLEAN value, else null. */
  @Column("boolean", { nullable: true })
  valueBoolean: boolean | null;

  /** The TEXT value, else null. */
  @Column("text", { nullable: true })
  valueText: string | null;

  /** The LOCATION's coordinates, else null. */
  @Column("double precision", { nullable: true })
  latitude: number | null;

  @Column("double precision", { nullable: true })
  longitude: number | null;
}
