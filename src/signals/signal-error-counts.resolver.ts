import { Ctx, Extensions, Field, FieldResolver, Int, ObjectType, Resolver } from "type-graphql";
import { countWork, WORK } from "../graphql/field-cost";
import { scopeOf } from "../auth/viewer";
import type { Context } from "../graphql/context";
import { FleetSummary } from "../vehicles/fleet-summary.resolver";

@ObjectType({ description: "How many vehicles have one signal failing" })
export class SignalCodeCount {
  @Field({ description: "Smartcar signal code" })
  code: string;

  @Field(() => Int)
  count: number;
}

@Resolver(() => FleetSummary)
export class SignalErrorCountsResolver {
  /**
   * What `vehicle { signalErrors }` shows over the viewer's vehicles: a user counts the errors reported
   * for them on the vehicles they own now (not those left on a vehicle handed over to someone else).
   */
  @FieldResolver(() => [SignalCodeCount], { description: "Signals currently failing on your vehicles, by code, most frequent first" })
  @Extensions({ [WORK]: countWork })
  async failingSignals(@Ctx() ctx: Context): Promise<SignalCodeCount[]> {
    const scope = scopeOf(ctx.viewer);
    const rows: Array<{ code: string; count: string }> = await ctx.dataSource.query(
      `SELECT e.code, count(*) AS count
         FROM signal_errors e
         ${scope === undefined ? "" : "JOIN vehicles v ON v.id = e.vehicle_id AND v.user_id = $1 WHERE e.user_id = $1"}
        GROUP BY e.code
        ORDER BY count(*) DESC, e.code COLLATE "C"`,
      scope === undefined ? [] : [scope],
    );
    return rows.map((row) => ({ code: row.code, count: Number(row.count) }));
  }
}
