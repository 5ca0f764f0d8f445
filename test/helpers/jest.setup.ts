// Integration tests start databases and servers; give slow shared machines room.
jest.setTimeout(60_000);

// Output on the console is a warning nobody reads: a test that causes any fails, with what was printed.
const METHODS = ["log", "info", "warn", "error", "debug", "trace"] as const;
let printed: string[] = [];

beforeEach(() => {
  printed = [];
  for (const method of METHODS) {
    jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      printed.push(`console.${method}: ${args.map(String).join(" ")}`);
    });
  }
});

afterEach(() => {
  for (const method of METHODS) (console[method] as jest.Mock).mockRestore?.();
  if (printed.length > 0) throw new Error(`unexpected console output:\n${printed.join("\n")}`);
});
