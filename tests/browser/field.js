/* The officers' app in a real browser: Debian's Chromium (/usr/bin/chromium) driven by
   playwright-core against `census serve` on DynamoDB Local (tests/browser/test_field_browser.py
   starts it, generates the worklists and passes tokens and households). A phone-sized window.

   The scenario: first load (size, slow-3G time to usable, axe, keyboard), sign in with the
   keyboard through the OAuth stand-in, sync; go offline; two failed visits (one by keyboard
   only, one double-tapped, one with the position), one full interview (a validation error in
   both languages on the way) and a visit to a household that then responds online; close and
   reopen the page offline (app and outbox still there); the phone's token expires; back online
   the queue waits for sign-in, the first answer is lost on the way back (the retry must reuse
   its Idempotency-Key); then: every record is filed exactly once (checked through the API),
   the progress figures moved by exactly that, the household that responded online shows as
   done and its visit is reported, not lost. axe-core on every view. Sign-out wipes the phone.
   Then a resident's report resolved in the app, and a NEW HOUSEHOLD FOUND: offline, from the
   SLS on the worklist (by keyboard), the enrolment interview, queued; online again it is sent
   once (its Idempotency-Key retried by hand answers the same receipt), the API shows the
   household, the figures moved once and its audit record (identifiers only).
   Screenshots go to test-artifacts/field/screenshots/ (docs/field-app/ holds the curated ones).

   Usage: node tests/browser/field.js (configuration as JSON in CENSUS_BROWSER_CONFIG).
   Exit status 0 only if every check passed. */
"use strict";

const fs = require("fs");
const path = require("path");
const assert = require("assert/strict");
const { launch } = require("./chromium");  // Debian's Chromium, the flags in one place

const config = JSON.parse(process.env.CENSUS_BROWSER_CONFIG || "{}");
const BASE = config.base_url;
const OUT = config.artifacts;
const SHOTS = config.screenshots;
const AXE = require.resolve("axe-core/axe.min.js");
const PHONE = { width: 390, height: 844 };
const [A, B, C, D] = config.households;
const POSITION = { latitude: -2.9909, longitude: 104.7566, accuracy: 14 };
const figures = {};
const problems = [];  // page errors of every page, printed on failure
let shot = 0;

function log(message) { process.stdout.write(message + "\n"); }


async function newContext(browser) {
  return browser.newContext({ viewport: PHONE, deviceScaleFactor: 1, isMobile: true, hasTouch: true, locale: "id-ID",
    permissions: ["geolocation"], geolocation: POSITION, serviceWorkers: "allow" });
}

function watch(page) {
  page.problems = [];
  page.on("pageerror", (error) => { page.problems.push("page error: " + error.message); problems.push(error.stack || error.message); });
  page.on("console", (message) => {
    if (message.type() === "error" && !/Failed to load resource|net::ERR_/.test(message.text())) page.problems.push("console: " + message.text());
  });
  return page;
}

async function screenshot(page, name) {
  shot += 1;
  const file = path.join(SHOTS, String(shot).padStart(2, "0") + "-" + name + ".png");
  await page.screenshot({ path: file, fullPage: true });
  log("  screenshot " + path.relative(process.cwd(), file));
}

