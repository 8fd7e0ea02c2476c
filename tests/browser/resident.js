/* The resident web page in a real browser: Debian's Chromium (/usr/bin/chromium) driven by
   playwright-core, against a running `census serve` (tests/browser/test_browser.py starts
   it and passes the households to use). A phone-sized window throughout.

   Scenarios: first load (size, accessibility), a validation error in both languages, sign in
   and set a password, a 5-member household filled and submitted (its first answer lost on the
   way back, so the retry must reuse the Idempotency-Key and file once), the receipt, the proof,
   the status page, and another household saved as a draft, signed out, signed in again and
   resumed. Screenshots of each step go to the artefacts folder; axe-core checks each view.

   Usage: node tests/browser/resident.js  (configuration as JSON in CENSUS_BROWSER_CONFIG:
   {"base_url", "artifacts", "households": [{"kk", "members": [{nik,name,sex,birth_date,relationship}]}, ...]})
   Exit status 0 only if every check passed. */
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
const PASSWORD = "Kopi-Tubruk-1945";
// A resident who stops to think between answers: longer than the 1.2 s after which the page
// used to save the draft to the server, so the request count shows what pauses cost.
const PAUSE_MS = 1500;
const figures = {};
let shot = 0;
let actions = 0;  // what a resident does by hand: each fill, selection, click or key press

function log(message) { process.stdout.write(message + "\n"); }


async function newPage(browser) {
  const context = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 1, isMobile: true, hasTouch: true, locale: "id-ID",
    bypassCSP: true });  // only so that axe-core can be injected; the page itself runs under its CSP
  const page = await context.newPage();
  page.problems = [];
  page.on("pageerror", (error) => page.problems.push("page error: " + error.message));
  page.on("console", (message) => {
    // The browser reports every 4xx as a console error; the page's own errors are what count.
    if (message.type() === "error" && !/Failed to load resource/.test(message.text())) page.problems.push("console: " + message.text());
  });
  return page;
}

async function screenshot(page, name) {
  shot += 1;
  const file = path.join(OUT, String(shot).padStart(2, "0") + "-" + name + ".png");
  await page.screenshot({ path: file, fullPage: true });
  log("  screenshot " + path.relative(process.cwd(), file));
}

/* One part of the page at its real size (a full page of six member cards is too tall to read). */
async function detail(page, selector, name) {
  shot += 1;
  const file = path.join(OUT, String(shot).padStart(2, "0") + "-" + name + ".png");
  await page.locator(selector).screenshot({ path: file });
  log("  screenshot " + path.relative(process.cwd(), file));
}

/* axe-core in the page: no serious or critical violation of WCAG 2.1 A/AA or best practice. */
async function axe(page, view) {
  if (!(await page.evaluate(() => !!window.axe))) await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] }
  }));
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  for (const v of result.violations) log(`  axe ${view}: ${v.impact} ${v.id} (${v.nodes.length}) ${v.help}`);
  assert.deepEqual(bad.map((v) => v.id + ": " + v.nodes.map((n) => n.target.join(" ")).join(", ")), [], "axe on " + view);
  figures["axe_" + view] = { passes: result.passes.length, violations: result.violations.length };
  // Every control has its own label (a radio's is its option; its question is the fieldset's legend).
  const unlabelled = await page.$$eval("input, select, textarea", (controls) => controls
    .filter((c) => !c.labels.length || (c.type === "radio" && !(c.closest("fieldset") && c.closest("fieldset").querySelector("legend"))))
    .map((c) => c.id || c.name));
  assert.deepEqual(unlabelled, [], "unlabelled controls on " + view);
}

async function fill(page, selector, value) { actions += 1; await page.fill(selector, value); }
async function click(page, selector) { actions += 1; await page.click(selector); }
async function choose(page, selector, value) {
  if ((await page.inputValue(selector)) === value) return false;  // already so (pre-selected)
  actions += 1;
  await page.selectOption(selector, value);
  return true;
}

/* The error next to a field: shown, and announced with it (aria-describedby). */
async function fieldError(page, id) {
  const text = await page.textContent("#" + id + "-err");
  const describedBy = await page.getAttribute("#" + id, "aria-describedby");
  assert.ok(describedBy && describedBy.split(" ").includes(id + "-err"), id + " is not described by its error");
  assert.equal(await page.getAttribute("#" + id, "aria-invalid"), "true");
  return text.trim();
}

async function toggleLanguage(page, expectLang) {
  await click(page, "#lang");
  await page.waitForFunction((lang) => document.documentElement.lang === lang, expectLang);
}

async function signIn(page, kk, nik, password, setUp) {
  await fill(page, "#kk", kk);
  await fill(page, "#nik", nik);
  await click(page, "#signin-submit");
  if (setUp) {
    await page.waitForSelector("#new_password");
    await fill(page, "#new_password", password);
    await fill(page, "#confirm_password", password);
  } else {
    await page.waitForSelector("#password");
    await fill(page, "#password", password);
  }
  await click(page, "#signin-submit");
  await page.waitForSelector("#household-title");
}

/* Answer the census questions of the member card `uid` (register identity left as it is),
   pausing `pause` ms after each answer given (none by default). */
async function answer(page, uid, answers, pause) {
  const id = (name) => `#m${uid}-${name}`;
  for (const [name, value] of [["marital_status", answers.marital_status], ["religion", answers.religion || "islam"],
    ["education", answers.education]]) {
    if (await choose(page, id(name), value) && pause) await page.waitForTimeout(pause);
  }
}

function yearsOld(member) {
  const now = new Date(), born = new Date(member.birth_date + "T00:00:00Z");
  return (now - born) / (365.25 * 24 * 3600 * 1000);
}

/* What fiveMembers answers for a register member (and what a correction must find again). */
function fiveAnswers(member) {
  const years = yearsOld(member);
  return {
    marital_status: ["head", "spouse"].includes(member.relationship) ? "married" : "never_married",
    religion: "islam",
    education: years >= 19 ? "senior_secondary" : years >= 13 ? "primary" : "none"
  };
}

/* The text of the description next to the term `term` on the receipt. */
async function receiptFact(page, term) {
  return page.$$eval("dl.facts-list dt", (terms, wanted) => {
    const dt = terms.find((x) => x.textContent.trim() === wanted);
    return dt ? dt.nextElementSibling.textContent.trim() : null;
  }, term);
}

/* The save state under the form: "saved" (the server has every answer), "local" (kept in this
   tab, not yet on the server), "saving", "offline", "error", "idle". */
async function saveState(page, state) {
  await page.waitForSelector(`#save-state[data-state=${state}]`);
}

