import { bucketCount, parseIntervalSeconds } from "../../src/signals/series-interval";

describe("parseIntervalSeconds", () => {
  it.each([
    ["PT30S", 30],
    ["PT15M", 900],
    ["PT1H", 3600],
    ["P1D", 86_400],
    ["P1DT12H", 129_600],
    ["pt1h30m", 5400],
  ])("reads %s as %d seconds", (text, seconds) => {
    expect(parseIntervalSeconds(text)).toBe(seconds);
  });

  it.each(["", "P", "PT", "P1DT", "P1M", "P1Y", "PT0S", "15m", "PT1.5H", "-PT1H", "PT1H junk", "P36526D", "P99999999999999999999D"])("refuses %j", (text) => {
    expect(parseIntervalSeconds(text)).toBeUndefined();
  });
});

describe("bucketCount", () => {
  const from = new Date("2026-01-01T00:00:00Z");
  it("covers the range, the last bucket reaching past its end", () => {
    expect(bucketCount(from, new Date("2026-01-01T01:00:00Z"), 1800)).toBe(2);
    expect(bucketCount(from, new Date("2026-01-01T01:00:01Z"), 1800)).toBe(3);
  });
});