/* axe-core, injected from node (the page's CSP is not bypassed: evaluate runs outside it). */
async function axe(page, view) {
  if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(fs.readFileSync(AXE, "utf8"));
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] }
  }));
  for (const v of result.violations) log(`  axe ${view}: ${v.impact} ${v.id} (${v.nodes.length}) ${v.help} ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  assert.deepEqual(result.violations.map((v) => v.id), [], "axe on " + view);
  figures["axe_" + view] = { passes: result.passes.length, violations: 0 };
}

/* Keyboard only: Tab until the element `id` has the focus (proves it is reachable). */
async function tabTo(page, id, limit) {
  for (let i = 0; i < (limit || 60); i++) {
    if (await page.evaluate((x) => document.activeElement && document.activeElement.id === x, id)) return;
    await page.keyboard.press("Tab");
  }
  throw new Error("Tab never reached #" + id);
}

async function api(method, url, token, body, headers) {
  const all = Object.assign({ "Content-Type": "application/json" }, token ? { Authorization: "Bearer " + token } : {}, headers || {});
  const response = await fetch(BASE + url, { method: method, headers: all, body: body ? JSON.stringify(body) : undefined });
  return { status: response.status, data: await response.json() };
}

async function outboxCounts(page) {
  return page.evaluate(() => new Promise((resolve) => {
    const open = indexedDB.open("census-field");
    open.onsuccess = () => {
      const tx = open.result.transaction(["outbox", "households"]);
      const items = tx.objectStore("outbox").getAll();
      const households = tx.objectStore("households").getAll();
      tx.oncomplete = () => resolve({ items: items.result, households: households.result.length,
        found: households.result.filter((hh) => hh.entry.reason === "found").map((hh) => hh.kk) });
    };
  }));
}

async function signInOnStandIn(page, officer) {
  await page.waitForSelector("#officer_id");
  assert.equal(await page.evaluate(() => document.activeElement.id), "officer_id", "the officer id field has the focus");
  await page.keyboard.type(officer);
  await page.keyboard.press("Enter");
}

// ------------------------------------------------------------------ scenarios

async function firstLoad(browser) {
  log("first load");
  const context = await newContext(browser);
  const page = watch(await context.newPage());
  let sent = 0, raw = 0;
  page.on("requestfinished", async (request) => {
    try {
      const sizes = await request.sizes();
      const body = await (await request.response()).body();
      sent += sizes.responseBodySize; raw += body.length;
    } catch (e) { /* redirects */ }
  });
  await page.goto(BASE + "/field/", { waitUntil: "networkidle" });
  await page.waitForSelector("#signin");
  figures.first_load_bytes_sent = sent;
  figures.first_load_bytes = raw;
  assert.ok(sent < 46 * 1024, "first load sends " + sent);  // as tests/unit/test_web_site.py
  assert.equal(await page.getAttribute("html", "lang"), "id");
  await screenshot(page, "signin");
  await axe(page, "signin");
  await context.close();

  // A figure, not a check: DevTools' "Slow 3G" (400 ms round trip, 400 kbit/s down), a cold cache.
  const slow = await newContext(browser);
  const slowPage = await slow.newPage();
  const cdp = await slow.newCDPSession(slowPage);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 400, downloadThroughput: 50 * 1024, uploadThroughput: 50 * 1024 });
  const begun = Date.now();
  await slowPage.goto(BASE + "/field/");
  await slowPage.waitForSelector("#signin");
  figures.slow_3g_usable_ms = Date.now() - begun;
  await slow.close();
}

async function signInAndSync(page) {
  log("sign in with the keyboard, sync");
  await page.goto(BASE + "/field/");
  await page.waitForSelector("#signin");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.id), "skip");
  await tabTo(page, "signin");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#officer_id");
  await screenshot(page, "local-sign-in");
  await axe(page, "local_sign_in");
  await signInOnStandIn(page, config.officer);
  await page.waitForSelector("#worklist-title");
  await page.waitForSelector("#hh-" + A.kk);
  await page.waitForFunction(() => /Sinkron /.test(document.getElementById("sync-at").textContent));
  const rows = await page.$$eval("a.hh", (links) => links.length);
  const list = await api("GET", "/v1/officers/me/worklist?limit=200", config.officer_token);
  assert.equal(rows, list.data.households.length, "every household of the worklist is listed");
  const stored = await outboxCounts(page);
  assert.equal(stored.households, rows, "the worklist is on the phone");
  assert.match(await page.textContent("#hh-" + A.kk), /Belum mengisi/);
  await screenshot(page, "worklist");
  await axe(page, "worklist");
  // Search by name, then by KK; sort by address.
  await page.fill("#search", A.head.split(" ")[0]);
  assert.ok(await page.$("#hh-" + A.kk));
  await page.fill("#search", B.kk);
  assert.deepEqual(await page.$$eval("a.hh", (links) => links.map((l) => l.id)), ["hh-" + B.kk]);
  await page.fill("#search", "");
  await page.selectOption("#sort", "address");
  await page.selectOption("#sort", "sls");
}

async function progress() {
  const answer = await api("GET", "/v1/areas/" + config.sls + "/progress", config.supervisor_token);
  assert.equal(answer.status, 200, JSON.stringify(answer.data));
  return answer.data;
}

async function visitValidationInBothLanguages(page) {
  log("a validation error in both languages (visit without an outcome)");
  await page.click("#hh-" + B.kk);
  await page.waitForSelector("#household-title");
  await screenshot(page, "household");
  await axe(page, "household");
  await page.click("#record-visit");
  await page.waitForSelector("#visit-title");
  await page.click("#save-visit");
  await page.waitForSelector("#outcome-err");
  assert.equal((await page.textContent("#outcome-err")).trim(), "Wajib diisi.");
  await page.click("#lang");
  await page.waitForFunction(() => document.documentElement.lang === "en");
  assert.equal((await page.textContent("#outcome-err")).trim(), "Required.");
  await screenshot(page, "visit-error-en");
  await axe(page, "visit_error");
  await page.click("#lang");
  await page.waitForFunction(() => document.documentElement.lang === "id");
}

async function offlineWork(context, page) {
  log("offline: two failed visits, an interview, a visit to a household that then responds online");
  await context.setOffline(true);
  await page.waitForFunction(() => /Tanpa sinyal/.test(document.getElementById("net-state").textContent));
  // B: refused, with the position (consent), double-tapped.
  await page.check("#outcome-refused");
  await page.fill("#note", "menolak di pagar");
  await page.check("#consent");
  await screenshot(page, "visit");
  await axe(page, "visit");
  await page.dblclick("#save-visit");
  await page.waitForSelector("#household-title");
  let stored = await outboxCounts(page);
  assert.equal(stored.items.length, 1, "a double tap queues one visit");
  assert.deepEqual(stored.items[0].body.position, { lat: POSITION.latitude, lon: POSITION.longitude, accuracy: POSITION.accuracy });
  assert.ok(stored.items[0].key && stored.items[0].body.recorded_at);

  // A: not at home, by keyboard only.
  await page.goto(BASE + "/field/#worklist");
  await page.waitForSelector("#hh-" + A.kk);
  await page.focus("#skip");
  await tabTo(page, "hh-" + A.kk, 80);
  await page.keyboard.press("Enter");
  await page.waitForSelector("#household-title");
  await tabTo(page, "record-visit");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#visit-title");
  await tabTo(page, "outcome-not_home");
  await page.keyboard.press("Space");
  await tabTo(page, "note");
  await page.keyboard.type("tetangga bilang sore");
  await tabTo(page, "save-visit");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#household-title");
  assert.match(await page.textContent("#queued"), /Tidak ada di rumah/);

  // C: the interview, pre-filled from the phone; a bad NIK first (both languages), then complete.
  await page.goto(BASE + "/field/#household/" + C.kk);
  await page.click("#start-interview");
  await page.waitForSelector("#interview-title");
  await page.click("#add-member");
  const uids = await page.$$eval("ol.members > li", (items) => items.map((li) => +li.id.slice(1)));
  const added = uids[uids.length - 1];
  await page.fill(`#m${added}-name`, "Bayi Baru");
  await page.fill(`#m${added}-nik`, "1671010101010000");
  await page.click("#save-interview");
  await page.waitForSelector("#summary");
  assert.equal((await page.textContent(`#m${added}-nik-err`)).trim().length > 0, true);
  const id = (await page.textContent(`#m${added}-nik-err`)).trim();
  await page.click("#lang");
  await page.waitForFunction(() => document.documentElement.lang === "en");
  const en = (await page.textContent(`#m${added}-nik-err`)).trim();
  assert.notEqual(id, en, "the NIK error in Indonesian and in English");
  assert.match(en, /NIK/);
  const summary = await page.textContent("#summary");
  assert.match(summary, /Required\./);
  assert.doesNotMatch(summary, /Wajib diisi|Status perkawinan/, "the error summary follows the language too");
  await screenshot(page, "interview-error-en");
  await axe(page, "interview_error");
  await page.click("#lang");
  await page.click(`#m${added}-remove`);
  for (const uid of uids.slice(0, -1)) {
    if (!(await page.$(`#m${uid}-marital_status`))) continue;
    const relationship = await page.evaluate((u) => document.getElementById("m" + u + "-title").textContent, uid);
    void relationship;
    if (!(await page.inputValue(`#m${uid}-marital_status`))) await page.selectOption(`#m${uid}-marital_status`, "never_married");
    if (!(await page.inputValue(`#m${uid}-religion`))) await page.selectOption(`#m${uid}-religion`, "islam");
    if (!(await page.inputValue(`#m${uid}-education`))) await page.selectOption(`#m${uid}-education`, "primary");
  }
  await screenshot(page, "interview");
  await axe(page, "interview");
  await page.click("#save-interview");
  await page.waitForSelector("#household-title");
  // D: not at home; the household then answers online from elsewhere.
  await page.goto(BASE + "/field/#household/" + D.kk);
  await page.click("#record-visit");
  await page.check("#outcome-not_home");
  await page.click("#save-visit");
  await page.waitForSelector("#household-title");
  stored = await outboxCounts(page);
  assert.deepEqual(stored.items.map((i) => [i.kk, i.body.outcome]),
    [[B.kk, "refused"], [A.kk, "not_home"], [C.kk, "interviewed"], [D.kk, "not_home"]]);
  assert.equal(new Set(stored.items.map((i) => i.key)).size, 4);
  const online = await api("POST", "/v1/households/" + D.kk + "/responses", null, config.online_response, { "Idempotency-Key": "online-" + D.kk });
  assert.equal(online.status, 201, JSON.stringify(online.data));
  assert.equal(online.data.status, "clean", "the household that answers online needs no visit any more");
  return online.data.status;
}