/* The tab goes to the background, as when the resident switches apps (the page saves then). */
async function hide(page) {
  await page.evaluate(() => {
    Object.defineProperty(document, "visibilityState", { value: "hidden", configurable: true });
    document.dispatchEvent(new Event("visibilitychange"));
    delete document.visibilityState;  // visible again: the prototype's getter answers
  });
}

/* Draft saves the page sends from now on (method PUT, the draft's route). */
function countDraftSaves(page) {
  const seen = [];
  page.on("request", (request) => { if (request.method() === "PUT" && /\/draft$/.test(request.url())) seen.push(request.url()); });
  return seen;
}

/* The answers the server holds as the draft, read with the page's own session. */
async function serverDraft(page) {
  const token = await page.evaluate(() => JSON.parse(sessionStorage.getItem("census.session")).token);
  const view = await (await page.request.get(BASE + "/v1/session/household", { headers: { Authorization: "Bearer " + token } })).json();
  return view.draft;
}

/* Everything the page left in the browser's storage, as one string. */
async function stored(page) {
  return page.evaluate(() => [localStorage, sessionStorage].map((store) =>
    Object.keys(store).map((key) => key + "=" + store.getItem(key)).join("\n")).join("\n"));
}

async function memberUids(page) {
  return page.$$eval("ol.members > li", (items) => items.map((li) => +li.id.slice(1)));
}

// ------------------------------------------------------------------ scenarios

async function firstLoad(browser) {
  log("first load");
  const page = await newPage(browser);
  let bytes = 0, sent = 0;
  const files = [];
  page.on("requestfinished", async (request) => {
    try {
      const response = await request.response();
      const body = await response.body();
      const sizes = await request.sizes();  // responseBodySize: as sent, gzip-compressed like CloudFront does
      bytes += body.length;
      sent += sizes.responseBodySize;
      files.push(response.url().replace(BASE, "") + " " + body.length + " (" + sizes.responseBodySize + " sent)");
    } catch (e) { /* redirects */ }
  });
  await page.goto(BASE + "/", { waitUntil: "networkidle" });
  await page.waitForSelector("#signin-title");
  figures.first_load_bytes = bytes;
  figures.first_load_bytes_sent = sent;
  figures.first_load_files = files;
  assert.ok(sent < 46 * 1024, `first load sends ${sent} bytes`);  // as tests/unit/test_web_site.py
  assert.equal(await page.getAttribute("html", "lang"), "id");
  assert.match(await page.textContent("h1"), /Masuk/);
  // Keyboard: the first Tab reaches the skip link, and the focus is visible.
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.id), "skip");
  await page.keyboard.press("Tab");
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, "none", "focus must be visible");
  await screenshot(page, "signin-id");
  await axe(page, "signin");
  assert.deepEqual(page.problems, []);
  await page.context().close();

  // A figure, not a check: the first load on a slow mobile connection (DevTools' "Slow 3G":
  // 400 ms round trip, 400 kbit/s), uncompressed as the local service sends it.
  const slow = await newPage(browser);
  const cdp = await slow.context().newCDPSession(slow);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions",
    { offline: false, latency: 400, downloadThroughput: 50 * 1024, uploadThroughput: 50 * 1024 });
  const begun = Date.now();
  await slow.goto(BASE + "/");
  await slow.waitForSelector("#signin-submit");
  figures.slow_3g_usable_ms = Date.now() - begun;
  await slow.context().close();
}

async function validationInBothLanguages(browser, household) {
  log("a validation error in both languages");
  const page = await newPage(browser);
  await page.goto(BASE + "/");
  // Client-side first (the server's rule, mirrored): a KK one digit short.
  await page.fill("#kk", household.kk.slice(0, 15));
  await page.fill("#nik", household.members[0].nik);
  await page.click("#signin-submit");
  const indonesian = await fieldError(page, "kk");
  assert.match(indonesian, /Nomor KK tidak valid/);
  await screenshot(page, "kk-error-id");
  await toggleLanguage(page, "en");
  const english = await fieldError(page, "kk");
  assert.match(english, /KK number is not valid/);
  assert.equal(await page.textContent("#lang"), "Bahasa Indonesia");
  await screenshot(page, "kk-error-en");
  await axe(page, "signin_error");
  // Then the server's verdict: a well-formed NIK that is not on this KK.
  const stranger = household.members[0].nik.slice(0, 12) + "9999";
  await page.fill("#kk", household.kk);
  await page.fill("#nik", stranger);
  await page.click("#signin-submit");
  await page.waitForSelector("#summary");
  assert.match(await page.textContent("#summary"), /do not match|does not match/);
  await screenshot(page, "server-error-en");
  await toggleLanguage(page, "id");
  assert.match(await page.textContent("#summary"), /tidak cocok/);
  await screenshot(page, "server-error-id");
  // The choice of language is kept for the next visit.
  await toggleLanguage(page, "en");
  await page.reload();
  await page.waitForSelector("#signin-title");
  assert.equal(await page.getAttribute("html", "lang"), "en");
  await toggleLanguage(page, "id");
  assert.deepEqual(page.problems, []);
  await page.context().close();
}

