/* The supervisors' console in a real browser: Debian's Chromium (/usr/bin/chromium) driven by
   playwright-core against a running `census serve` on DynamoDB Local that has seen demo field
   work (tests/browser/test_console_browser.py starts it and passes tokens and households).
   A laptop-sized window; every view checked by axe-core and photographed into docs/console/.

   Scenarios: sign in by keyboard through `census serve`'s OAuth stand-in (/local-auth/, where
   Cognito's hosted sign-in is in AWS); drill down from the city to an SLS, each level's figures checked against
   the API, the city's from its rollup with its "as of" time, the rest live, every area named
   beside its code (breadcrumb, bars, table, CSV; the review queue and worklists too); English; a district's worklists previewed then generated; an SLS reassigned and seen
   on the other officer's worklist (API); two flagged households accepted (one alone, one in
   bulk) and one sent to the field, with the progress figures and the officer's worklist
   checked; a decision racing a correction refused; a password reset whose code lets the family
   set a new password on the resident page, and a guessed code locked out; the audit trail
   showing each action, and its CSV; the menu by keyboard; sign-out, and signing in again
   returns to the view the supervisor asked for.

   Usage: node tests/browser/console.js  (configuration as JSON in CENSUS_CONSOLE_CONFIG). */
"use strict";

const fs = require("fs");
const path = require("path");
const assert = require("assert/strict");
const { launch } = require("./chromium");  // Debian's Chromium, the flags in one place

const config = JSON.parse(process.env.CENSUS_CONSOLE_CONFIG || "{}");
const BASE = config.base_url;
const SHOTS = config.shots;
const AXE = require.resolve("axe-core/axe.min.js");
const LAPTOP = { width: 1280, height: 860 };
const MESSAGES = (() => {
  const read = (file) => {
    const text = fs.readFileSync(path.join(__dirname, "..", "..", "web", ...file), "utf8");
    return JSON.parse(text.slice(text.indexOf("{"), text.lastIndexOf("}") + 1));
  };
  const shared = read(["js", "messages.js"]);
  const own = read(["console", "messages.js"]);  // the console's texts, as each language's `console`
  for (const language of Object.keys(own)) shared[language].console = own[language];
  return shared;
})();
const CITY = "1671";

function log(message) { process.stdout.write(message + "\n"); }
function digits(text) { return Number(String(text).replace(/[^0-9]/g, "")); }

async function api(method, route, token, body) {
  const answer = await fetch(BASE + route, {
    method, headers: { "Content-Type": "application/json", ...(token ? { Authorization: "Bearer " + token } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body)
  });
  const type = answer.headers.get("content-type") || "";
  return { status: answer.status, data: type.includes("json") ? await answer.json() : await answer.text() };
}
async function ok(method, route, token, body) {
  const r = await api(method, route, token, body);
  assert.ok(r.status < 300, `${method} ${route}: ${r.status} ${JSON.stringify(r.data)}`);
  return r.data;
}

async function shot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, name + ".png");
  await page.screenshot({ path: file, fullPage: true });
  log("  screenshot " + path.relative(process.cwd(), file));
}

async function axe(page, view) {
  if (!(await page.evaluate(() => !!window.axe))) await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] }
  }));
  for (const v of result.violations) log(`  axe ${view}: ${v.impact} ${v.id} (${v.nodes.length}) ${v.help} ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`);
  assert.deepEqual(result.violations.map((v) => v.id), [], "axe violations on " + view);
  const unlabelled = await page.$$eval("input, select, textarea", (controls) => controls.filter((c) => c.type !== "hidden" && !c.labels.length && !c.getAttribute("aria-label")).map((c) => c.id || c.name));
  assert.deepEqual(unlabelled, [], "unlabelled controls on " + view);
}