async function reopenOffline(context, page) {
  log("close and reopen the page, still offline; the token expires");
  await page.close();
  const again = watch(await context.newPage());
  await again.goto(BASE + "/field/#worklist");
  await again.waitForSelector("#worklist-title");
  assert.match(await again.textContent("#outbox-count"), /4 menunggu dikirim/);
  assert.match(await again.textContent("#hh-" + C.kk), /1 belum terkirim/);
  // The shift ends while offline: the phone's token is expired (it still claims validity locally,
  // so the server's 401 is what tells the app).
  await again.evaluate((token) => new Promise((resolve) => {
    const open = indexedDB.open("census-field");
    open.onsuccess = () => {
      const tx = open.result.transaction("kv", "readwrite");
      tx.objectStore("kv").put({ token: token, officer_id: "x", groups: ["officer"], expires_at: Date.now() + 3600 * 1000 }, "session");
      tx.oncomplete = resolve;
    };
  }), config.expired_token);
  await again.reload();
  await again.waitForSelector("#worklist-title");
  await screenshot(again, "offline-outbox");
  await axe(again, "offline_worklist");
  // Signing out now warns that the outbox would be lost; cancel.
  await again.click("#signout");
  await again.waitForSelector("#signout-title");
  assert.match(await again.textContent("main"), /4 item belum terkirim/);
  await screenshot(again, "signout-warning");
  await axe(again, "signout_warning");
  await again.click("#signout-cancel");
  await again.waitForSelector("#worklist-title");
  return again;
}