async function fiveMembers(browser, household) {
  log("a 5-member household, from sign-in to the proof");
  const page = await newPage(browser);
  const started = Date.now();
  actions = 0;
  // Every API request the page makes, by route: what a household costs (docs/performance.md).
  const requests = {};
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (!url.pathname.startsWith("/v1/")) return;
    const route = request.method() + " " + url.pathname.replace(/\/[0-9]{16}(?=\/|$)/, "/{kk}").replace(/\/receipts\/[^/]+/, "/receipts/{code}");
    requests[route] = (requests[route] || 0) + 1;
  });
  await page.goto(BASE + "/");
  const respondent = household.members[household.members.length - 1];
  await fill(page, "#kk", household.kk);
  await fill(page, "#nik", respondent.nik);
  await click(page, "#signin-submit");
  await page.waitForSelector("#new_password");
  await screenshot(page, "signin-set-password");
  // A password the server refuses (too common): its message next to the field.
  await page.fill("#new_password", "indonesia");
  await page.fill("#confirm_password", "indonesia");
  await page.click("#signin-submit");
  await page.waitForSelector("#new_password-err");
  assert.match(await fieldError(page, "new_password"), /terlalu umum/);
  await screenshot(page, "password-too-common");
  await fill(page, "#new_password", PASSWORD);
  await fill(page, "#confirm_password", PASSWORD);
  await click(page, "#signin-submit");
  await page.waitForSelector("#household-title");

  const uids = await memberUids(page);
  assert.equal(uids.length, 5, "the register's five members are listed");
  for (const [i, member] of household.members.entries()) {
    assert.equal(await page.textContent(`#m${uids[i]}-title`), member.name);
  }
  await screenshot(page, "household-prefilled");
  await axe(page, "household");

  // A mistake the page catches at once: the first member's birth date against the NIK.
  const first = uids[0];
  await page.click(`#m${first}-identity`);
  const born = household.members[0].birth_date;
  const wrong = (+born.slice(0, 4) - 1) + born.slice(4);
  await page.fill(`#m${first}-birth_date`, wrong);
  await page.dispatchEvent(`#m${first}-birth_date`, "change");
  assert.match(await fieldError(page, `m${first}-nik`), /tidak sesuai dengan tanggal lahir/);
  await screenshot(page, "nik-birth-date-mismatch");
  await page.fill(`#m${first}-birth_date`, born);
  await page.dispatchEvent(`#m${first}-birth_date`, "change");
  assert.equal(await page.$(`#m${first}-nik-err`), null);

  // Add a member by mistake and remove it again.
  await click(page, "#add-member");
  assert.equal((await memberUids(page)).length, 6);
  const extra = (await memberUids(page))[5];
  await click(page, `#m${extra}-remove`);
  assert.equal((await memberUids(page)).length, 5);

  let pauses = 0;
  for (const [i, uid] of uids.entries()) {
    const before = actions;
    await answer(page, uid, fiveAnswers(household.members[i]), PAUSE_MS);
    pauses += actions - before;
    await click(page, `#m${uid}-confirm`);
    await page.waitForSelector(`#m${uid}-edit`);
  }
  assert.match(await page.textContent(".progress"), /5 dari 5/);
  await saveState(page, "saved");  // each card completed was saved: the server has every answer
  await screenshot(page, "household-complete");
  await detail(page, ".bar", "household-saved-state");
  await click(page, "#to-review");
  await page.waitForSelector("#review-title");
  await screenshot(page, "review");
  await axe(page, "review");

  // Send; the first answer is lost on the way back (the server stored it). The page keeps
  // everything, and the retry - tapped twice - sends once more with the same key.
  const posts = [];
  let dropped = false;
  await page.route("**/v1/households/*/responses", async (route) => {
    posts.push(route.request().headers()["idempotency-key"]);
    if (!dropped) {
      dropped = true;
      await route.fetch();
      await route.abort("connectionreset");
      return;
    }
    await route.continue();
  });
  await click(page, "#submit");
  await page.waitForSelector("#submit-error");
  assert.match(await page.textContent("#submit-error"), /belum terkirim/);
  await screenshot(page, "submit-failed-kept");
  const replay = page.waitForResponse("**/v1/households/*/responses");
  actions += 1;
  await page.dblclick("#submit");
  const answer2 = await replay;
  assert.equal(answer2.headers()["idempotent-replayed"], "true", "the retry is answered from the first, stored, submission");
  await page.waitForSelector("#receipt-title");
  assert.equal(posts.length, 2, "a double tap sends once");
  assert.equal(posts[0], posts[1], "the retry reuses the Idempotency-Key");
  const receipt = (await page.textContent("#receipt-code")).trim();
  assert.match(receipt, /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]$/);
  figures.five_member_seconds = (Date.now() - started) / 1000;
  figures.five_member_actions = actions;
  figures.five_member_requests = Object.assign({}, requests);
  figures.five_member_pauses = pauses;
  log("  requests " + JSON.stringify(requests) + " with " + pauses + " pauses over " + PAUSE_MS + " ms");
  // Drafts reach the server when a member's card is completed, on "review" and when the page
  // is hidden: never more than one save a card plus those two, however often the resident pauses.
  const draftPuts = requests["PUT /v1/session/household/draft"] || 0;
  assert.ok(draftPuts >= 1, "the answers reached the server before sending");
  assert.ok(draftPuts <= uids.length + 2, `${draftPuts} draft saves for ${uids.length} cards and ${pauses} pauses`);
  // Sign-in: KK + NIK (the household has no password yet), the refused common password, then
  // the new one, whose answer carries the household: no GET /v1/session/household.
  assert.equal(requests["POST /v1/sessions"], 3);
  assert.equal(requests["GET /v1/session/household"], undefined, "the sign-in answer pre-fills the form");
  assert.equal(requests["POST /v1/households/{kk}/responses"], 2, "the lost answer and its retry");
  // From here on nothing is changed, so nothing may be saved as a draft (the server filed the
  // draft with the version; a copy of the answers sent would later hide them).
  const draftSaves = countDraftSaves(page);
  await screenshot(page, "receipt");
  await axe(page, "receipt");

  // Back, and send the same answers again: the server's record answers, nothing is filed twice.
  await page.goBack();
  await page.waitForSelector("#review-title");
  const again = page.waitForResponse("**/v1/households/*/responses");
  await page.click("#submit");
  assert.equal((await again).headers()["idempotent-replayed"], "true");
  await page.waitForSelector("#receipt-title");
  assert.equal((await page.textContent("#receipt-code")).trim(), receipt);

  // One stored version, clean.
  const status = await (await page.request.get(BASE + "/v1/receipts/" + receipt.replace(/-/g, ""))).json();
  assert.equal(status.version, 1);
  assert.equal(status.member_count, 5);
  assert.equal(status.status, "clean");

  // The proof: the link opens the PDF.
  const href = await page.getAttribute("#proof", "href");
  assert.equal(await page.getAttribute("#proof", "target"), "_blank");
  const pdf = await page.request.get(BASE + href);
  assert.equal(pdf.status(), 200);
  assert.equal(pdf.headers()["content-type"], "application/pdf");
  const body = await pdf.body();
  assert.equal(body.subarray(0, 5).toString(), "%PDF-");
  fs.writeFileSync(path.join(OUT, "proof.pdf"), body);
  const [popup] = await Promise.all([page.context().waitForEvent("page"), page.click("#proof")]);
  await popup.waitForURL((url) => url.pathname === href, { waitUntil: "commit" });  // the proof opens in a new tab
  await popup.close();

  // The status page: the receipt code is remembered on this phone.
  await click(page, "#nav-status");
  await page.waitForSelector("#status-title");
  assert.equal(await page.inputValue("#receipt_code"), receipt);
  await click(page, "#status-code-submit");
  await page.waitForSelector("#status-result");
  assert.match(await page.textContent("#status-value"), /Diterima/);
  await screenshot(page, "status-by-receipt");
  await axe(page, "status");
  // ... and by KK + NIK + password, for a lost receipt.
  await page.fill("#status_kk", household.kk);
  await page.fill("#status_nik", household.members[0].nik);
  await page.click("#status-household-submit");
  await page.waitForSelector("#status_password-err");
  assert.match(await page.textContent("#status_password-err"), /kata sandi/);
  await page.fill("#status_password", PASSWORD);
  await page.click("#status-household-submit");
  await page.waitForSelector("#status-result");
  assert.equal((await page.textContent("#status-code")).trim(), receipt);
  await screenshot(page, "status-by-household");
  await page.click("#signout");  // signing out saves what is not saved yet: here, nothing
  await page.waitForSelector("#signin-title");
  assert.deepEqual(draftSaves, [], "nothing changed after sending, so no draft is saved");
  assert.deepEqual(page.problems, []);
  await page.context().close();
  return receipt;
}

