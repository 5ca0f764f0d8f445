import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { postDelivery, vehicleError, vehicleState } from "../helpers/smartcar";
import { startTestApp, TEST_JWT_SECRET, TEST_MANAGEMENT_TOKEN } from "../helpers/test-app";
import { signToken } from "../helpers/ws-client";

/** Debian's package (`apt-get install chromium`; `.ci/run` installs it): playwright-core never downloads a browser. */
const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-quic",
  "--no-first-run",
  "--disable-sync",
];

describe("GET /fleet: the live fleet page's route", () => {
  it("serves the page, its script and stylesheet, with a CSP that allows only its own origin and nothing inline", async () => {
    const { url } = await startTestApp();
    const page = await fetch(`${url}/fleet`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    const html = await page.text();
    expect(html).toContain('<script type="module" src="/fleet/fleet.js"></script>');
    // Nothing inline: no <script> body, no style attribute, no event handler attribute.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|\sstyle=|\son[a-z]+=/i);

    const script = await fetch(`${url}/fleet/fleet.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toMatch(/javascript/);
    expect(await script.text()).toContain("graphql-transport-ws");
    expect((await fetch(`${url}/fleet/fleet.css`)).headers.get("content-type")).toMatch(/^text\/css/);

    const missing = await fetch(`${url}/fleet/nothing.js`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: "NOT_FOUND" } });
  });

  it("is off in production unless FLEET_PAGE=true", async () => {
    const production = { NODE_ENV: "production", SMARTCAR_MANAGEMENT_TOKEN: TEST_MANAGEMENT_TOKEN, JWT_SECRET: TEST_JWT_SECRET };
    const off = await startTestApp(production);
    const answer = await fetch(`${off.url}/fleet`);
    expect(answer.status).toBe(404);
    expect(await answer.json()).toMatchObject({ error: { code: "NOT_FOUND" } });
    expect((await fetch(`${off.url}/fleet/fleet.js`)).status).toBe(404);

    const on = await startTestApp({ ...production, FLEET_PAGE: "true" });
    expect((await fetch(`${on.url}/fleet`)).status).toBe(200);
    const disabled = await startTestApp({ FLEET_PAGE: "false" });
    expect((await fetch(`${disabled.url}/fleet`)).status).toBe(404);
  });
});

const haveChromium = fs.existsSync(CHROMIUM);
const describeInBrowser = haveChromium ? describe : describe.skip;

describeInBrowser(
  haveChromium
    ? "the live fleet page in headless Chromium"
    : `the live fleet page in headless Chromium: SKIPPED, ${CHROMIUM} is absent (apt-get install chromium; .ci/run installs it)`,
  () => {
    let context: BrowserContext;
    let userDataDir: string;
    beforeAll(async () => {
      userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "fleetgraph-chromium-"));
      context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    });
    afterAll(async () => {
      await context?.close();
      if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
    });

    /** A new tab (its own sessionStorage); `problems` collects console errors (CSP refusals among them) and failed loads. */
    async function openPage(problems: string[] = []): Promise<Page> {
      const page = await context.newPage();
      page.on("console", (message) => {
        if (message.type() === "error") problems.push(message.text());
      });
      page.on("pageerror", (error) => problems.push(error.message));
      page.on("response", (response) => {
        if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
      });
      return page;
    }

    it("signs in with a token, shows that user's vehicles, and shows a new delivery's value and issue without a reload", async () => {
      const { url } = await startTestApp();
      const now = Date.now();
      const mine = vehicleState({
        vehicleId: "page-vehicle-1",
        userId: "page-user",
        make: "POLESTAR",
        model: "2",
        year: 2023,
        deliveredAt: now - 60_000,
        signals: [
          { code: "tractionbattery-stateofcharge", body: { value: 55, unit: "percent" }, oemUpdatedAt: now - 60_000 },
          { code: "tractionbattery-range", body: { value: 301.4, unit: "km" }, oemUpdatedAt: now - 60_000 },
          { code: "closure-islocked", body: { value: true }, oemUpdatedAt: now - 60_000 },
          { code: "location-preciselocation", body: { latitude: 52.52, longitude: 13.405, heading: 90 }, oemUpdatedAt: now - 60_000 },
        ],
      });
      const theirs = vehicleState({ vehicleId: "someone-elses-vehicle", userId: "other-user", signals: [{ code: "odometer-traveleddistance" }] });
      for (const delivery of [mine, theirs]) expect((await postDelivery(url, delivery)).status).toBe(200);

      const problems: string[] = [];
      const page = await openPage(problems);
      await page.goto(`${url}/fleet`);
      await page.fill("#token", await signToken({ sub: "page-user" }));
      await page.click("button[type=submit]");

      const row = page.locator('tr[data-vehicle-id="page-vehicle-1"]');
      await row.waitFor({ timeout: 20_000 });
      expect(await row.locator('[data-column="charge"]').textContent()).toBe("55 %");
      expect(await row.locator('[data-column="range"]').textContent()).toBe("301 km");
      expect(await row.locator('[data-column="lock"]').textContent()).toBe("locked");
      expect(await row.locator('[data-column="location"]').textContent()).toBe("52.5200, 13.4050");
      expect(await row.locator('[data-column="fresh"]').textContent()).toMatch(/^\d+ (s|min)$/);
      expect(await page.locator('#map [data-vehicle-id="page-vehicle-1"]').count()).toBe(1);
      expect(await page.locator('tr[data-vehicle-id="someone-elses-vehicle"]').count()).toBe(0);
      expect(await page.locator("#issues").textContent()).toBe("none");
      // Both subscriptions listen once the page says so.
      await page.locator("#status", { hasText: /^live$/ }).waitFor({ timeout: 20_000 });
      // Survives only as long as the document: a reload would lose it.
      await page.evaluate('document.body.setAttribute("data-loaded-once", "yes")');

      const charged = vehicleState({
        vehicleId: "page-vehicle-1",
        userId: "page-user",
        make: "POLESTAR",
        model: "2",
        year: 2023,
        signals: [
          { code: "tractionbattery-stateofcharge", body: { value: 56, unit: "percent" } },
          { code: "closure-islocked", body: { value: false } },
        ],
      });
      expect((await postDelivery(url, charged)).body).toMatchObject({ status: "applied" });
      await row.locator('[data-column="charge"]', { hasText: "56 %" }).waitFor({ timeout: 20_000 });
      // Each signal is its own change: the lock's may arrive a moment after the charge's.
      await row.locator('[data-column="lock"]', { hasText: /^unlocked$/ }).waitFor({ timeout: 20_000 });
      expect(await row.locator('[data-column="lock"]').textContent()).toBe("unlocked");

      const unreachable = vehicleError({
        vehicleId: "page-vehicle-1",
        userId: "page-user",
        errors: [{ type: "CONNECTED_SERVICES_ACCOUNT", code: "VEHICLE_UNREACHABLE", state: "ERROR", description: "The vehicle is out of reach" }],
      });
      expect((await postDelivery(url, unreachable)).body).toMatchObject({ status: "applied" });
      const issue = page.locator("#issues li", { hasText: "CONNECTED_SERVICES_ACCOUNT · VEHICLE_UNREACHABLE" });
      await issue.waitFor({ timeout: 20_000 });
      expect(await issue.textContent()).toContain("POLESTAR 2 2023");
      expect(await issue.textContent()).toContain("The vehicle is out of reach");
      expect(await page.locator("#summary").textContent()).toBe("1 vehicle, 1 open issue");

      // A vehicle the page has never seen arrives through the subscription, and is fetched.
      const newcomer = vehicleState({ vehicleId: "page-vehicle-2", userId: "page-user", make: "BYD", model: "Seal", signals: [{ code: "charge-ischarging", body: { value: true } }] });
      expect((await postDelivery(url, newcomer)).body).toMatchObject({ status: "applied" });
      const second = page.locator('tr[data-vehicle-id="page-vehicle-2"]');
      await second.waitFor({ timeout: 20_000 });
      expect(await second.locator('[data-column="charging"]').textContent()).toBe("charging");
      expect(await page.locator("#summary").textContent()).toBe("2 vehicles, 1 open issue");

      expect(await page.evaluate('document.body.getAttribute("data-loaded-once")')).toBe("yes");
      expect(await page.evaluate('sessionStorage.getItem("fleetgraph.token")')).toMatch(/^ey/);
      expect(problems).toEqual([]);
    });

    /** Signs in as `userId` and waits until both subscriptions listen. */
    async function signInLive(url: string, userId: string, problems: string[]): Promise<Page> {
      const page = await openPage(problems);
      await page.goto(`${url}/fleet`);
      await page.fill("#token", await signToken({ sub: userId }));
      await page.click("button[type=submit]");
      await page.locator("#status", { hasText: /^live$/ }).waitFor({ timeout: 20_000 });
      return page;
    }

    /** The texts of a row's cells, by column. */
    async function cells(page: Page, vehicleId: string): Promise<Record<string, string>> {
      return page.evaluate(
        `Object.fromEntries([...document.querySelectorAll('tr[data-vehicle-id="${vehicleId}"] [data-column]')].map((cell) => [cell.dataset.column, cell.textContent]))`,
      );
    }

    /** One vehicle with a well-formed value on every column the page shows. */
    function wellFormed(vehicleId: string, userId: string, make: string): Record<string, unknown> {
      return vehicleState({
        vehicleId,
        userId,
        make,
        model: "Seal",
        signals: [
          { code: "tractionbattery-stateofcharge", body: { value: 55, unit: "percent" } },
          { code: "tractionbattery-range", body: { value: 301.4, unit: "km" } },
          { code: "odometer-traveleddistance", body: { value: 12_345.6, unit: "km" } },
          { code: "charge-detailedchargingstatus", body: { value: "NOT_CHARGING" } },
          { code: "closure-islocked", body: { value: true } },
          { code: "location-preciselocation", body: { latitude: 52.52, longitude: 13.405 } },
        ],
      });
    }
    const WELL_FORMED_CELLS = { charge: "55 %", range: "301 km", odometer: "12,346 km", charging: "not charging", lock: "locked", location: "52.5200, 13.4050" };

    it("shows every vehicle when one vehicle's signal bodies have unexpected shapes: a placeholder in those cells, the sent value elsewhere", async () => {
      const { url } = await startTestApp();
      // Smartcar's bodies are stored as sent: any JSON reaches the page.
      const odd = vehicleState({
        vehicleId: "odd-vehicle",
        userId: "odd-user",
        make: "ODD",
        signals: [
          { code: "tractionbattery-stateofcharge", body: { value: { latitude: null } } },
          { code: "tractionbattery-range", body: { value: 301.4, unit: { name: "km" } } },
          { code: "odometer-traveleddistance", body: { value: null, unit: "km" } },
          { code: "charge-ischarging", body: { value: { latitude: 1 } } },
          { code: "closure-islocked", body: { value: [true] } },
          { code: "location-preciselocation", body: { value: { latitude: "x" } } },
        ],
      });
      const bare = vehicleState({
        vehicleId: "bare-vehicle",
        userId: "odd-user",
        make: "BARE",
        signals: [
          { code: "tractionbattery-stateofcharge", body: "55" },
          { code: "tractionbattery-range", body: 301 },
          { code: "odometer-traveleddistance", body: { value: 12 } },
          { code: "charge-detailedchargingstatus", body: { value: "" } },
          { code: "closure-islocked", body: [] },
          { code: "location-preciselocation", body: { latitude: 52.52, longitude: "east" } },
        ],
      });
      for (const delivery of [odd, bare, wellFormed("fine-vehicle", "odd-user", "FINE")]) {
        expect((await postDelivery(url, delivery)).body).toMatchObject({ status: "applied" });
      }

      const problems: string[] = [];
      const page = await signInLive(url, "odd-user", problems);
      expect(await page.locator("#summary").textContent()).toBe("3 vehicles, 0 open issues");
      expect(await cells(page, "fine-vehicle")).toEqual({ ...WELL_FORMED_CELLS, fresh: expect.stringMatching(/^\d+ s$/) });
      // What cannot be read shows "?", what is absent "—"; a unit that is no text is left out.
      expect(await cells(page, "odd-vehicle")).toEqual({
        charge: "?",
        range: "301",
        odometer: "—",
        charging: "?",
        lock: "?",
        location: "?",
        fresh: expect.stringMatching(/^\d+ s$/),
      });
      expect(await cells(page, "bare-vehicle")).toEqual({
        charge: "—",
        range: "—",
        odometer: "12",
        charging: "—",
        lock: "—",
        location: "?",
        fresh: expect.stringMatching(/^\d+ s$/),
      });
      // Only a position with numbers for both coordinates is plotted.
      expect(await page.locator("#map [data-vehicle-id]").evaluateAll((dots) => dots.map((dot) => dot.getAttribute("data-vehicle-id")))).toEqual(["fine-vehicle"]);
      expect(problems).toEqual([]);
    });

    it("keeps updating after a live update whose body has an unexpected shape", async () => {
      const { url } = await startTestApp();
      for (const delivery of [wellFormed("live-1", "live-user", "ALPHA"), wellFormed("live-2", "live-user", "BETA")]) {
        expect((await postDelivery(url, delivery)).body).toMatchObject({ status: "applied" });
      }
      const problems: string[] = [];
      const page = await signInLive(url, "live-user", problems);
      expect(await cells(page, "live-2")).toMatchObject(WELL_FORMED_CELLS);

      const odd = vehicleState({
        vehicleId: "live-2",
        userId: "live-user",
        make: "BETA",
        model: "Seal",
        signals: [{ code: "location-preciselocation", body: { value: { latitude: "x" } } }],
      });
      const charged = vehicleState({
        vehicleId: "live-1",
        userId: "live-user",
        make: "ALPHA",
        model: "Seal",
        signals: [{ code: "tractionbattery-stateofcharge", body: { value: 56, unit: "percent" } }],
      });
      const unlocked = vehicleState({
        vehicleId: "live-2",
        userId: "live-user",
        make: "BETA",
        model: "Seal",
        signals: [{ code: "closure-islocked", body: { value: false } }],
      });
      // Deliveries after the odd one still reach the page: on another vehicle, and on the same one.
      for (const delivery of [odd, charged, unlocked]) expect((await postDelivery(url, delivery)).body).toMatchObject({ status: "applied" });
      await page.locator('tr[data-vehicle-id="live-1"] [data-column="charge"]', { hasText: /^56 %$/ }).waitFor({ timeout: 20_000 });
      const second = page.locator('tr[data-vehicle-id="live-2"]');
      await second.locator('[data-column="lock"]', { hasText: /^unlocked$/ }).waitFor({ timeout: 20_000 });
      await second.locator('[data-column="location"]', { hasText: /^\?$/ }).waitFor({ timeout: 20_000 });
      expect(await cells(page, "live-2")).toMatchObject({ ...WELL_FORMED_CELLS, lock: "unlocked", location: "?" });
      expect(await page.locator("#map [data-vehicle-id]").evaluateAll((dots) => dots.map((dot) => dot.getAttribute("data-vehicle-id")))).toEqual(["live-1"]);
      expect(problems).toEqual([]);
    });

    it("refuses a token the API refuses, and stays signed out", async () => {
      const { url } = await startTestApp();
      const page = await openPage();
      await page.goto(`${url}/fleet`);
      await page.fill("#token", await signToken({ sub: "page-user", expiresIn: -60 }));
      await page.click("button[type=submit]");
      await page.locator("#sign-in-error", { hasText: "The token was refused" }).waitFor({ timeout: 20_000 });
      expect(await page.locator("#fleet").isHidden()).toBe(true);
      expect(await page.evaluate('sessionStorage.getItem("fleetgraph.token")')).toBeNull();
    });

    it("against a development API without JWT_SECRET, signs in without a token and shows every vehicle", async () => {
      const { url } = await startTestApp({ JWT_SECRET: undefined });
      for (const userId of ["open-user-1", "open-user-2"]) {
        const delivery = vehicleState({ vehicleId: `open-${userId}`, userId, signals: [{ code: "odometer-traveleddistance", body: { value: 12_345.6, unit: "km" } }] });
        expect((await postDelivery(url, delivery)).status).toBe(200);
      }
      const problems: string[] = [];
      const page = await openPage(problems);
      await page.goto(`${url}/fleet`);
      await page.click("button[type=submit]");
      await page.locator("#status", { hasText: /^live$/ }).waitFor({ timeout: 20_000 });
      await page.locator('tr[data-vehicle-id="open-open-user-1"]').waitFor({ timeout: 20_000 });
      expect(await page.locator('tr[data-vehicle-id="open-open-user-2"] [data-column="odometer"]').textContent()).toBe("12,346 km");
      expect(problems).toEqual([]);
    });
  },
);