async function backOnline(context, page, dStatus) {
  log("back online: sign in again, the first answer is lost, the queue goes exactly once");
  let lost = 0;
  await page.route("**/v1/households/*/visits", async (route) => {
    if (lost === 0 && route.request().headers().authorization !== "Bearer " + config.expired_token) {
      lost += 1;
      await route.fetch();  // the server files it ...
      await route.abort("connectionreset");  // ... and the answer never reaches the phone
      return;
    }
    await route.continue();
  });
  await context.setOffline(false);
  await page.waitForSelector("#signin-again");  // 401 for the expired token: nothing is dropped
  assert.match(await page.textContent("#outbox-count"), /4 menunggu dikirim/);
  await screenshot(page, "session-ended");
  await page.click("#signin-again");
  await signInOnStandIn(page, config.officer);
  await page.waitForSelector("#worklist-title");
  await page.waitForFunction(() => /^0 menunggu/.test(document.getElementById("outbox-count").textContent), null, { timeout: 60000 });
  await page.waitForFunction(() => /Sinkron /.test(document.getElementById("sync-at").textContent) && !/Menyinkronkan/.test(document.getElementById("sync").textContent), null, { timeout: 60000 });
  assert.equal(lost, 1, "one answer was lost on the way");
  assert.match(await page.textContent("#outbox-count"), /1 ditolak server/);

  // The household that answered online shows as done, and its queued visit is reported.
  await page.goto(BASE + "/field/#household/" + D.kk);
  await page.waitForSelector("#household-title");
  const problem = await page.$eval(".problem p[data-code]", (p) => p.dataset.code);
  assert.equal(problem, "invalid_status_transition");
  assert.match(await page.textContent("#hh-reason"), /Tidak perlu dikunjungi/);
  await screenshot(page, "responded-online");
  await axe(page, "household_problem");
  const item = await page.$eval(".problem", (el) => el.id.replace("problem-", ""));
  await page.click("#dismiss-" + item);
  await page.waitForFunction(() => !document.querySelector(".problem"));
  return page;
}