async function settled(page) {
  await page.waitForSelector("main[aria-busy=false]");
}
async function view(page, hash, ready) {
  await page.evaluate((h) => { location.hash = h; }, hash);
  await settled(page);
  await page.waitForSelector(ready);
}
/* A click that draws the view again (a decision, a confirmation): wait until it is drawn. */
async function clickAndRedraw(page, selector) {
  await page.evaluate(() => document.getElementById("main").setAttribute("aria-busy", "pending"));
  await page.click(selector);
  await settled(page);
}

/* From the console's sign-in button, by keyboard, through the local stand-in and back. */
async function signIn(page, officer, ready) {
  await page.waitForSelector("#signin:not([disabled])");
  await page.focus("#signin");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#officer_id");
  assert.equal(await page.evaluate(() => document.activeElement.id), "officer_id", "the officer id field has the focus");
  await page.keyboard.type(officer);
  await page.keyboard.press("Enter");
  await page.waitForURL((url) => url.pathname === "/console/" && !url.search);
  await settled(page);
  await page.waitForSelector(ready);
  assert.equal(await page.evaluate(() => location.search), "", "the code is off the address bar");
}

async function figures(page) {
  return page.$$eval(".figures li .n", (nodes) => nodes.map((n) => n.textContent));
}

const FIGURE_KEYS = ["households", "responded_online", "interviewed", "clean", "needs_review", "awaiting_review", "pending", "to_visit",
  "address_not_found", "not_residential", "duplicate", "reported", "enrolled"];

/* "Figures as of 14:05, refreshed every 5 minutes." for a regency (its rollup), "Live figures,
   as of 14:05." below it: the label says which, in the page's language. */
async function checkAsOf(page, area, expected) {
  const language = await page.evaluate(() => document.documentElement.lang);
  const label = (await page.textContent("#as-of")).trim();
  const rolled = area.length <= 4;
  assert.equal(expected.source, rolled ? "rollup" : "live", "where the figures of " + area + " come from");
  const template = MESSAGES[language].console[rolled ? "progress.as_of" : "progress.live"].replace("{minutes}", "5");
  const [before, after] = template.split("{time}");
  assert.ok(label.startsWith(before) && label.endsWith(after), `"${label}" follows "${template}"`);
  assert.match(label.slice(before.length, label.length - after.length), /\d{2}[.:]\d{2}/, "the time in " + label);
  if (rolled) assert.equal(expected.refresh_seconds, 300);
}

/* Every area shown carries its name beside its code: the breadcrumb and title, each bar, each row. */
async function checkNames(page, area, expected, rows) {
  const names = expected.area_names;
  for (const code of [area.slice(0, 4), area]) {
    if (code.length < 4) continue;
    assert.ok(names[code], "the API names " + code);
    assert.ok((await page.textContent("nav.crumbs")).includes(names[code]), "the breadcrumb names " + code);
  }
  assert.ok((await page.textContent("h1")).includes(names[area]), "the title names " + area);
  const bars = await page.$$eval("svg.chart.bars g > title", (titles) => titles.map((t) => t.textContent));
  expected.children.forEach((child, i) => {
    assert.ok(names[child.area_code], "the API names " + child.area_code);
    assert.ok(rows[i][0].includes(child.area_code) && rows[i][0].includes(names[child.area_code]), rows[i][0]);
    assert.ok(bars[i].includes(names[child.area_code]), bars[i]);
  });
}