/* Another phone, after sending: the page starts from the answers sent (there is no draft),
   not from the register; one answer changed and sent again is version 2 of the same receipt. */
async function correctAfterSending(browser, household, receipt) {
  log("sign in again after sending: the answers sent are back; one corrected, sent: version 2");
  const page = await newPage(browser);
  await page.goto(BASE + "/");
  await signIn(page, household.kk, household.members[1].nik, PASSWORD, false);
  const told = await page.textContent(".notice");
  assert.match(told, /versi 1/);
  assert.ok(told.includes(receipt), "the notice names the receipt code");
  const uids = await memberUids(page);
  assert.equal(uids.length, 5);
  // Every member as sent: complete, so folded, their answers shown in the folded card.
  assert.match(await page.textContent(".progress"), /5 dari 5/);
  for (const uid of uids) {
    assert.ok(await page.$(`#m${uid}-edit`), "a member sent complete is shown as done");
    assert.match(await page.textContent(`#m${uid}-answers`), /Islam/);
  }
  await screenshot(page, "correction-from-sent");
  await axe(page, "household_sent");
  const head = household.members[0], sent = fiveAnswers(head);
  await click(page, `#m${uids[0]}-edit`);
  for (const name of ["marital_status", "religion", "education"]) {
    assert.equal(await page.inputValue(`#m${uids[0]}-${name}`), sent[name], name + " is as sent, not empty");
  }
  const corrected = sent.education === "bachelor" ? "master" : "bachelor";
  const saves = countDraftSaves(page);
  await choose(page, `#m${uids[0]}-education`, corrected);
  await saveState(page, "local");
  await screenshot(page, "correction-changed");
  // Leaving the card by keyboard, every answer valid: the card is completed, so it is saved.
  await page.focus(`#m${uids[0]}-confirm`);
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.id), `m${uids[1]}-edit`);
  await saveState(page, "saved");
  assert.equal(saves.length, 1, "leaving a completed card saves it once");
  await click(page, `#m${uids[0]}-confirm`);
  await click(page, "#to-review");
  await page.waitForSelector("#review-title");
  assert.equal(saves.length, 1, "nothing changed since: confirming and reviewing send no save");
  await click(page, "#submit");
  await page.waitForSelector("#receipt-title");
  assert.equal((await page.textContent("#receipt-code")).trim(), receipt, "a correction keeps the receipt code");
  assert.equal(await page.evaluate(() => sessionStorage.getItem("census.draft")), null, "sending wipes the answers kept in the tab");
  assert.equal(await receiptFact(page, "Versi isian"), "2");
  await screenshot(page, "correction-receipt");
  const status = await (await page.request.get(BASE + "/v1/receipts/" + receipt.replace(/-/g, ""))).json();
  assert.equal(status.version, 2);
  const token = await page.evaluate(() => JSON.parse(sessionStorage.getItem("census.session")).token);
  const view = await (await page.request.get(BASE + "/v1/session/household", { headers: { Authorization: "Bearer " + token } })).json();
  assert.equal(view.latest.version, 2);
  assert.equal(view.latest.members[0].education, corrected, "the corrected answer was filed");
  assert.equal(view.latest.members[1].education, fiveAnswers(household.members[1]).education, "the others are as sent");
  assert.deepEqual(page.problems, []);
  await page.context().close();
}

/* A reload loses nothing typed: the answers kept in the tab come back, those the server never
   had included; sign-out saves them and leaves nothing of the household in the browser. */
async function reloadKeepsTyping(page, { uids, baby, babyNik, religion }) {
  log("  reload: what was typed comes back from the tab; sign out wipes it");
  // A half-typed area code fails the page's checks, so no save ever sends it: only the tab has it.
  await page.check(`#m${uids[3]}-lives_at_kk_address-false`);
  await page.fill(`#m${uids[3]}-current_area_code`, "3201");
  const before = await serverDraft(page);
  assert.equal(before.members.some((m) => m.name === "Putri Kecil"), false, "the baby is not on the server yet");
  // The save sent as the page is left does not arrive (a phone losing its signal).
  await page.route("**/v1/session/household/draft", (route) => route.abort("internetdisconnected"));
  await page.reload();
  await page.waitForSelector("#household-title");
  await page.unroute("**/v1/session/household/draft");
  const check = async () => {
    assert.match(await page.textContent(".notice"), /dimuat kembali/);
    assert.equal(await page.inputValue(`#m${baby}-name`), "Putri Kecil");
    assert.equal(await page.inputValue(`#m${baby}-nik`), babyNik);
    assert.equal(await page.inputValue(`#m${baby}-added_because`), "born");
    assert.equal(await page.inputValue(`#m${uids[1]}-religion`), religion);
    assert.equal(await page.inputValue(`#m${uids[3]}-current_area_code`), "3201", "even what fails the checks");
    assert.match(await page.textContent(`#m${uids[4]}`), /Pindah/);
    assert.ok(await page.$(`#m${uids[0]}-edit`), "the completed card stays folded");
  };
  await check();
  assert.equal((await serverDraft(page)).etag, before.etag, "the server's draft is unchanged: all this came from the tab");
  await saveState(page, "local");
  await screenshot(page, "reload-kept-id");
  await detail(page, ".notice", "reload-kept-notice-id");
  await detail(page, ".bar", "reload-kept-state-id");
  await axe(page, "household_kept");
  await toggleLanguage(page, "en");
  assert.match(await page.textContent("#save-state"), /Saved on this device/);
  await detail(page, ".notice", "reload-kept-notice-en");
  await detail(page, ".bar", "reload-kept-state-en");
  await toggleLanguage(page, "id");
  // Reloaded again, the save sent on leaving arrives this time: the page still has it all.
  await page.reload();
  await page.waitForSelector("#household-title");
  await check();
  // The area code given up (the member lives at the KK address after all), then sign out by
  // keyboard: the rest is saved, and nothing of the household stays in this browser.
  await page.check(`#m${uids[3]}-lives_at_kk_address-true`);
  await page.focus("#signout");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#signin-title");
  const left = await stored(page);
  assert.equal(await page.evaluate(() => sessionStorage.getItem("census.draft")), null, "sign-out wipes the answers kept in the tab");
  for (const secret of ["Putri Kecil", babyNik, "3201", PASSWORD]) assert.ok(!left.includes(secret), "left in the browser: " + secret);
}

