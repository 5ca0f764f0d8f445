import { Args, Ctx, Extensions, FieldResolver, Float, Resolver, Root } from "type-graphql";
import { SortDirection, toConnection } from "../graphql/connection";
import type { Context } from "../graphql/context";
import { decodeCursor } from "../graphql/cursor";
import { badUserInput } from "../graphql/errors";
import { pageSize } from "../graphql/pagination.args";
import { LIST_SIZE, WORK } from "../graphql/field-cost";
import { SeriesBucket } from "./series-bucket.type";
import { bucketCount, MAX_SERIES_BUCKETS, parseIntervalSeconds, seriesSize, seriesWork } from "./series-interval";
import { SignalHistoryArgs, SignalSeriesArgs } from "./signal.args";
import { SignalReadingConnection } from "./signal-reading.connection";
import { Signal } from "./signal.entity";
import { signalsOf } from "./signal.loaders";

@Resolver(() => Signal)
export class SignalResolver {
  @FieldResolver(() => Float, { description: "Seconds from observedAt to the time of this query: how fresh the value is" })
  ageSeconds(@Root() signal: Signal, @Ctx() ctx: Context): number {
    return (ctx.now.getTime() - signal.observedAt.getTime()) / 1000;
  }

  @FieldResolver(() => SignalReadingConnection, { description: "Every good value received for this signal, late ones included" })
  async history(@Root() signal: Signal, @Args(() => SignalHistoryArgs) args: SignalHistoryArgs, @Ctx() ctx: Context): Promise<SignalReadingConnection> {
    const direction = args.direction ?? SortDirection.DESC;
    const kind = `history:${direction}`;
    const after = args.after == null ? undefined : decodeCursor(args.after, kind, ["timestamp", "bigint"]);
    const first = pageSize(args);
    const page = await signalsOf(ctx).history({ from: args.from, to: args.to, first, after, direction }).load(signal);
    return Object.assign(new SignalReadingConnection(), toConnection(page, first, kind, args.after ?? undefined));
  }

  @FieldResolver(() => [SeriesBucket], {
    description: `Time buckets of the numeric value in [from, to), every bucket included (at most ${MAX_SERIES_BUCKETS})`,
  })
  @Extensions({ [LIST_SIZE]: seriesSize, [WORK]: seriesWork })
  series(@Root() signal: Signal, @Args(() => SignalSeriesArgs) args: SignalSeriesArgs, @Ctx() ctx: Context): Promise<SeriesBucket[]> {
    const intervalSeconds = parseIntervalSeconds(args.interval);
    if (intervalSeconds === undefined) throw badUserInput("`interval` must be an ISO-8601 duration such as PT15M, PT1H or P1D, of at most 36525 days", "interval");
    const to = args.to ?? ctx.now;
    if (to.getTime() <= args.from.getTime()) throw badUserInput("`to` must be later than `from`", "to");
    const buckets = bucketCount(args.from, to, intervalSeconds);
    if (buckets > MAX_SERIES_BUCKETS) {
      throw badUserInput(`that range and interval make ${buckets} buckets; at most ${MAX_SERIES_BUCKETS} are allowed`, "interval");
    }
    return signalsOf(ctx).series({ from: args.from, to, intervalSeconds, buckets }).load(signal);
  }
}
