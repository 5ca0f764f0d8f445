import fc from "fast-check";

/**
 * fast-check arbitraries of GraphQL documents over fleetgraph's schema that stress every validation
 * rule: nested fragments spread many times, many aliases, deep nesting, long argument lists, page
 * sizes of every magnitude, skip/include, unknown fields, variables of wrong types, and plain garbage.
 */

const pageSize = fc.oneof(
  fc.integer({ min: -5, max: 120 }),
  fc.constantFrom(0, 100, 101, 1000, 2 ** 31 - 1, -(2 ** 31)),
);
const time = fc.constantFrom("2026-01-01T00:00:00Z", "2026-01-01T00:16:40Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "not a time");
const interval = fc.constantFrom("PT1S", "PT1H", "P1D", "P36525D", "P0D", "P1Y", "x");
const codes = fc.integer({ min: 0, max: 150 }).map((n) => `[${Array.from({ length: n }, (_, i) => `"code-${i}"`).join(", ")}]`);
const directive = fc.constantFrom("", "", "", " @skip(if: true)", " @include(if: false)", " @include(if: true)", " @skip(if: $flag)");

/** Leaves that fit anywhere a selection set of the given type is expected. */
const leaves: Record<string, string[]> = {
  Query: ["__typename"],
  Vehicle: ["id", "make", "lastSeenAt", "__typename", "nope"],
  Signal: ["code", "value", "ageSeconds", "receivedAt"],
  VehicleIssue: ["id", "code", "openSeconds", "signalCodes"],
};

type TypeName = keyof typeof leaves;

function selection(type: TypeName, depth: number): fc.Arbitrary<string> {
  const leaf = fc.constantFrom(...leaves[type]);
  if (depth <= 0) return leaf;
  const inner = (child: TypeName) => selectionSet(child, depth - 1);
  const nested: Record<TypeName, Array<fc.Arbitrary<string>>> = {
    Query: [
      fc.tuple(pageSize, inner("Vehicle")).map(([first, s]) => `vehicles(first: ${first}) { totalCount edges { node ${s} } }`),
      inner("Vehicle").map((s) => `vehicle(id: "veh-prop-1") ${s}`),
      fc.tuple(pageSize, inner("VehicleIssue")).map(([first, s]) => `issues(first: ${first}) { edges { node ${s} } }`),
    ],
    Vehicle: [
      fc.tuple(fc.option(codes, { nil: undefined }), inner("Signal")).map(([c, s]) => `signals${c === undefined ? "" : `(codes: ${c})`} ${s}`),
      inner("Signal").map((s) => `signal(code: "prop-signal-0") ${s}`),
      inner("VehicleIssue").map((s) => `issues ${s}`),
      fc.constant("signalErrors { code errorCode }"),
    ],
    Signal: [
      fc.tuple(pageSize, time).map(([first, from]) => `history(first: ${first}, from: "${from}") { totalCount edges { node { value late } } }`),
      fc.tuple(time, time, interval).map(([from, to, i]) => `series(from: "${from}", to: "${to}", interval: "${i}") { start count avg }`),
    ],
    VehicleIssue: [inner("Vehicle").map((s) => `vehicle ${s}`), fc.constant("episodes { openedAt durationSeconds }")],
  };
  return fc.oneof({ arbitrary: leaf, weight: 2 }, ...nested[type]);
}

/** `{ … }` of 1 to 4 selections, each possibly aliased and directed. */
function selectionSet(type: TypeName, depth: number): fc.Arbitrary<string> {
  const one = fc.tuple(fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }), selection(type, depth), directive);
  return fc
    .array(one, { minLength: 1, maxLength: 4 })
    .map((items) => `{ ${items.map(([alias, s, d]) => withDirective(`${alias === undefined ? "" : `a${alias}: `}${s}`, d)).join(" ")} }`);
}

/** A selection under a directive, as an inline fragment (a field's own directives go before its selection set). */
function withDirective(selection: string, directive: string): string {
  return directive === "" ? selection : `...${directive} { ${selection} }`;
}

/** The operation header: every document declares $flag so `@skip(if: $flag)` is valid. */
const HEADER = "query Q($flag: Boolean = false)";

