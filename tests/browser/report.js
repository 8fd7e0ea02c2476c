/* The report of a household the register missed, in a real browser (Debian's Chromium via
   playwright-core) against `census serve`: tests/browser/test_report_browser.py runs it in
   three phases around the officer's work, which it does through the API.

   phase "report": from the sign-in screen ("Kartu keluarga tidak ditemukan?") to the form,
     its errors in both languages, the area chosen from the lists by keyboard, the report
     sent, its reference shown and looked up ("received").
   phase "planned": the lookup says an officer's visit is planned.
   phase "enrolled": the lookup says the household is registered and to sign in; the family
     signs in with its KK and a NIK, sets a password, and sends a correction.
   Screenshots to the artefacts folder; axe-core on each view. Prints "REFERENCE <code>". */
"use strict";

const fs = require("fs");
const path = require("path");
const assert = require("assert/strict");
const { launch } = require("./chromium");  // Debian's Chromium, the flags in one place

const config = JSON.parse(process.env.CENSUS_BROWSER_CONFIG || "{}");
const BASE = config.base_url;
const OUT = config.artifacts;
const AXE = require.resolve("axe-core/axe.min.js");
const PHONE = { width: 390, height: 844 };

function log(message) { process.stdout.write(message + "\n"); }

async function screenshot(page, name) {
  const file = path.join(OUT, "report-" + name + ".png");
  await page.screenshot({ path: file, fullPage: true });
  log("  screenshot " + path.relative(process.cwd(), file));
}

async function axe(page, view) {
  if (!(await page.evaluate(() => !!window.axe))) await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] }
  }));
  for (const v of result.violations) log(`  axe ${view}: ${v.impact} ${v.id} (${v.nodes.length}) ${v.help}`);
  assert.deepEqual(result.violations.map((v) => v.id + ": " + v.nodes.map((n) => n.target.join(" ")).join(", ")), [], "axe on " + view);
  const unlabelled = await page.$$eval("input, select, textarea", (controls) => controls.filter((c) => !c.labels.length).map((c) => c.id));
  assert.deepEqual(unlabelled, [], "unlabelled controls on " + view);
}

async function newPage(browser) {
  const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true, locale: "id-ID", bypassCSP: true });
  const page = await context.newPage();
  page.problems = [];
  page.on("pageerror", (error) => page.problems.push("page error: " + error.message));
  return page;
}

/* Tab to the element `id` from where the focus is (at most 60 presses): keyboard only. */
async function tabTo(page, id) {
  for (let i = 0; i < 60; i += 1) {
    if (await page.evaluate((want) => document.activeElement && document.activeElement.id === want, id)) return;
    await page.keyboard.press("Tab");
  }
  throw new Error("Tab never reached #" + id);
}

async function type(page, id, text) { await tabTo(page, id); await page.keyboard.type(text); }

/* A list's first entry, by keyboard, once the list is loaded. */
async function pickFirst(page, level) {
  const id = "area-" + level;
  await page.waitForFunction((sel) => { const s = document.getElementById(sel); return s && !s.disabled && s.options.length > 1; }, id);
  await tabTo(page, id);
  await page.keyboard.press("ArrowDown");
  await page.waitForFunction((sel) => document.getElementById(sel).value !== "", id);
  return page.inputValue("#" + id);
}

async function lookup(page, reference) {
  await page.goto(BASE + "/#report-status");
  await page.waitForSelector("#report-status-title");
  await page.fill("#reference", reference);
  await page.focus("#reference");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#report-result");
  return (await page.textContent("#report-state")).trim();
}

