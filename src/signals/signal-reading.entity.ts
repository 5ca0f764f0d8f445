import { Column, Entity, Index, ManyToOne, PrimaryGeneratedColumn } from "typeorm";
import { Vehicle } from "../vehicles/vehicle.entity";

/** Every good signal value ever received, in or out of order (append-only history). */
@Entity("signal_readings")
@Index("signal_readings_vehicle_code_observed_idx", ["vehicleId", "code", "observedAt"])
export class SignalReading {
  @PrimaryGeneratedColumn("identity", { type: "bigint", generatedIdentity: "ALWAYS" })
  id: string;

  @Column("text")
  vehicleId: string;

  @Column("text")
  code: string;

  @Column("text", { nullable: true })
  name: string | null;

  @Column("text", { name: "group_name", nullable: true })
  group: string | null;

  @Column("jsonb")
  body: unknown;

  @Column("double precision", { nullable: true })
  value: number | null;

  @Column("text", { nullable: true })
  unit: string | null;

  @Column("timestamptz", { nullable: true })
  retrievedAt: Date | null;

  @Column("timestamptz", { nullable: true })
  oemUpdatedAt: Date | null;

  @Column("timestamptz")
  receivedAt: Date;

  @Column("timestamptz")
  observedAt: Date;

  /** True when a newer value was already stored: kept in history, never became the latest. */
  @Column("boolean", { default: false })
  late: boolean;

  @Column("text")
  eventId: string;

  @ManyToOne(() => Vehicle, { onDelete: "CASCADE" })
  vehicle?: Vehicle;
}