/** A selection repeated `count` times, each under its own alias (OverlappingFieldsCanBeMerged compares them). */
const manyAliases = fc
  .tuple(selection("Query", 2), fc.integer({ min: 1, max: 400 }))
  .map(([s, count]) => `${HEADER} { ${Array.from({ length: count }, (_, i) => `x${i % 50}: ${s}`).join(" ")} }`);

/** A chain of `length` fragments, each spreading the next `fanOut` times (the fragment bomb and its cousins). */
const fragmentChain = fc
  .tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 4 }), selectionSet("Vehicle", 1), fc.boolean())
  .map(([length, fanOut, last, throughFields]) => {
    const spreads = (i: number) => Array.from({ length: fanOut }, () => `...F${i + 1}`).join(" ");
    const fragments = Array.from({ length }, (_, i) =>
      throughFields ? `fragment F${i} on Vehicle { issues { vehicle { ${spreads(i)} } } }` : `fragment F${i} on Vehicle { id ${spreads(i)} }`,
    );
    return `${HEADER} { vehicle(id: "veh-prop-1") { ...F0 } } ${fragments.join(" ")} fragment F${length} on Vehicle ${last}`;
  });

/** Nesting `depth` levels of vehicle → issues → vehicle … (past the depth limit for most). */
const deepNesting = fc.integer({ min: 1, max: 40 }).map((depth) => {
  let inner = "id";
  for (let i = 0; i < depth; i++) inner = i % 2 === 0 ? `issues { vehicle { ${inner} } }` : `issues { code vehicle { ${inner} } }`;
  return `${HEADER} { vehicle(id: "veh-prop-1") { ${inner} } }`;
});

/** Many spreads of a few fragments, side by side. */
const manySpreads = fc
  .tuple(fc.integer({ min: 1, max: 500 }), fc.integer({ min: 1, max: 5 }), selectionSet("Vehicle", 2))
  .map(([count, kinds, body]) => {
    const spreads = Array.from({ length: count }, (_, i) => `...S${i % kinds}`).join(" ");
    const fragments = Array.from({ length: kinds }, (_, i) => `fragment S${i} on Vehicle ${body}`).join(" ");
    return `${HEADER} { vehicles(first: 3) { edges { node { ${spreads} } } } } ${fragments}`;
  });

/** A random tree over the schema. */
const randomTree = selectionSet("Query", 4).map((s) => `${HEADER} ${s}`);

/** Operations HTTP does not run, syntax errors, and text that is no GraphQL at all. */
const oddities = fc.oneof(
  fc.constantFrom(
    "subscription { signalUpdated { code } }",
    "mutation { __typename }",
    "{ vehicles(first: $undeclared) { totalCount } }",
    "{ ...Missing }",
    "fragment A on Vehicle { ...B } fragment B on Vehicle { ...A } { vehicle(id: \"x\") { ...A } }",
    "{ vehicle(id: \"x\") { id } } { vehicle(id: \"y\") { id } }",
    "",
    "{",
    "{ a: vehicle(id: \"x\") { id } a: vehicle(id: \"y\") { id } }",
  ),
  fc.string({ maxLength: 200 }),
  fc.integer({ min: 1, max: 5_000 }).map((n) => `{ ${"vehicle(id: \"x\") { ".repeat(n)}id${" }".repeat(n)} }`),
);

/** Any of the above. */
export const graphqlDocument: fc.Arbitrary<string> = fc.oneof(randomTree, manyAliases, fragmentChain, deepNesting, manySpreads, oddities);

/** Documents the limit checks accept or refuse (all valid GraphQL syntax), for measuring their work. */
export const wellFormedDocument: fc.Arbitrary<string> = fc.oneof(randomTree, manyAliases, fragmentChain, deepNesting, manySpreads);

/** Variables for `graphqlDocument`'s `$flag`, sometimes of the wrong type. */
export const graphqlVariables: fc.Arbitrary<Record<string, unknown> | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.record({ flag: fc.oneof(fc.boolean(), fc.constant(null), fc.string({ maxLength: 5 }), fc.integer()) }),
);