async function phaseReport(browser) {
  const page = await newPage(browser);
  await page.goto(BASE + "/");
  await page.waitForSelector("#signin-title");
  await tabTo(page, "report-link");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#report-title");
  assert.equal(await page.textContent("#report-title"), "Kartu keluarga tidak ditemukan?");
  await page.waitForFunction(() => document.getElementById("area-province").options.length > 1);
  await axe(page, "report_form");
  await screenshot(page, "form-id");
  // Sent empty: every required field says so, in Indonesian, then in English.
  await tabTo(page, "report-submit");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#report-kk-err");
  assert.equal(await page.getAttribute("#report-kk", "aria-invalid"), "true");
  assert.ok(await page.$("#area-sls-err"), "the SLS is required");
  await screenshot(page, "errors-id");
  await page.click("#lang");
  await page.waitForFunction(() => document.documentElement.lang === "en");
  assert.equal(await page.textContent("#report-title"), "Family card not found?");
  await axe(page, "report_errors_en");
  await screenshot(page, "errors-en");
  await page.click("#lang");
  await page.waitForFunction(() => document.documentElement.lang === "id");
  // Filled in by keyboard; the area from the lists, top down.
  await page.focus("#report-kk");
  await page.keyboard.type(config.kk);
  await type(page, "report-nik", config.nik);
  await type(page, "report-head_name", "Rahmat Hidayat");
  const chosen = [];
  for (const level of ["province", "regency", "district", "village", "sls"]) chosen.push(await pickFirst(page, level));
  await type(page, "report-address", "Jl. Kebun Bunga No. 12");
  await type(page, "report-phone", "0812 3456 7890");
  await screenshot(page, "filled-id");
  await tabTo(page, "report-submit");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#report-reference");
  const reference = (await page.textContent("#report-reference")).trim();
  assert.match(reference, /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]$/);
  await axe(page, "report_sent");
  await screenshot(page, "sent-id");
  log("REFERENCE " + reference);
  log("SLS " + chosen[chosen.length - 1]);
  await page.click("#report-follow");
  await page.waitForSelector("#report-status-title");
  assert.equal(await page.inputValue("#reference"), reference, "the lookup starts from the reference just given");
  assert.equal(await lookup(page, reference), "Diterima, menunggu jadwal kunjungan petugas");
  await axe(page, "report_status");
  await screenshot(page, "status-received-id");
  assert.deepEqual(page.problems, []);
  await page.context().close();
}

async function phasePlanned(browser) {
  const page = await newPage(browser);
  assert.equal(await lookup(page, config.reference), "Kunjungan petugas sudah dijadwalkan");
  await screenshot(page, "status-planned-id");
  await page.context().close();
}

async function phaseEnrolled(browser) {
  const page = await newPage(browser);
  assert.equal(await lookup(page, config.reference), "Selesai");
  assert.match(await page.textContent("#report-next"), /masuk dengan nomor KK/);
  await page.click("#lang");
  await page.waitForFunction(() => document.documentElement.lang === "en");
  assert.equal((await page.textContent("#report-state")).trim(), "Resolved");
  await axe(page, "report_resolved_en");
  await screenshot(page, "status-enrolled-en");
  await page.click("#lang");
  await page.waitForFunction(() => document.documentElement.lang === "id");
  await page.click("#report-signin");
  await page.waitForSelector("#signin-title");
  await page.fill("#kk", config.kk);
  await page.fill("#nik", config.nik);
  await page.click("#signin-submit");
  await page.waitForSelector("#new_password");
  await page.fill("#new_password", "Pempek-Kapal-Selam-9");
  await page.fill("#confirm_password", "Pempek-Kapal-Selam-9");
  await page.click("#signin-submit");
  await page.waitForSelector("#household-title");
  assert.match(await page.textContent("main"), /Rahmat Hidayat/);
  await screenshot(page, "enrolled-household-id");
  await page.click("#to-review");
  await page.waitForSelector("#review-title");
  await page.click("#submit");
  await page.waitForSelector("#receipt-title");
  const facts = await page.$$eval("main dd", (dds) => dds.map((d) => d.textContent.trim()));
  assert.ok(facts.includes("2"), "the online correction is version 2: " + facts.join(" | "));
  await screenshot(page, "enrolled-corrected-id");
  assert.deepEqual(page.problems, []);
  await page.context().close();
}

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  const browser = await launch();
  try {
    if (config.phase === "report") await phaseReport(browser);
    else if (config.phase === "planned") await phasePlanned(browser);
    else await phaseEnrolled(browser);
  } finally {
    await browser.close();
  }
}

main().then(() => log("OK"), (error) => { log("FAILED: " + (error.stack || error)); process.exit(1); });