async function resumeDraft(browser, household) {
  log("save as you go, sign out, sign in again, resume");
  let page = await newPage(browser);
  await page.goto(BASE + "/");
  const members = household.members;
  await signIn(page, household.kk, members[0].nik, PASSWORD, true);
  let uids = await memberUids(page);
  await saveState(page, "idle");
  // The first member in full (a card completed: saved); the second partly; the last moved
  // out; a baby added - all of it kept in the tab only, until the page is left.
  const saves = countDraftSaves(page);
  await answer(page, uids[0], { marital_status: "married", education: "bachelor" });
  await saveState(page, "local");
  assert.equal(saves.length, 0, "answers are kept in the tab as they are typed, not sent");
  await page.click(`#m${uids[0]}-confirm`);
  await saveState(page, "saved");
  assert.equal(saves.length, 1, "a completed card is saved");
  await page.selectOption(`#m${uids[1]}-religion`, "catholic");
  await page.selectOption(`#m${uids[4]}-presence`, "moved_out");
  await page.click("#add-member");
  const baby = (await memberUids(page))[5];
  const today = new Date();
  const birth = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), 1)).toISOString().slice(0, 10);
  const [y, m, d] = birth.split("-");
  const babyNik = members[0].nik.slice(0, 6) + String(+d + 40).padStart(2, "0") + m + y.slice(2) + "0007";
  await page.fill(`#m${baby}-name`, "Putri Kecil");
  await page.fill(`#m${baby}-nik`, babyNik);
  await page.check(`#m${baby}-sex-female`);
  await page.fill(`#m${baby}-birth_date`, birth);
  await page.dispatchEvent(`#m${baby}-birth_date`, "change");
  await page.selectOption(`#m${baby}-relationship`, "grandchild");
  await page.selectOption(`#m${baby}-added_because`, "born");
  await saveState(page, "local");
  assert.equal(saves.length, 1, "nothing more is sent while the cards are open");
  await screenshot(page, "draft-kept-in-tab");
  await reloadKeepsTyping(page, { uids, baby, babyNik, religion: "catholic" });
  assert.ok(saves.length >= 2, "signing out saved what was typed");
  await page.context().close();

  // Another phone: sign in with the password (keyboard only), and the draft is there.
  page = await newPage(browser);
  await page.goto(BASE + "/");
  await page.waitForSelector("#kk");
  await page.focus("#kk");
  await page.keyboard.type(household.kk);
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.id), "nik");
  await page.keyboard.type(members[2].nik);
  await page.keyboard.press("Enter");
  await page.waitForSelector("#password");
  assert.equal(await page.evaluate(() => document.activeElement.id), "password");
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press("Enter");
  await page.waitForSelector("#household-title");
  assert.match(await page.textContent(".notice"), /Melanjutkan isian/);
  uids = await memberUids(page);
  assert.equal(uids.length, 6);
  assert.ok(await page.$(`#m${uids[0]}-edit`), "the completed member is shown as done");
  assert.equal(await page.inputValue(`#m${uids[1]}-religion`), "catholic");
  assert.match(await page.textContent(`#m${uids[4]}`), /Pindah/, "the member who moved out is listed so");
  assert.equal(await page.inputValue(`#m${uids[5]}-name`), "Putri Kecil");
  assert.equal(await page.inputValue(`#m${uids[5]}-added_because`), "born");
  await screenshot(page, "draft-resumed");

  // Two devices at once: the other one saves a change first; this one is told, shows the other
  // device's answers and keeps what was typed here aside, to be restored on request.
  const other = await newPage(browser);
  const token = await page.evaluate(() => JSON.parse(sessionStorage.getItem("census.session")).token);
  const current = await (await other.request.get(BASE + "/v1/session/household", { headers: { Authorization: "Bearer " + token } })).json();
  const changedThere = current.draft.members.map((m) => m.nik === members[3].nik ? Object.assign({}, m, { religion: "hindu" }) : m);
  const saved = await other.request.put(BASE + "/v1/session/household/draft", {
    headers: { Authorization: "Bearer " + token, "If-Match": current.draft.etag, "Content-Type": "application/json" },
    data: JSON.stringify({ members: changedThere, departed: current.draft.departed })
  });
  assert.equal(saved.status(), 200);
  await other.context().close();
  await page.selectOption(`#m${uids[1]}-marital_status`, "married");
  await hide(page);  // the resident switches apps: the page saves, with the ETag it had
  await page.waitForSelector(".notice.warning");
  assert.match(await page.textContent(".notice.warning"), /perangkat lain/);
  uids = await memberUids(page);
  assert.equal(await page.inputValue(`#m${uids[3]}-religion`), "hindu", "the other device's draft is shown");
  assert.notEqual(await page.inputValue(`#m${uids[1]}-marital_status`), "married", "... without what was typed here");
  assert.ok(await page.evaluate(() => sessionStorage.getItem("census.draft.typed")), "what was typed here is set aside");
  await screenshot(page, "draft-changed-elsewhere");
  await axe(page, "household_changed_elsewhere");
  await page.reload();  // what was set aside is still offered after a reload
  await page.waitForSelector("#restore-typed");
  assert.match(await page.textContent(".notice.warning"), /perangkat lain/);
  await toggleLanguage(page, "en");
  assert.match(await page.textContent("#restore-typed"), /Restore what I typed/);
  await detail(page, ".notice.warning + .bar", "draft-changed-restore-en");
  await toggleLanguage(page, "id");
  await page.focus("#restore-typed");
  await page.keyboard.press("Enter");  // by keyboard
  await page.waitForSelector("#restore-typed", { state: "detached" });
  uids = await memberUids(page);
  assert.equal(await page.inputValue(`#m${uids[1]}-marital_status`), "married", "what was typed here is back");
  assert.equal(await page.evaluate(() => sessionStorage.getItem("census.draft.typed")), null);
  await saveState(page, "saved");  // ... and saved over the other device's draft
  assert.equal((await serverDraft(page)).members.find((m) => m.nik === members[1].nik).marital_status, "married");

  // The session runs out while typing: sign in again, and what was typed is still there.
  uids = await memberUids(page);
  let expired = false;
  await page.route("**/v1/session/household/draft", async (route) => {
    if (expired) { await route.continue(); return; }
    expired = true;
    await route.fulfill({ status: 401, contentType: "application/json",
      body: JSON.stringify({ error: { code: "session_expired", message: "The session has expired; sign in again.", field: null } }) });
  });
  await page.selectOption(`#m${uids[2]}-marital_status`, "divorced");
  await page.selectOption(`#m${uids[2]}-education`, "primary");
  await page.click(`#m${uids[2]}-confirm`);  // a card completed: saved, and the session has run out
  await page.waitForSelector("#signin-title");
  assert.match(await page.textContent("#summary"), /Sesi Anda sudah berakhir/);
  await page.fill("#kk", household.kk);  // (the page was reloaded since its sign-in: the form starts empty)
  await page.fill("#nik", members[2].nik);
  await page.click("#signin-submit");
  await page.waitForSelector("#password");
  await page.fill("#password", PASSWORD);
  await page.click("#signin-submit");
  await page.waitForSelector("#household-title");
  await page.click(`#m${uids[2]}-edit`);
  assert.equal(await page.inputValue(`#m${uids[2]}-marital_status`), "divorced", "typed answers survive a new sign-in");
  await saveState(page, "saved");
  assert.equal((await serverDraft(page)).members.find((m) => m.nik === members[2].nik).marital_status, "divorced");
  await page.unroute("**/v1/session/household/draft");

  // Finish and send: four members and the baby; the one who moved out listed as departed.
  uids = await memberUids(page);
  for (const i of [1, 2, 3]) {
    if (await page.$(`#m${uids[i]}-edit`)) continue;
    await answer(page, uids[i], { marital_status: i === 1 ? "married" : "never_married", education: "primary" });
    await page.click(`#m${uids[i]}-confirm`);
  }
  await page.selectOption(`#m${uids[5]}-marital_status`, "never_married");
  await page.selectOption(`#m${uids[5]}-religion`, "islam");
  await page.selectOption(`#m${uids[5]}-education`, "none");
  await page.click(`#m${uids[5]}-confirm`);

  // The server is the judge: the one who moved out, added again as a new member, passes the
  // page's checks but not the server's, whose verdict is shown at the fields it names.
  const gone = members[4];
  await page.click("#add-member");
  const again = (await memberUids(page))[6];
  await page.fill(`#m${again}-name`, gone.name);
  await page.fill(`#m${again}-nik`, gone.nik);
  await page.check(`#m${again}-sex-${gone.sex}`);
  await page.fill(`#m${again}-birth_date`, gone.birth_date);
  await page.dispatchEvent(`#m${again}-birth_date`, "change");
  await page.selectOption(`#m${again}-relationship`, "other_relative");
  await page.selectOption(`#m${again}-added_because`, "moved_in");
  await answer(page, again, { marital_status: "never_married", education: "primary" });
  await page.click(`#m${again}-confirm`);
  await page.click("#to-review");
  await page.waitForSelector("#review-title");
  await page.click("#submit");
  await page.waitForSelector("#summary");
  const verdict = await page.textContent("#summary");
  log("  the server's verdict: " + verdict.replace(/\s+/g, " "));
  assert.match(verdict, /juga sebagai keluar|hanya untuk anggota baru/);
  const departedUid = (await memberUids(page))[4];
  assert.match(await fieldError(page, `m${departedUid}-presence`), /juga sebagai keluar/, "the verdict sits at its field");
  await screenshot(page, "server-verdict-at-fields");
  await axe(page, "household_server_errors");
  await page.click(`#m${again}-edit`);
  await page.click(`#m${again}-remove`);

  await page.click("#to-review");
  await page.waitForSelector("#review-title");
  assert.match(await page.textContent("main"), /Pindah/);
  await page.click("#submit");
  await page.waitForSelector("#receipt-title");
  const receipt = (await page.textContent("#receipt-code")).replace(/-/g, "").trim();
  const status = await (await page.request.get(BASE + "/v1/receipts/" + receipt)).json();
  assert.equal(status.member_count, 5);
  await screenshot(page, "resumed-receipt");

  // "Something wrong? Correct the answers": the answers sent, with the member who moved out
  // and the baby who was born, not the register.
  await page.click("#correct");
  await page.waitForSelector("#household-title");
  assert.match(await page.textContent(".notice"), /versi 1/);
  uids = await memberUids(page);
  assert.equal(uids.length, 6);
  assert.match(await page.textContent(`#m${uids[4]}`), /Pindah/, "the member who moved out, with the reason given");
  assert.equal(await page.textContent(`#m${uids[5]}-title`), "Putri Kecil");
  await page.click(`#m${uids[5]}-edit`);
  assert.equal(await page.inputValue(`#m${uids[5]}-added_because`), "born");
  assert.equal(await page.inputValue(`#m${uids[5]}-nik`), babyNik);
  await page.click(`#m${uids[4]}-edit`);
  assert.equal(await page.inputValue(`#m${uids[4]}-presence`), "moved_out");
  await screenshot(page, "correction-departed-and-added");
  assert.deepEqual(page.problems, []);
  await page.context().close();
}