async function checkTheTable(before, dStatus) {
  log("the table through the API: each record exactly once, progress moved by exactly that");
  const read = async (kk) => (await api("GET", "/v1/households/" + kk, config.officer_token)).data;
  const [a, b, c, d] = [await read(A.kk), await read(B.kk), await read(C.kk), await read(D.kk)];
  assert.deepEqual([a.status, a.visit_attempts], ["not_home", 1]);
  assert.deepEqual([b.status, b.visit_attempts], ["refused", 1]);
  assert.equal(c.status, "interviewed");
  assert.deepEqual([c.version, c.latest_response.version, c.latest_response.channel], [1, 1, "interview"]);
  assert.deepEqual([d.status, d.visit_attempts, d.version], [dStatus, 0, 1]);
  const after = await progress();
  const moved = {};
  for (const name of Object.keys(after)) if (typeof after[name] === "number" && after[name] !== before[name]) moved[name] = after[name] - before[name];
  const expected = { pending: -4, not_home: 1, refused: 1, interviewed: 1, responded_online: 1, to_visit: -2 };
  expected[dStatus] = (expected[dStatus] || 0) + 1;
  assert.deepEqual(moved, expected);
  figures.progress_moved = moved;
}

async function signOutWipes(page) {
  log("sign out wipes the phone");
  await page.click("#signout");
  await page.waitForSelector("#signin");
  const stored = await outboxCounts(page);
  assert.deepEqual([stored.items.length, stored.households], [0, 0]);
}

/* A household the register missed: the resident files a report; the officer holding its SLS
   sees the case (labelled, with the reference, address and head's name as reported), opens
   the enrolment interview and the resolve form (axe on each), and closes it as not found
   (double-tapped: filed once). The API then shows the report resolved. */
async function resolveACase(browser) {
  log("a report of a household the register missed, resolved as not found");
  const filed = await api("POST", "/v1/reports", null, config.report, { "Idempotency-Key": "browser-report-1" });
  assert.equal(filed.status, 202, JSON.stringify(filed.data));
  const plain = (ref) => ref.replace(/-/g, "");
  let holder = null, entry = null;
  for (const [officer, token] of Object.entries(config.officer_tokens)) {
    const list = await api("GET", "/v1/officers/me/worklist?limit=200", token);
    entry = list.data.households.find((e) => e.reference && plain(e.reference) === plain(filed.data.reference));
    if (entry) { holder = officer; break; }
  }
  assert.ok(holder, "the case is on the worklist of the officer holding its SLS");
  assert.equal(entry.reason, "not_on_register");
  const context = await newContext(browser);
  const page = watch(await context.newPage());
  await page.goto(BASE + "/field/");
  await page.click("#signin");
  await signInOnStandIn(page, holder);
  const ref = entry.reference;
  await page.waitForSelector("#hh-" + ref);
  const row = await page.textContent("#hh-" + ref);
  assert.match(row, new RegExp(config.report.head_name));
  assert.match(row, /Laporan warga: tidak ada di register/);
  assert.ok(row.indexOf(filed.data.reference) >= 0, "the list shows the report's reference as the resident has it");
  await page.click("#hh-" + ref);
  await page.waitForSelector("#case-label");
  assert.equal((await page.textContent("#case-reference")).trim(), filed.data.reference);
  assert.equal((await page.textContent("#case-address")).trim(), config.report.address);
  assert.equal((await page.textContent("#case-head")).trim(), config.report.head_name);
  await screenshot(page, "case");
  await axe(page, "case");
  await page.click("#case-enrol");
  await page.waitForSelector("#interview-title");
  assert.equal(await page.inputValue("#enrol-kk"), config.report.kk);
  await screenshot(page, "case-enrol");
  await axe(page, "case_enrol");
  await page.click("#back");
  await page.waitForSelector("#case-resolve");
  await page.click("#case-resolve");
  await page.waitForSelector("#resolve-title");
  await page.click("#save-resolve");
  await page.waitForSelector("#outcome-err");
  await page.check("input[name=outcome][value=not_found]");
  await page.waitForSelector("input[name=reason]");
  await page.check("input[name=reason][value=nobody_lives_here]");
  await screenshot(page, "case-resolve");
  await axe(page, "case_resolve");
  await page.dblclick("#save-resolve");
  await page.waitForSelector("#case-label");
  await page.waitForFunction(async () => {
    const text = document.getElementById("outbox-count").textContent;
    return /^0 /.test(text) && !/ditolak/.test(text);
  }, null, { timeout: 30000 });
  await page.waitForFunction(() => /Tidak ditemukan/.test(document.getElementById("hh-status").textContent));
  await screenshot(page, "case-resolved");
  const stored = await outboxCounts(page);
  assert.equal(stored.items.length, 0, "nothing left in the outbox");
  const lookup = await api("GET", "/v1/reports/" + filed.data.reference, null);
  assert.equal(lookup.status, 200);
  assert.equal(lookup.data.status, "resolved");
  assert.equal(lookup.data.resolution, "not_found");
  // The same outcome again (another tap, another phone) is answered again, not a second resolution.
  const again = await api("POST", "/v1/reports/" + ref + "/resolution", config.officer_tokens[holder],
    { outcome: "not_found", reason: "nobody_lives_here" }, { "Idempotency-Key": "browser-again-1" });
  assert.equal(again.status, 200, JSON.stringify(again.data));
  figures.case_resolved = { officer: holder, status: lookup.data.status, resolution: lookup.data.resolution };
  assert.deepEqual(page.problems, []);
  await context.close();
}