async function checkProgress(page, area, token, name) {
  await view(page, "#/progress/" + area, "#progress-table");
  const expected = await ok("GET", `/v1/areas/${area}/progress`, token);
  const shown = (await figures(page)).slice(0, FIGURE_KEYS.length).map(digits);
  assert.deepEqual(shown, FIGURE_KEYS.map((k) => expected[k]), "figures of " + area);
  await checkAsOf(page, area, expected);
  const rows = await page.$$eval("#progress-table tbody tr", (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
  if (expected.children.length) {
    assert.equal(rows.length, expected.children.length, "one row per child of " + area);
    expected.children.forEach((child, i) => {
      assert.deepEqual(rows[i].slice(1, 1 + FIGURE_KEYS.length).map(digits), FIGURE_KEYS.map((k) => child[k]), "row " + child.area_code);
    });
    assert.equal(await page.locator("svg.chart.bars g").count(), expected.children.length, "a bar per child");
  }
  await checkNames(page, area, expected, rows);
  await axe(page, "progress " + area);
  if (name) await shot(page, name);
  return expected;
}

async function main() {
  const browser = await launch();
  const context = await browser.newContext({ viewport: LAPTOP, locale: "id-ID", bypassCSP: true, acceptDownloads: true });
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  page.on("console", (m) => { if (m.type() === "error" && !/Failed to load resource/.test(m.text())) problems.push("console: " + m.text()); });
  const city = config.city_token;
  const flagged = config.flagged;
  const district = flagged[0].sls_code.slice(0, 7);
  const ids = MESSAGES.id;

  log("sign in");
  await page.goto(BASE + "/console/");
  await page.waitForSelector("#signin:not([disabled])");
  assert.equal(await page.locator("#signout").isHidden(), true, "no sign-out before signing in");
  await axe(page, "signin");
  await shot(page, "01-signin");
  await page.focus("#signin");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#officer_id");
  await axe(page, "local sign-in");
  await page.goBack();
  await signIn(page, config.city_supervisor, "#progress-table");

  log("drill down: city, district, village, SLS");
  const cityFigures = await checkProgress(page, CITY, city, "02-progress-city");
  assert.deepEqual([cityFigures.address_not_found, cityFigures.reported], [1, 1], "the field outcomes and open reports are counted");
  assert.ok(await page.locator("svg.chart.line circle").count() >= 4, "three snapshot days and today");
  log("  the table's CSV names each area");
  const [progressCsv] = await Promise.all([page.waitForEvent("download"), page.click("#progress-csv")]);
  const csvLines = fs.readFileSync(await progressCsv.path(), "utf8").trim().split("\n");
  assert.equal(csvLines[0], ["area_code", "name", ...FIGURE_KEYS].join(","));
  assert.equal(csvLines.length, 2 + cityFigures.children.length);
  cityFigures.children.forEach((child, i) => {
    assert.ok(csvLines[2 + i].startsWith(`${child.area_code},${cityFigures.area_names[child.area_code]},${child.households},`), csvLines[2 + i]);
  });
  const districtCode = cityFigures.children.find((c) => c.area_code === district).area_code;
  await clickAndRedraw(page, `#progress-table a[href="#/progress/${districtCode}"]`);
  assert.equal(await page.evaluate(() => location.hash), "#/progress/" + districtCode);
  const districtFigures = await checkProgress(page, districtCode, city, "03-progress-district");
  const village = districtFigures.children.find((c) => c.area_code === flagged[0].sls_code.slice(0, 10)).area_code;
  const villageFigures = await checkProgress(page, village, city, "04-progress-village");
  const sls = villageFigures.children[0].area_code;
  await checkProgress(page, sls, city, "05-progress-sls");
  log("  the breadcrumbs lead back to the city");
  await clickAndRedraw(page, `nav.crumbs a[href="#/progress/${CITY}"]`);
  await page.waitForSelector("#progress-table");

  log("English");
  await clickAndRedraw(page, "#lang");
  assert.equal(await page.evaluate(() => document.documentElement.lang), "en");
  assert.equal(await page.textContent("#nav-progress"), MESSAGES.en.console["view.progress"]);
  await checkProgress(page, CITY, city, "06-progress-city-en");
  await clickAndRedraw(page, "#lang");
  assert.equal(await page.evaluate(() => document.documentElement.lang), "id");

  log("keyboard: the menu");
  await page.focus("#skip");
  let reached = false;
  for (let i = 0; i < 12 && !reached; i += 1) {
    await page.keyboard.press("Tab");
    reached = await page.evaluate(() => document.activeElement && document.activeElement.id === "nav-review");
  }
  assert.ok(reached, "the menu's review link is reachable by Tab");
  await page.evaluate(() => document.getElementById("main").setAttribute("aria-busy", "pending"));
  await page.keyboard.press("Enter");
  await settled(page);
  await page.waitForSelector("#review-table");

  log("worklists: preview, then generate, a district");
  await view(page, "#/worklists/" + district, "#loads-table");
  const beforePreview = await ok("GET", `/v1/areas/${district}/worklists`, city);
  await page.click("#preview-button");
  await page.waitForSelector("#preview-table");
  const preview = await ok("GET", `/v1/areas/${district}/worklists/preview`, city);
  const previewRows = await page.$$eval("#preview-table tbody tr", (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
  assert.deepEqual(previewRows.map((r) => [r[0], digits(r[1])]), preview.per_officer.map((o) => [o.officer_id, o.households]));
  await axe(page, "worklist preview");
  await shot(page, "07-worklists-preview");
  const beforeGeneration = await ok("GET", `/v1/areas/${district}/worklists`, city);
  assert.deepEqual(beforeGeneration, beforePreview, "the preview wrote nothing");
  await clickAndRedraw(page, "#confirm-button");
  await page.waitForSelector(".notice[role=status]");
  const loads = await ok("GET", `/v1/areas/${district}/worklists`, city);
  assert.equal(loads.households, preview.households, "the generation is the preview's split");
  assert.ok(new Date(loads.generated_at) >= new Date(beforeGeneration.generated_at || 0));

  log("reassign an SLS to another officer");
  const giver = loads.officers.find((o) => o.sls.length && o.households);
  const moving = giver.sls[0];
  const taker = loads.officers.find((o) => o.officer_id !== giver.officer_id).officer_id;
  await page.selectOption("#reassign-from", giver.officer_id);
  await page.fill("#reassign-what", moving.sls_code);
  await page.fill("#reassign-to", taker);
  await clickAndRedraw(page, "#reassign button[type=submit]");
  await page.waitForSelector(".notice[role=status]");
  const takerToken = config.officer_tokens[taker];
  assert.ok(takerToken, "a token for " + taker);
  const takerList = await ok("GET", "/v1/officers/me/worklist?limit=200", takerToken);
  const movedKks = (await ok("GET", `/v1/areas/${district}/worklists`, city)).officers.find((o) => o.officer_id === taker).sls.map((s) => s.sls_code);
  assert.ok(movedKks.includes(moving.sls_code), "the SLS is on the other officer's load");
  assert.ok(takerList.households.filter((h) => h.sls_code === moving.sls_code).length >= moving.households, "and on their worklist (API)");
  const giverList = await ok("GET", "/v1/officers/me/worklist?limit=200", config.officer_tokens[giver.officer_id]);
  assert.ok(!giverList.households.some((h) => h.sls_code === moving.sls_code), "and off the first officer's");
  const shownLoads = await page.textContent("#loads-table");
  const named = await ok("GET", `/v1/areas/${district}/worklists`, city);
  for (const o of named.officers) for (const s of o.sls) {
    assert.ok(named.area_names[s.sls_code], "the loads name " + s.sls_code);
    assert.ok(shownLoads.includes(`${s.sls_code} – ${named.area_names[s.sls_code]}`), "the loads show " + s.sls_code + " with its name");
  }
  await axe(page, "worklists");
  await shot(page, "08-worklists-loads");

  log("review: accept two, send one to the field");
  const progressBefore = await ok("GET", `/v1/areas/${district}/progress`, city);
  const inDistrict = flagged.filter((f) => f.sls_code.startsWith(district));
  assert.ok(inDistrict.length >= 4, "four flagged households in the district");
  await view(page, "#/review/" + district, "#review-table");
  const queued = await page.$$eval("#review-table tbody th a", (as) => as.map((a) => a.textContent));
  for (const f of inDistrict) assert.ok(queued.includes(f.kk), f.kk + " is queued");
  const queue = await ok("GET", `/v1/areas/${district}/review?limit=200`, city);
  const slsCells = await page.$$eval("#review-table tbody tr", (trs) => trs.map((tr) => tr.children[2].textContent));
  queue.households.forEach((item, i) => {
    assert.ok(queue.area_names[item.sls_code], "the queue names " + item.sls_code);
    assert.equal(slsCells[i], `${item.sls_code} – ${queue.area_names[item.sls_code]}`, "the SLS beside its name");
  });
  await axe(page, "review queue");
  await shot(page, "09-review-queue");
  const [one, two, three, racing] = inDistrict;
  await page.click(`#review-table a[href="#/household/${one.kk}"]`);
  await page.waitForSelector("#comparison");
  await axe(page, "household review");
  await shot(page, "10-household-review");
  await page.fill("#decide-note", "Diperiksa lewat telepon");
  await clickAndRedraw(page, "#decide-accept");
  await page.waitForSelector("#review-table");
  await page.check("#pick-" + two.kk);
  await clickAndRedraw(page, "#bulk-accept");
  await page.waitForSelector(".notice[role=status]");
  await view(page, "#/household/" + three.kk, "#comparison");
  await clickAndRedraw(page, "#decide-visit");
  await page.waitForSelector("#review-table");
  const progressAfter = await ok("GET", `/v1/areas/${district}/progress`, city);
  assert.equal(progressAfter.awaiting_review, progressBefore.awaiting_review - 3, "three decided");
  assert.equal(progressAfter.clean, progressBefore.clean + 2, "two accepted as clean");
  assert.equal(progressAfter.needs_review, progressBefore.needs_review - 2, "one still needs its visit");
  assert.equal(progressAfter.to_visit, progressBefore.to_visit - 2, "the accepted ones leave the worklist");
  const holder = (await ok("GET", `/v1/areas/${district}/worklists`, city)).officers
    .find((o) => o.sls.some((s) => s.sls_code === one.sls_code));
  const holderList = await ok("GET", "/v1/officers/me/worklist?limit=200", config.officer_tokens[holder.officer_id]);
  const entry = holderList.households.find((h) => h.kk === one.kk);
  assert.ok(entry && entry.done && entry.status === "clean", "the officer's worklist shows it done");
  const sent = holderList.households.find((h) => h.kk === three.kk) ||
    (await Promise.all(Object.values(config.officer_tokens).map((t) => ok("GET", "/v1/officers/me/worklist?limit=200", t))))
      .flatMap((p) => p.households).find((h) => h.kk === three.kk);
  assert.ok(sent && !sent.done && sent.reason === "review", "the one sent to the field is on a worklist");

  log("a decision racing a correction is refused");
  await view(page, "#/household/" + racing.kk, "#comparison");
  const corrected = await api("POST", `/v1/households/${racing.kk}/responses`, null, racing.body);
  assert.equal(corrected.status, 200, JSON.stringify(corrected.data));
  await page.click("#decide-accept");
  await page.waitForSelector("#decide .notice.warning");
  assert.equal((await page.textContent("#decide .notice.warning")).trim(), ids.errors.review_version_changed);
  await shot(page, "11-review-conflict");

  log("password reset with a one-time code");
  const [family, guessed] = config.passwords;
  await view(page, "#/reset", "#reset-kk");
  await axe(page, "reset");
  await page.fill("#reset-kk", family.kk);
  await page.check("#reset-checked");
  await page.click("#reset button[type=submit]");
  await page.waitForSelector("#reset-code");
  const code = (await page.textContent("#reset-code")).trim();
  assert.match(code, /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
  await axe(page, "reset code");
  await shot(page, "12-reset-code");
  const resident = await context.newPage();
  await resident.goto(BASE + "/");
  await resident.fill("#kk", family.kk);
  await resident.fill("#nik", family.nik);
  await resident.click("#signin-submit");
  await resident.waitForSelector("#reset_code");
  await axe(resident, "resident reset code");
  await resident.fill("#reset_code", code.toLowerCase());
  await resident.fill("#new_password", "Pisang-Goreng-2027");
  await resident.fill("#confirm_password", "Pisang-Goreng-2027");
  await shot(resident, "13-resident-reset-code");
  await resident.click("#signin-submit");
  await resident.waitForSelector("#signout:not([hidden])");
  await resident.close();
  const after = await api("POST", "/v1/sessions", null, { kk: family.kk, nik: family.nik, password: "Pisang-Goreng-2027" });
  assert.equal(after.status, 201, "the new password works");
  const reused = await api("POST", "/v1/sessions", null, { kk: family.kk, nik: family.nik, reset_code: code, new_password: "Another-Phrase-77" });
  assert.equal(reused.data.error.code, "password_required", "the code worked once");
  await ok("POST", `/v1/households/${guessed.kk}/password-reset`, city, {});
  const answers = [];
  for (let i = 0; i < 6; i += 1) {
    answers.push((await api("POST", "/v1/sessions", null, { kk: guessed.kk, nik: guessed.nik, reset_code: "ZZZZ-ZZZ" + i, new_password: "Another-Phrase-77" })).data.error.code);
  }
  assert.deepEqual(answers, [...Array(5).fill("invalid_credentials"), "too_many_attempts"], "guessing the code is locked out");

  log("the audit trail shows each action");
  const today = new Date().toISOString().slice(0, 10);
  await view(page, `#/audit/${CITY}?day=${today}`, "#audit-table");
  const trail = await ok("GET", `/v1/areas/${CITY}/audit?day=${today}&limit=1000`, city);
  const actions = new Set(trail.records.map((r) => r.action));
  for (const a of ["worklists_generated", "worklist_reassigned", "review_accepted", "review_sent_to_field", "password_reset", "visit", "interview"]) {
    assert.ok(actions.has(a), "audited: " + a);
  }
  const shown = await page.$$eval("#audit-table tbody tr td:nth-child(2)", (tds) => tds.map((td) => td.textContent));
  for (const a of ["worklists_generated", "worklist_reassigned", "review_accepted", "review_sent_to_field", "password_reset"]) {
    assert.ok(shown.includes(ids.console["action." + a]), "shown: " + a);
  }
  const text = JSON.stringify(trail);
  assert.ok(!text.includes(family.nik) && !text.includes("Diperiksa lewat telepon"), "identifiers only");
  await axe(page, "audit");
  await shot(page, "14-audit-city");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#audit-csv")]);
  const csv = fs.readFileSync(await download.path(), "utf8");
  assert.equal(csv.split("\n")[0], "at,action,actor,area_code,kk,details,id");
  assert.ok(csv.split("\n").length >= trail.records.length + 1);
  await view(page, "#/audit/household/" + one.kk, "#audit-table");
  const householdActions = await page.$$eval("#audit-table tbody tr td:nth-child(2)", (tds) => tds.map((td) => td.textContent));
  assert.deepEqual(householdActions, [ids.console["action.review_accepted"]]);
  await axe(page, "household audit");
  await shot(page, "15-audit-household");
  await page.click("#lang");
  await view(page, "#/review/" + district, "#review-table");
  await axe(page, "review queue (en)");
  await shot(page, "16-review-queue-en");

  log("sign out; signing in again returns to the view asked for");
  await page.click("#signout");
  await page.waitForSelector("#signin:not([disabled])");
  assert.equal(await page.evaluate(() => sessionStorage.getItem("census.console.session")), null, "the token is gone");
  assert.equal(await page.locator("#signout").isHidden(), true);
  assert.equal(await page.locator("#nav-review").isHidden(), true);
  await page.goto(BASE + "/console/#/review/" + district);
  await signIn(page, config.city_supervisor, "#review-table");
  assert.equal(await page.evaluate(() => location.hash), "#/review/" + district);

  assert.deepEqual(problems, [], "no page errors");
  await browser.close();
  log("OK");
}

main().catch((error) => { log(String(error && error.stack || error)); process.exit(1); });