// ------------------------------------------------------------------ races around draft saves

const DRAFT = "**/v1/session/household/draft";

/* Draft saves held on their way to the server (the first `count` of them; the rest go on), to
   answer in the order a test needs: held[i].continue(), .fulfill(...), .abort(...). */
async function holdDraftSaves(page, count) {
  const held = [];
  let wake = [];
  await page.route(DRAFT, async (route) => {
    if (held.length >= count) { await route.continue(); return; }
    held.push(route);
    for (const resolve of wake.splice(0)) resolve();
  });
  return {
    held,
    async waitFor(n) {
      const until = Date.now() + 15000;
      while (held.length < n) {
        assert.ok(Date.now() < until, `draft save ${n} was never sent`);
        await new Promise((resolve) => { wake.push(resolve); setTimeout(resolve, 500); });
      }
      return held[n - 1];
    },
    async stop() { await page.unroute(DRAFT); }
  };
}

function failWith(status, code) {
  return { status: status, contentType: "application/json",
    body: JSON.stringify({ error: { code: code, message: code, field: null, details: [] } }) };
}

/* How the page called fetch for draft saves (keepalive, If-Match), recorded in the page. */
async function recordDraftFetches(page) {
  await page.addInitScript(() => {
    const original = window.fetch;
    window.draftFetches = [];
    window.fetch = function (url, init) {
      if (init && init.method === "PUT" && /\/draft$/.test(String(url))) {
        window.draftFetches.push({ keepalive: !!init.keepalive, ifMatch: (init.headers || {})["If-Match"] || null, body: init.body });
      }
      return original.apply(this, arguments);
    };
  });
}

async function kept(page) { return page.evaluate(() => sessionStorage.getItem("census.draft")); }

/* Complete the card of register member i (answers as fiveMembers gives them). */
async function complete(page, uid, member) {
  await answer(page, uid, fiveAnswers(member));
  await page.click(`#m${uid}-confirm`);
  await page.waitForSelector(`#m${uid}-edit`);
}

/* Sign-out that cannot save keeps the answers, says so in both languages and offers "sign out
   anyway"; it waits for a save under way instead of polling; with the session gone, the
   answers kept in the tab can still be forgotten. */