/* A household on no list: the officer starts "new household found" from its SLS in the
   worklist (keyboard only), offline, records the head with the shared member questions,
   saves (double tap: one item), and the household waits on the phone; back online the app
   sends it once. Checked through the API: the household, the figures and the audit trail. */
async function newHouseholdFound(browser) {
  log("a new household found on no list: enrolled offline, sent once when online");
  const found = config.found;
  const context = await newContext(browser);
  const page = watch(await context.newPage());
  await page.goto(BASE + "/field/");
  await page.click("#signin");
  await signInOnStandIn(page, config.officer);
  await page.waitForSelector("#hh-" + A.kk);
  await page.waitForFunction(() => /Sinkron /.test(document.getElementById("sync-at").textContent));
  const before = await progress();
  await context.setOffline(true);
  await page.waitForFunction(() => /Tanpa sinyal/.test(document.getElementById("net-state").textContent));
  // Offered once, above the list, whatever the list shows (here: a search that matches nothing).
  await page.fill("#search", "tidak ada yang cocok");
  await page.waitForSelector("#empty");
  assert.equal(await page.textContent("#found-start"), "Catat rumah tangga baru");
  assert.deepEqual(await page.$$eval("#found-sls option", (os) => os.map((o) => o.value)), [found.sls_code, "other"],
    "the SLS on the phone, or a typed one");
  // A typed SLS code is checked as the server would (rules.js): 14 digits of a real area.
  await page.selectOption("#found-sls", "other");
  await page.fill("#found-code", "1671");
  await page.click("#found-start");
  assert.equal(await page.getAttribute("#found-code-err", "data-code"), "invalid_area_code");
  assert.equal(await page.evaluate(() => document.activeElement.id), "found-code");
  await page.selectOption("#found-sls", found.sls_code);
  assert.equal(await page.$("#found-code"), null);
  await page.fill("#search", "");
  await screenshot(page, "found-action");
  await axe(page, "found_action");
  await page.focus("#skip");
  await tabTo(page, "found-start", 40);
  await page.keyboard.press("Enter");
  await page.waitForSelector("#interview-title");
  assert.match(await page.textContent("#interview-title"), new RegExp(found.sls_code));
  assert.equal(await page.inputValue("#enrol-kk"), "", "no KK until the officer copies it from the card");
  await axe(page, "found");
  // Saved empty: the KK, the address and the member are required (summary, then fields).
  await page.click("#save-interview");
  await page.waitForSelector("#summary");
  assert.equal(await page.getAttribute("#enrol-kk", "aria-invalid"), "true");
  assert.equal((await page.textContent("#found-address-err")).trim(), "Wajib diisi.");
  const order = await page.$$eval("#summary a", (links) => links.map((a) => a.getAttribute("href")));
  assert.deepEqual(order.slice(0, 3), ["#enrol-kk", "#found-address", "#respondent"], "the summary in page order: " + order);
  await screenshot(page, "found-error");
  await axe(page, "found_error");
  // A KK already on the worklist is not a new household.
  await page.fill("#enrol-kk", A.kk);
  await page.fill("#found-address", found.address);
  const uid = await page.$eval("ol.members > li", (li) => +li.id.slice(1));
  await page.fill(`#m${uid}-name`, found.head.name);
  await page.fill(`#m${uid}-nik`, found.head.nik);
  await page.check(`#m${uid}-sex-male`);
  await page.fill(`#m${uid}-birth_date`, found.head.birth_date);
  await page.selectOption(`#m${uid}-relationship`, "head");
  await page.selectOption(`#m${uid}-marital_status`, "married");
  await page.selectOption(`#m${uid}-religion`, "islam");
  await page.selectOption(`#m${uid}-education`, "senior_secondary");
  await page.selectOption("#respondent", found.head.nik);
  await page.click("#save-interview");
  await page.waitForSelector("#enrol-kk-err");
  assert.equal(await page.getAttribute("#enrol-kk-err", "data-code"), "household_exists");
  await screenshot(page, "found");
  await page.fill("#enrol-kk", found.kk);
  await page.dblclick("#save-interview");
  await page.waitForSelector("#found-kk");
  let stored = await outboxCounts(page);
  assert.equal(stored.items.length, 1, "a double tap queues one new household");
  const item = stored.items[0];
  assert.equal(item.kind, "household");
  assert.ok(item.key);
  assert.deepEqual([item.body.kk, item.body.sls_code, item.body.address], [found.kk, found.sls_code, found.address]);
  assert.deepEqual(item.body.response.members.map((m) => [m.nik, m.relationship]), [[found.head.nik, "head"]]);
  assert.match(await page.textContent("#hh-status"), /belum terkirim/);
  await screenshot(page, "found-queued");
  await axe(page, "found_queued");
  await page.goto(BASE + "/field/#worklist");
  await page.waitForSelector("#hh-" + found.kk);
  assert.match(await page.textContent("#hh-" + found.kk), /Rumah tangga baru/);
  assert.equal((await api("GET", "/v1/households/" + found.kk, config.supervisor_token)).status, 403, "nothing sent while offline");

  await context.setOffline(false);
  await page.waitForFunction(() => /^0 menunggu/.test(document.getElementById("outbox-count").textContent) && !/ditolak/.test(document.getElementById("outbox-count").textContent), null, { timeout: 60000 });
  await page.waitForFunction(() => /Sinkron /.test(document.getElementById("sync-at").textContent) && !/Menyinkronkan/.test(document.getElementById("sync").textContent), null, { timeout: 60000 });
  // Sent: at that sync it leaves the phone (KK, head, address, receipt); its receipt is shown
  // from memory, for this session only.
  await page.waitForSelector("#found-sent li");
  const receipt = (await page.textContent("#found-sent li")).trim();
  stored = await outboxCounts(page);
  assert.equal(stored.items.length, 0, "nothing left in the outbox");
  assert.deepEqual(stored.found, [], "no found household left in IndexedDB after delivery and a sync");
  assert.equal(await page.$("#hh-" + found.kk), null, "not listed any more");
  assert.equal(stored.households, (await api("GET", "/v1/officers/me/worklist?limit=200", config.officer_token)).data.households.length,
    "only the worklist is on the phone");
  await screenshot(page, "found-sent");
  await axe(page, "found_sent");

  const household = await api("GET", "/v1/households/" + found.kk, config.supervisor_token);
  assert.equal(household.status, 200, JSON.stringify(household.data));
  assert.deepEqual([household.data.status, household.data.version, household.data.latest_response.channel, household.data.sls_code],
    ["interviewed", 1, "interview", found.sls_code]);
  assert.deepEqual(household.data.register_members.map((m) => m.nik), [found.head.nik]);
  // The phone's Idempotency-Key, sent again: the same answer, nothing new.
  const again = await api("POST", "/v1/households", config.officer_token, item.body, { "Idempotency-Key": item.key });
  assert.equal(again.status, 200, JSON.stringify(again.data));
  assert.equal(again.data.receipt_code.replace(/-/g, ""), receipt.replace(/-/g, ""), "the same receipt");
  const after = await progress();
  const moved = {};
  for (const name of Object.keys(after)) if (typeof after[name] === "number" && after[name] !== before[name]) moved[name] = after[name] - before[name];
  assert.deepEqual(moved, { households: 1, interviewed: 1, enrolled: 1 }, "the figures moved once");
  const trail = await api("GET", "/v1/households/" + found.kk + "/audit", config.supervisor_token);
  assert.equal(trail.status, 200, JSON.stringify(trail.data));
  assert.deepEqual(trail.data.records.map((r) => [r.action, r.actor, r.area_code, r.kk]),
    [["household_found", config.officer, found.sls_code, found.kk]], "audited once, by the officer");
  const text = JSON.stringify(trail.data);
  for (const personal of [found.head.name, found.head.nik, found.address]) assert.ok(!text.includes(personal), "no personal data: " + personal);
  const today = new Date().toISOString().slice(0, 10);
  const area = await api("GET", "/v1/areas/" + found.sls_code + "/audit?day=" + today + "&limit=1000", config.supervisor_token);
  assert.equal(area.data.records.filter((r) => r.action === "household_found" && r.kk === found.kk).length, 1, "in the area's trail once");
  figures.new_household_found = { kk_sent_once: true, moved: moved, audit: trail.data.records[0].action };

  // A KK that already has a household (another officer's, so not on this phone): refused with
  // 409. Reopened, the KK field says why; dismissed, the household leaves the phone.
  log("a new household refused (409), corrected, then dismissed");
  await page.click("#found-start");
  await page.waitForSelector("#interview-title");
  await page.fill("#enrol-kk", config.taken_kk);
  await page.fill("#found-address", found.address);
  const uid2 = await page.$eval("ol.members > li", (li) => +li.id.slice(1));
  await page.fill(`#m${uid2}-name`, found.head.name);
  await page.fill(`#m${uid2}-nik`, found.head.nik);
  await page.check(`#m${uid2}-sex-male`);
  await page.fill(`#m${uid2}-birth_date`, found.head.birth_date);
  await page.selectOption(`#m${uid2}-relationship`, "head");
  await page.selectOption(`#m${uid2}-marital_status`, "married");
  await page.selectOption(`#m${uid2}-religion`, "islam");
  await page.selectOption(`#m${uid2}-education`, "senior_secondary");
  await page.selectOption("#respondent", found.head.nik);
  await page.click("#save-interview");
  await page.waitForSelector(".problem [data-code=household_exists]", { timeout: 60000 });
  const refusedItem = (await outboxCounts(page)).items[0];
  assert.equal(refusedItem.state, "failed");
  await page.click("#fix-" + refusedItem.seq);
  await page.waitForSelector("#enrol-kk-err");
  assert.equal(await page.getAttribute("#enrol-kk-err", "data-code"), "household_exists", "the KK field says why");
  assert.equal(await page.getAttribute("#enrol-kk", "aria-invalid"), "true");
  await page.goBack();
  await page.waitForSelector("#dismiss-" + refusedItem.seq);
  await page.goForward();  // the form left by Back is not shown again
  await page.waitForSelector("#worklist-title");
  await page.goBack();
  await page.waitForSelector("#dismiss-" + refusedItem.seq);
  assert.match(await page.textContent("#hh-status"), /belum terkirim/);
  await page.click("#dismiss-" + refusedItem.seq);
  await page.waitForSelector("#worklist-title");
  stored = await outboxCounts(page);
  assert.deepEqual([stored.items.length, stored.found], [0, []], "dismissed: neither the item nor the household is kept");
  assert.equal(await page.$("#hh-" + config.taken_kk), null);
  assert.deepEqual(page.problems, []);
  await context.close();
}

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  fs.mkdirSync(SHOTS, { recursive: true });
  for (const old of fs.readdirSync(SHOTS)) if (old.endsWith(".png")) fs.unlinkSync(path.join(SHOTS, old));
  const browser = await launch();
  try {
    await firstLoad(browser);
    const context = await newContext(browser);
    let page = watch(await context.newPage());
    await signInAndSync(page);
    const before = await progress();
    await visitValidationInBothLanguages(page);
    const dStatus = await offlineWork(context, page);
    page = await reopenOffline(context, page);
    page = await backOnline(context, page, dStatus);
    await checkTheTable(before, dStatus);
    await signOutWipes(page);
    assert.deepEqual(page.problems, []);
    await context.close();
    await resolveACase(browser);
    await newHouseholdFound(browser);
  } finally {
    await browser.close();
  }
  fs.writeFileSync(path.join(OUT, "figures.json"), JSON.stringify(figures, null, 2));
  log(JSON.stringify(figures));
  log("OK");
}

main().catch((error) => { log(String(error && error.stack || error)); log("page errors: " + problems.join("\n")); process.exit(1); });
