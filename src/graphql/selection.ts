import { Kind, type FieldNode, type FragmentDefinitionNode, type SelectionSetNode } from "graphql";

export type Fragments = Readonly<Record<string, FragmentDefinitionNode>>;

/**
 * The fields selected directly in `sets`, looking through inline fragments and fragment spreads (a
 * look-ahead for resolvers that fetch for their children). Directives are not evaluated: a field under
 * `@skip` counts as selected, which only ever asks for more. Validation has ruled out fragment cycles.
 */
export function fieldsIn(sets: readonly SelectionSetNode[], fragments: Fragments): FieldNode[] {
  const fields: FieldNode[] = [];
  const visit = (set: SelectionSetNode) => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) fields.push(selection);
      else if (selection.kind === Kind.INLINE_FRAGMENT) visit(selection.selectionSet);
      else {
        const fragment = fragments[selection.name.value];
        if (fragment) visit(fragment.selectionSet);
      }
    }
  };
  sets.forEach(visit);
  return fields;
}

/** The selection sets of the fields among `fields` named `name`. */
export function childSets(fields: readonly FieldNode[], name: string): SelectionSetNode[] {
  return fields.flatMap((field) => (field.name.value === name && field.selectionSet ? [field.selectionSet] : []));
}
