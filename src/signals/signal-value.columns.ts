import { Field, ObjectType } from "type-graphql";
import { Column } from "typeorm";
import { JSONScalar } from "../graphql/scalars";
import type { SignalValueKind } from "./typed-value";

/**
 * What a latest value (`signals`, Signal) and a reading of history (`signal_readings`, SignalReading)
 * both hold about one value of a signal: the body as sent, its times, where it came from, and its typed
 * copy (typedValue), stored beside the body so fleet queries can filter on it with indexes. Its GraphQL
 * fields appear on both types; it is never a type of the schema itself (no resolver returns it).
 */
@ObjectType()
export abstract class SignalValueColumns {
  @Field(() => JSONScalar, { description: "The signal body as Smartcar sent it" })
  @Column("jsonb")
  body: unknown;

  @Field(() => String, { nullable: true })
  @Column("text", { nullable: true })
  unit: string | null;

  @Field(() => Date, { nullable: true, description: "When Smartcar retrieved the value" })
  @Column("timestamptz", { nullable: true })
  retrievedAt: Date | null;

  @Field(() => Date, { nullable: true, description: "When the vehicle recorded the value" })
  @Column("timestamptz", { nullable: true })
  oemUpdatedAt: Date | null;

  /**
   * When fleetgraph applied the value, its vehicle's lock held (so per vehicle in commit order); a
   * column of each table (it is part of the history's key).
   */
  abstract appliedAt: Date;

  /** The contract's name for appliedAt: when fleetgraph received (and applied) the value. */
  @Field(() => Date, { description: "When fleetgraph received the value" })
  get receivedAt(): Date {
    return this.appliedAt;
  }

  /** The delivery that brought this value; on `signals` it breaks ties between equal `observedAt`. */
  @Column("text")
  eventId: string;

  /** The Smartcar user it was delivered for (data.user.id): only they see it. */
  @Column("text", { nullable: true })
  userId: string | null;

  /**
   * What the body holds: fleet queries filter on it and the typed columns below. Null only for a
   * value written by the previous release during a rolling upgrade (see the TypedSignalValues migration).
   * Clients read the typed GraphQL fields, which come from the body.
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
