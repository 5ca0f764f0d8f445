import fc from "fast-check";
import { EARTH_RADIUS_METERS, signalConditionPredicates } from "../../src/vehicles/vehicle-signal-filter";

const rad = (degrees: number) => (degrees * Math.PI) / 180;
const deg = (radians: number) => (radians * 180) / Math.PI;

/** The point `meters` from (lat, lng) along `bearing` degrees, on the sphere `near` measures on. */
function destination(lat: number, lng: number, bearing: number, meters: number): { latitude: number; longitude: number } {
  const angle = meters / EARTH_RADIUS_METERS;
  const phi = Math.asin(Math.sin(rad(lat)) * Math.cos(angle) + Math.cos(rad(lat)) * Math.sin(angle) * Math.cos(rad(bearing)));
  const lambda =
    rad(lng) + Math.atan2(Math.sin(rad(bearing)) * Math.sin(angle) * Math.cos(rad(lat)), Math.cos(angle) - Math.sin(rad(lat)) * Math.sin(phi));
  return { latitude: deg(phi), longitude: ((deg(lambda) + 540) % 360) - 180 };
}

describe("near: the bounding box in front of the distance", () => {
  it("never leaves out a point within the radius", () => {
    fc.assert(
      fc.property(
        fc.double({ min: -90, max: 90, noNaN: true }),
        fc.double({ min: -180, max: 180, noNaN: true }),
        fc.double({ min: 1, max: Math.PI * EARTH_RADIUS_METERS, noNaN: true }),
        fc.double({ min: 0, max: 360, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (latitude, longitude, radiusMeters, bearing, fraction) => {
          const [{ parameters }] = signalConditionPredicates([{ code: "c", test: { kind: "near", latitude, longitude, radiusMeters } }], undefined);
          const point = destination(latitude, longitude, bearing, radiusMeters * fraction * 0.999999);
          const within = (value: number, min: unknown, max: unknown) => min === undefined || ((min as number) <= value && value <= (max as number));
          expect(within(point.latitude, parameters.sc0_latMin, parameters.sc0_latMax)).toBe(true);
          expect(within(point.longitude, parameters.sc0_lngMin, parameters.sc0_lngMax)).toBe(true);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it("narrows longitudes away from the poles and the antimeridian", () => {
    const [{ parameters }] = signalConditionPredicates([{ code: "c", test: { kind: "near", latitude: 48.8656, longitude: 2.3212, radiusMeters: 5_000 } }], undefined);
    expect(parameters.sc0_latMax as number).toBeCloseTo(48.8656 + 0.045, 3);
    expect(parameters.sc0_lngMax as number).toBeCloseTo(2.3212 + 0.0684, 3);
  });
});
