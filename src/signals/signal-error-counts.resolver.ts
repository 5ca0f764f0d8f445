import { Ctx, Field, FieldResolver, Int, ObjectType, Resolver } from "type-graphql";
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
  @FieldResolver(() => [SignalCodeCount], { description: "Signals currently failing, by code, most frequent first (yours only)" })
  async failingSignals(@Ctx() ctx: Context): Promise<SignalCodeCount[]> {
    const scope = scopeOf(ctx.viewer);
    const rows: Array<{ code: string; count: string }> = await ctx.dataSource.query(
      `SELECT e.code, count(*) AS count
         FROM signal_errors e ${scope === undefined ? "" : "WHERE e.user_id = $1"}
        GROUP BY e.code
        ORDER BY count(*) DESC, e.code COLLATE "C"`,
      scope === undefined ? [] : [scope],
    );
    return rows.map((row) => ({ code: row.code, count: Number(row.count) }));
  }
}
