import { Ctx, Extensions, FieldResolver, Int, ObjectType, Query, Resolver } from "type-graphql";
import { countWork, WORK } from "../graphql/field-cost";
import { scopeOf } from "../auth/viewer";
import type { Context } from "../graphql/context";

/**
 * Counts a fleet dashboard needs, in one query. Each feature adds its own counts as fields
 * (issues: openIssuesByType, signals: failingSignals), all limited to what the viewer may see.
 */
@ObjectType({ description: "Counts over the vehicles, issues and signals you may see" })
export class FleetSummary {}

@Resolver(() => FleetSummary)
export class FleetSummaryResolver {
  @Query(() => FleetSummary, { description: "Counts a fleet dashboard needs, in one query" })
  fleetSummary(): FleetSummary {
    return new FleetSummary();
  }

  @FieldResolver(() => Int, { description: "How many vehicles you may see" })
  @Extensions({ [WORK]: countWork })
  async vehicles(@Ctx() ctx: Context): Promise<number> {
    const scope = scopeOf(ctx.viewer);
    const [row]: Array<{ count: string }> = await ctx.dataSource.query(
      `SELECT count(*) AS count FROM vehicles v ${scope === undefined ? "" : "WHERE v.user_id = $1"}`,
      scope === undefined ? [] : [scope],
    );
    return Number(row.count);
  }
}
