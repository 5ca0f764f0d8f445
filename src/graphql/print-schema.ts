import { lexicographicSortSchema, printSchema, type GraphQLSchema } from "graphql";

/** The SDL committed as `schema.graphql`: sorted, so only real changes show in a diff. */
export function printAppSchema(schema: GraphQLSchema): string {
  return `# Generated from the code by \`npm run schema\`; do not edit by hand.\n\n${printSchema(lexicographicSortSchema(schema))}\n`;
}
