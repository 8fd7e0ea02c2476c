/* The API reference (/api/) in Debian's Chromium, under the site's own CSP: Swagger UI must
   load the generated OpenAPI document and draw every operation with no CSP refusal and no
   page error. axe-core then checks the page in a second context (one that bypasses the CSP,
   only so that axe can be injected). A full-page screenshot goes to the given file.

   Usage: node tests/browser/api_reference.js  (configuration as JSON in CENSUS_BROWSER_CONFIG:
   {"base_url", "screenshot", "operations": <how many operations docs/openapi.json has>})
   Prints "FIGURES {...}" and exits 0 only if every check passed. */
"use strict";

const assert = require("assert/strict");
const { launch } = require("./chromium");  // Debian's Chromium, the flags in one place

const config = JSON.parse(process.env.CENSUS_BROWSER_CONFIG || "{}");
const AXE = require.resolve("axe-core/axe.min.js");

function log(message) { process.stdout.write(message + "\n"); }

async function open(browser, bypassCSP) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1, bypassCSP });
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (error) => problems.push("page error: " + error.message));
  page.on("console", (message) => { if (message.type() === "error") problems.push("console: " + message.text()); });
  const answer = await page.goto(config.base_url + "/api/", { waitUntil: "load" });
  assert.equal(answer.status(), 200);
  assert.match(answer.headers()["content-security-policy"], /default-src 'self'/);
  await page.waitForSelector(".opblock", { timeout: 30000 });
  return { page, problems };
}

async function main() {
  assert.ok(config.base_url && config.screenshot && config.operations, "CENSUS_BROWSER_CONFIG is incomplete");
  const browser = await launch();
  const figures = {};
  try {
    log("Chromium " + browser.version());
    const { page, problems } = await open(browser, false);
    figures.operations = await page.locator(".opblock").count();
    figures.title = (await page.locator(".info .title").innerText()).split("\n")[0];
    assert.equal(figures.operations, config.operations, "every operation of the document is drawn");
    // Open the first operation: its parameters and answers render too.
    await page.locator(".opblock-summary").first().click();
    await page.waitForSelector(".opblock-body .responses-wrapper", { timeout: 10000 });
    await page.locator(".opblock-summary").first().click();
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    await page.screenshot({ path: config.screenshot, fullPage: true });
    assert.deepEqual(problems, [], "no CSP refusal and no error under the site's CSP");
    await page.context().close();

    const axeRun = await open(browser, true);
    await axeRun.page.addScriptTag({ path: AXE });
    const result = await axeRun.page.evaluate(async () => window.axe.run(document));
    figures.axe_violations = result.violations.map((v) => `${v.id} (${v.impact}, ${v.nodes.length})`);
    await axeRun.page.context().close();
  } finally {
    await browser.close();
  }
  log("FIGURES " + JSON.stringify(figures));
}

main().then(() => log("OK"), (error) => { log("FAILED: " + (error.stack || error)); process.exit(1); });
