import { DateTimeResolver, JSONResolver } from "graphql-scalars";

/** `DateTime` (ISO-8601) and `JSON`, the contract's two custom scalars. */
export const DateTimeScalar = DateTimeResolver;
export const JSONScalar = JSONResolver;
