import { Ctx, Extensions, Field, FieldResolver, Int, ObjectType, Resolver } from "type-graphql";
import { countWork, WORK } from "../graphql/field-cost";
import { scopeOf } from "../auth/viewer";
import type { Context } from "../graphql/context";
import { FleetSummary } from "../vehicles/fleet-summary.resolver";
import { IssueState } from "./issue-state";

@ObjectType({ description: "How many issues of one type and code are open" })
export class IssueCount {
  @Field({ description: "COMPATIBILITY, CONNECTED_SERVICES_ACCOUNT, ..." })
  type: string;

  @Field(() => String, { nullable: true, description: "VEHICLE_NOT_CAPABLE, ...; null where Smartcar sends none" })
  code: string | null;

  @Field(() => Int)
  count: number;
}

@Resolver(() => FleetSummary)
export class IssueCountsResolver {
  /** The issues `issues(state: OPEN)` lists for the viewer (reported for them), counted by type and code. */
  @FieldResolver(() => [IssueCount], { description: "Open issues by type and code, most frequent first: those issues(state: OPEN) lists" })
  @Extensions({ [WORK]: countWork })
  async openIssuesByType(@Ctx() ctx: Context): Promise<IssueCount[]> {
    const scope = scopeOf(ctx.viewer);
    const rows: Array<{ type: string; code: string | null; count: string }> = await ctx.dataSource.query(
      `SELECT i.type, i.code, count(*) AS count
         FROM vehicle_issues i
        WHERE i.state = $1 ${scope === undefined ? "" : "AND i.user_id = $2"}
        GROUP BY i.type, i.code
        ORDER BY count(*) DESC, i.type COLLATE "C", i.code COLLATE "C" NULLS FIRST`,
      scope === undefined ? [IssueState.OPEN] : [IssueState.OPEN, scope],
    );
    return rows.map((row) => ({ type: row.type, code: row.code, count: Number(row.count) }));
  }
}