async function signOutKeepsUnsaved(browser, household) {
  log("sign-out that cannot save keeps what was typed");
  const page = await newPage(browser);
  await page.goto(BASE + "/");
  const members = household.members;
  await signIn(page, household.kk, members[0].nik, PASSWORD, true);
  let uids = await memberUids(page);
  await complete(page, uids[0], members[0]);
  await saveState(page, "saved");
  await page.selectOption(`#m${uids[1]}-religion`, "hindu");
  await saveState(page, "local");

  // No connection: nothing is wiped, the resident is told and chooses.
  await page.route(DRAFT, (route) => route.abort("internetdisconnected"));
  await page.click("#signout");
  await page.waitForSelector("#signout-problem");
  assert.match(await page.textContent("#signout-problem"), /Tidak ada koneksi/);
  assert.ok(await page.$("#household-title"), "the form stays");
  assert.match(await kept(page), /hindu/, "the answers stay in the tab");
  assert.equal(await page.evaluate(() => document.activeElement.id), "signout-stay", "the safe choice has the focus");
  await screenshot(page, "signout-unsaved-id");
  await axe(page, "signout_unsaved");
  await toggleLanguage(page, "en");
  assert.match(await page.textContent("#signout-problem"), /not saved online yet[\s\S]*no internet connection[\s\S]*Sign out anyway/);
  await detail(page, "#signout-problem", "signout-unsaved-en");
  await toggleLanguage(page, "id");
  await page.click("#signout-stay");
  assert.equal(await page.$("#signout-problem"), null);
  await page.unroute(DRAFT);

  // A server error: the same. (A change first: the page's retry may have saved the last one.)
  await page.route(DRAFT, (route) => route.fulfill(failWith(503, "internal_error")));
  await page.selectOption(`#m${uids[1]}-religion`, "buddhist");
  await page.click("#signout");
  await page.waitForSelector("#signout-problem");
  assert.match(await page.textContent("#signout-problem"), /Server belum dapat/);
  await page.click("#signout-stay");
  await page.unroute(DRAFT);

  // The session ran out: the sign-in page, the answers still here, and Sign-out still offered.
  await page.route(DRAFT, (route) => route.fulfill(failWith(401, "session_expired")));
  await page.selectOption(`#m${uids[1]}-religion`, "catholic");
  await page.click("#signout");
  await page.waitForSelector("#signin-title");
  await page.waitForSelector("#signout-problem");
  assert.match(await page.textContent("#signout-problem"), /Sesi Anda sudah berakhir/);
  assert.match(await kept(page), /catholic/);
  await page.unroute(DRAFT);
  await screenshot(page, "signout-session-ended");

  // Reloaded with the session expired: Sign-out is there, and "sign out anyway" forgets all.
  await page.evaluate(() => sessionStorage.setItem("census.session",
    JSON.stringify({ token: "expired", kk: "x", expires_at: "2000-01-01T00:00:00Z" })));
  await page.reload();
  await page.waitForSelector("#signin-title");
  assert.ok(await page.isVisible("#signout"), "Sign-out is offered while answers are kept in the tab");
  await page.click("#signout");
  await page.waitForSelector("#signout-problem");
  await page.click("#signout-anyway");
  await page.waitForSelector("#signout-problem", { state: "detached" });
  assert.equal(await kept(page), null, "sign out anyway forgets the answers");
  assert.equal(await page.isVisible("#signout"), false);

  // Signed in again: a sign-out while a save is under way waits for it, then wipes.
  await signIn(page, household.kk, members[0].nik, PASSWORD, false);
  uids = await memberUids(page);
  const hold = await holdDraftSaves(page, 1);
  await answer(page, uids[1], fiveAnswers(members[1]));
  await page.click(`#m${uids[1]}-confirm`);
  const save = await hold.waitFor(1);
  await page.click("#signout");
  assert.equal(await page.isDisabled("#signout"), true, "one sign-out at a time");
  await page.waitForTimeout(300);
  assert.ok(await page.$("#household-title"), "sign-out waits for the save under way");
  await save.continue();
  await page.waitForSelector("#signin-title");
  assert.equal(await kept(page), null);
  assert.equal(await page.$("#signout-problem"), null);
  await hold.stop();
  assert.deepEqual(page.problems, []);
  await page.context().close();
}

/* A late answer to a draft save: after sign-out and another sign-in it is ignored (the next
   household's state stays its own); after "send" it neither reopens the form nor leaves the
   answers in the tab. A save lost on the way, then refused as out of date (412), is this
   tab's own: the page carries on without a warning. Leaving while a save is under way sends
   the latest answers at once, every save as a keepalive request. */
