import { Arg, Ctx, Field, ID, Int, Mutation, ObjectType, Resolver } from "type-graphql";
import type { EntityManager } from "typeorm";
import type { Context } from "../graphql/context";
import { graphqlErrorOf } from "../graphql/errors";
import { Forbidden } from "../errors";

@ObjectType({ description: "Rows forgetUser deleted, per table" })
export class ForgottenUser {
  @Field(() => Int, { description: "Vehicles the user owned, with everything stored about them" })
  vehicles: number;

  @Field(() => Int, { description: "Latest values" })
  signals: number;

  @Field(() => Int, { description: "History readings" })
  signalReadings: number;

  @Field(() => Int)
  signalErrors: number;

  @Field(() => Int)
  issues: number;

  @Field(() => Int)
  issueChanges: number;

  @Field(() => Int, { description: "Raw deliveries whose body names the user" })
  webhookEvents: number;

  @Field(() => Int, { description: "Refused raw bodies that name the user" })
  webhookRejections: number;
}

/**
 * Deletes every row of one Smartcar user, in one transaction: the vehicles they own now (and, by the
 * vehicles' foreign keys, whatever was stored about them), and wherever else a row was delivered for
 * them (`user_id`). A raw body is theirs when it holds their user id as a JSON string: for deliveries,
 * looked for among those of the vehicles they had (an index probe per vehicle); for rejections, in all.
 */
export async function forgetUser(manager: EntityManager, userId: string): Promise<ForgottenUser> {
  const owned: Array<{ id: string }> = await manager.query(`SELECT id FROM vehicles WHERE user_id = $1 ORDER BY id FOR UPDATE`, [userId]);
  const ownedIds = owned.map((row) => row.id);
  const theirs = `user_id = $1 OR vehicle_id = ANY($2)`;
  const [vehiclesHad]: Array<{ ids: string[] }> = await manager.query(
    `SELECT array(SELECT vehicle_id FROM signal_readings WHERE user_id = $1
                  UNION SELECT vehicle_id FROM signal_errors WHERE user_id = $1
                  UNION SELECT vehicle_id FROM vehicle_issues WHERE user_id = $1 AND vehicle_id IS NOT NULL
                  UNION SELECT unnest($2::text[])) AS ids`,
    [userId, ownedIds],
  );
  // The user id as it appears in a JSON body: "…" with JSON's escapes.
  const named = Buffer.from(JSON.stringify(userId));
  const deleted = async (sql: string, parameters: unknown[]): Promise<number> => {
    const [, affected]: [unknown, number] = await manager.query(sql, parameters);
    return affected;
  };
  const result = new ForgottenUser();
  result.webhookEvents = await deleted(`DELETE FROM webhook_events WHERE vehicle_id = ANY($1) AND position($2::bytea IN raw_body) > 0`, [
    vehiclesHad.ids,
    named,
  ]);
  result.webhookRejections = await deleted(`DELETE FROM webhook_rejections WHERE position($1::bytea IN raw_body) > 0`, [named]);
  result.issueChanges = await deleted(
    `DELETE FROM vehicle_issue_changes WHERE ${theirs} OR issue_id IN (SELECT id FROM vehicle_issues WHERE ${theirs})`,
    [userId, ownedIds],
  );
  result.issues = await deleted(`DELETE FROM vehicle_issues WHERE ${theirs}`, [userId, ownedIds]);
  result.signalErrors = await deleted(`DELETE FROM signal_errors WHERE ${theirs}`, [userId, ownedIds]);
  result.signals = await deleted(`DELETE FROM signals WHERE ${theirs}`, [userId, ownedIds]);
  result.signalReadings = await deleted(`DELETE FROM signal_readings WHERE ${theirs}`, [userId, ownedIds]);
  result.vehicles = await deleted(`DELETE FROM vehicles WHERE id = ANY($1)`, [ownedIds]);
  return result;
}

@Resolver()
export class ForgetUserResolver {
  @Mutation(() => ForgottenUser, {
    description: "Admin only: deletes every row of a Smartcar user in one transaction (README, Retention and privacy)",
  })
  async forgetUser(@Arg("userId", () => ID) userId: string, @Ctx() ctx: Context): Promise<ForgottenUser> {
    if (ctx.viewer.kind === "user") throw graphqlErrorOf(new Forbidden("forgetUser needs an admin token"));
    const result = await ctx.dataSource.transaction((manager) => forgetUser(manager, userId));
    ctx.logger.info({ forgotten: result }, "forgetUser: deleted a user's rows");
    return result;
  }
}
