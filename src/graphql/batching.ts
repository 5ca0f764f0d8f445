/** The rows of each key, in key order (rows of keys not asked for are ignored): a DataLoader's batch answer. */
export function groupBy<K, T>(keys: readonly K[], rows: readonly T[], keyOf: (row: T) => K): T[][] {
  const groups = new Map<K, T[]>(keys.map((key) => [key, []]));
  for (const row of rows) groups.get(keyOf(row))?.push(row);
  return keys.map((key) => groups.get(key) ?? []);
}

/** One loader per distinct argument set (e.g. per `asOf`), created on first use. */
export function perArguments<A, L>(create: (args: A) => L): (args: A) => L {
  const loaders = new Map<string, L>();
  return (args) => {
    const id = JSON.stringify(args);
    let loader = loaders.get(id);
    if (!loader) loaders.set(id, (loader = create(args)));
    return loader;
  };
}