async function lateAnswers(browser, first, second) {
  log("late answers to draft saves");
  let page = await newPage(browser);
  await recordDraftFetches(page);
  await page.goto(BASE + "/");
  await signIn(page, first.kk, first.members[0].nik, PASSWORD, false);
  let uids = await memberUids(page);
  // Household A's save under way; sign-out waits; meanwhile household B signs in on this page.
  const hold = await holdDraftSaves(page, 1);
  await answer(page, uids[2], fiveAnswers(first.members[2]));
  await page.click(`#m${uids[2]}-confirm`);
  const late = await hold.waitFor(1);
  await page.click("#signout");
  await page.evaluate(() => { location.hash = "#signin"; });
  await page.waitForSelector("#signin-title");
  await signIn(page, second.kk, second.members[0].nik, PASSWORD, true);
  await late.continue();  // A's answer arrives now
  await page.waitForTimeout(500);
  assert.ok(await page.$("#household-title"), "A's sign-out does not sign B out");
  assert.equal(JSON.parse(await kept(page)).kk, second.kk, "the tab keeps B's answers");
  uids = await memberUids(page);
  await complete(page, uids[0], second.members[0]);
  await saveState(page, "saved");  // with B's own ETag (none yet), not A's
  assert.equal(await page.$(".notice.warning"), null);
  await hold.stop();

  // A save whose answer is lost (the server took it), then one refused as out of date: this
  // tab's own, so the answers typed since are saved on top, without a warning.
  const statuses = [];
  page.on("response", (response) => { if (/\/draft$/.test(response.url())) statuses.push(response.status()); });
  let lost = false;
  await page.route(DRAFT, async (route) => {
    if (lost) { await route.continue(); return; }
    lost = true;
    await route.fetch();
    await route.abort("connectionreset");
  });
  await page.selectOption(`#m${uids[1]}-religion`, "buddhist");
  await hide(page);
  await saveState(page, "offline");
  await complete(page, uids[1], Object.assign({}, second.members[1]));
  await saveState(page, "saved");
  assert.ok(statuses.includes(412), "the second save was refused as out of date: " + statuses);
  assert.equal(await page.$(".notice.warning"), null, "no false 'changed on another device'");
  assert.equal((await serverDraft(page)).members.find((m) => m.nik === second.members[1].nik).education,
    fiveAnswers(second.members[1]).education);
  await page.unroute(DRAFT);

  // Leaving while a save is under way: the latest answers go at once, fitting either ETag.
  const leaving = await holdDraftSaves(page, 2);
  assert.deepEqual(await memberUids(page), uids, "the cards stay as they were (focus, ids)");
  await answer(page, uids[2], fiveAnswers(second.members[2]));
  await hide(page);
  const inFlight = await leaving.waitFor(1);
  await page.selectOption(`#m${uids[2]}-religion`, "confucian");
  await page.evaluate(() => window.dispatchEvent(new PageTransitionEvent("pagehide", { persisted: false })));
  const latest = await leaving.waitFor(2);
  assert.match(latest.request().headers()["if-match"], /^"[0-9]+\.[0-9]+", "[0-9]+\.[0-9]+"$/);
  await inFlight.continue();
  await page.waitForTimeout(300);
  await latest.continue();
  await saveState(page, "saved");
  const fetches = await page.evaluate(() => window.draftFetches);
  assert.ok(fetches.length >= 4 && fetches.every((f) => f.keepalive), "every draft save is a keepalive request");
  const onServer = (await serverDraft(page)).members;
  assert.ok(onServer.some((m) => m.religion === "confucian"), "the answer typed last reached the server");
  await leaving.stop();
  assert.deepEqual(page.problems, []);
  await page.context().close();

  // "Send" while a save is under way: it waits for the save; the save's late 412 is ignored.
  page = await newPage(browser);
  await page.goto(BASE + "/");
  await signIn(page, second.kk, second.members[0].nik, PASSWORD, false);
  uids = await memberUids(page);
  for (const [i, uid] of uids.entries()) {
    if (await page.$(`#m${uid}-edit`)) continue;
    if (i === uids.length - 1) break;
    await complete(page, uid, second.members[i]);
  }
  await saveState(page, "saved");
  const last = uids[uids.length - 1];
  const held = await holdDraftSaves(page, 1);
  let answered = false, postedAfter = null;
  page.on("request", (request) => { if (request.method() === "POST" && /\/responses$/.test(request.url())) postedAfter = answered; });
  if (await page.$(`#m${last}-edit`)) await page.click(`#m${last}-edit`);
  await answer(page, last, fiveAnswers(second.members[uids.length - 1]));  // religion: islam again
  await page.click(`#m${last}-confirm`);
  const pending = await held.waitFor(1);
  await page.click("#to-review");
  await page.waitForSelector("#review-title");
  await page.click("#submit");
  await page.waitForTimeout(300);
  assert.equal(postedAfter, null, "nothing is sent while the draft save is under way");
  answered = true;
  await pending.fulfill(failWith(412, "draft_changed"));
  await page.waitForSelector("#receipt-title");
  await page.waitForTimeout(500);
  assert.ok(await page.$("#receipt-title"), "the late 412 does not pull the resident back to the form");
  assert.equal(postedAfter, true);
  assert.equal(await kept(page), null, "the answers sent are not written back into the tab");
  await held.stop();
  assert.deepEqual(page.problems, []);
  await page.context().close();
}

/* No more members than the server takes; a browser that cannot keep the answers says so. */
async function limitsAndStorage(browser, household) {
  log("the most members a household takes; a browser without sessionStorage");
  const page = await newPage(browser);
  await page.addInitScript(() => {
    const setItem = Storage.prototype.setItem;
    Storage.prototype.setItem = function (key, value) {
      if (key === "census.draft") throw new DOMException("full", "QuotaExceededError");
      return setItem.call(this, key, value);
    };
  });
  await page.goto(BASE + "/");
  await signIn(page, household.kk, household.members[0].nik, PASSWORD, true);
  let uids = await memberUids(page);
  await page.selectOption(`#m${uids[0]}-religion`, "protestant");
  await saveState(page, "local");
  const state = await page.textContent("#save-state");
  assert.match(state, /Belum tersimpan/);
  assert.doesNotMatch(state, /Tersimpan di perangkat ini/);
  await detail(page, ".bar", "save-state-unkept-id");
  await toggleLanguage(page, "en");
  assert.match(await page.textContent("#save-state"), /this browser cannot keep answers/);
  await toggleLanguage(page, "id");

  while ((await memberUids(page)).length < 30) await page.click("#add-member");
  await page.click("#add-member");
  await page.waitForSelector("#member-limit");
  assert.equal((await memberUids(page)).length, 30, "no 31st member");
  assert.match(await page.textContent("#member-limit"), /paling banyak 30 anggota/);
  assert.equal(await page.evaluate(() => document.activeElement.id), "member-limit");
  await detail(page, "#member-limit", "member-limit-id");
  await toggleLanguage(page, "en");
  assert.match(await page.textContent("#member-limit"), /at most 30 members/);
  await toggleLanguage(page, "id");
  await axe(page, "household_member_limit");
  // A refusal of the member list itself (no card to mark) is shown, not just "check the marked fields".
  await page.route(DRAFT, (route) => route.fulfill({ status: 422, contentType: "application/json", body: JSON.stringify({ error: {
    code: "validation_failed", message: "x", field: null, details: [{ code: "member_count", field: "members", message: "x" }] } }) }));
  await hide(page);
  await page.waitForSelector("#summary");
  assert.match(await page.textContent("#summary"), /1 sampai 30 anggota/);
  await page.unroute(DRAFT);
  assert.deepEqual(page.problems, []);
  await page.context().close();
}

async function main() {
  assert.ok(BASE && OUT && config.households && config.households.length >= 2, "CENSUS_BROWSER_CONFIG is incomplete");
  fs.mkdirSync(OUT, { recursive: true });
  for (const old of fs.readdirSync(OUT)) if (/\.(png|pdf)$/.test(old)) fs.unlinkSync(path.join(OUT, old));
  const browser = await launch();
  try {
    log("Chromium " + browser.version());
    await firstLoad(browser);
    await validationInBothLanguages(browser, config.households[0]);
    const receipt = await fiveMembers(browser, config.households[0]);
    await correctAfterSending(browser, config.households[0], receipt);
    await resumeDraft(browser, config.households[1]);
    const others = config.others || [];
    assert.ok(others.length >= 3, "CENSUS_BROWSER_CONFIG needs three more households");
    await signOutKeepsUnsaved(browser, others[0]);
    await lateAnswers(browser, others[0], others[1]);
    await limitsAndStorage(browser, others[2]);
  } finally {
    await browser.close();
  }
  log("FIGURES " + JSON.stringify(figures));
}

main().then(() => log("OK"), (error) => { log("FAILED: " + (error.stack || error)); process.exit(1); });
