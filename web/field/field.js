/* The officers' app: sign in as rostered staff, sync the worklist and each household's
   pre-fill to the phone, record visits and interviews (offline too: an outbox in IndexedDB,
   sent in order, each exactly once with its own Idempotency-Key), and show what the server
   said about each. Shares the rules (js/rules.js), the texts (js/messages.js), the member
   questions (js/household-form.js) and the sign-in (js/staff-auth.js) with the other apps.
   Plain JavaScript, no build step; every view is drawn from the state object `S`. */
(function () {
  "use strict";

  const AUTH = window.CensusStaffAuth;
  const FAILED_OUTCOMES = ["not_home", "refused", "moved"];  // failed visits: each uses one of the attempts
  const ADDRESS_OUTCOMES = ["address_not_found", "not_residential", "duplicate"];  // take it off the worklist
  const CLOSING_OUTCOMES = ["moved"].concat(ADDRESS_OUTCOMES);
  const NOT_FOUND_REASONS = ["address_not_found", "not_residential", "nobody_lives_here"];
  const CASE_REASON = "not_on_register";  // a resident's report of a household the register missed
  const FOUND_REASON = "found";  // (phone only) a household found on no list
  const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
  const KK_PATTERN = /^\d{16}$/;
  const RETRY_SECONDS = [2, 5, 15, 30, 60, 120];  // backoff for 503/429/no network; then every 2 minutes
  const RETRYABLE = (status) => status === 0 || status === 429 || status === 502 || status === 503 || status === 504;
  const PAGE = 200;  // worklist page size (the API's maximum)

  // ---------------------------------------------------------------- IndexedDB

  /* One database: kv (session, officer, last sync), households (the worklist entry and the
     pre-fill, by KK), outbox (visits and interviews to send, in order of recording). */
  const DB = (function () {
    let opened = null;
    function open() {
      if (!opened) {
        opened = new Promise((resolve, reject) => {
          const request = indexedDB.open("census-field", 1);
          request.onupgradeneeded = () => {
            const db = request.result;
            db.createObjectStore("kv");
            db.createObjectStore("households", { keyPath: "kk" });
            db.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
          };
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(request.error);
        });
      }
      return opened;
    }
    async function run(store, mode, work) {
      const db = await open();
      return new Promise((resolve, reject) => {
        const tx = db.transaction(store, mode);
        const request = work(tx.objectStore(store));
        tx.oncomplete = () => resolve(request ? request.result : undefined);
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error);
      });
    }
    return {
      get: (store, key) => run(store, "readonly", (s) => s.get(key)),
      put: (store, value, key) => run(store, "readwrite", (s) => (key === undefined ? s.put(value) : s.put(value, key))),
      del: (store, key) => run(store, "readwrite", (s) => s.delete(key)),
      all: (store) => run(store, "readonly", (s) => s.getAll()),
      clear: (store) => run(store, "readwrite", (s) => s.clear())
    };
  })();

  // ---------------------------------------------------------------- state

  function savedLang() { try { return localStorage.getItem("census.lang") === "\"en\"" ? "en" : "id"; } catch (e) { return "id"; } }

  const S = {
    lang: savedLang(),
    view: "loading",
    kk: null,  // the household of the household/visit/interview views
    config: null,
    session: null,  // {token, officer_id, groups, expires_at}
    officer: null,  // whose data is on the phone
    households: {},  // kk -> {kk, entry, prefill, problems: [], sent: []}
    outbox: [],
    online: navigator.onLine,
    sync: { busy: false, at: null, error: null },
    flushing: false,
    flushTimer: null,
    search: "",
    sort: "sls",
    notice: null,
    visit: null,  // {outcome, duplicate_of, note, consent, errors, busy}
    resolve: null,  // {outcome, kk, reason, note, errors, busy}: a report's case matched or not found
    interview: null,  // {members, nextUid, summary, respondent, consent, errors, busy, replaces, ...}
    found: { sls: "", code: "", error: null },  // the worklist's "record a new household" chooser
    foundSent: [],  // receipt codes of found households sent and dropped from the phone (this session only)
    summary: [],
    signinError: null
  };

  // ---------------------------------------------------------------- text, DOM, the form

  const ui = CensusUI.create(S, CensusForm.CHOICES);
  const { t, errorText, choice, wib, h, $, field, radios, summaryBox, focusFirstError, notice, problems } = ui;
  let form = null;  // the interview's CensusForm, bound to S.interview

  function render() {
    const focused = document.activeElement && document.activeElement.id;
    $("main").replaceChildren(VIEWS[S.view]());
    document.documentElement.lang = S.lang;
    document.title = t("field.title") + " - " + t("view." + S.view);
    renderHeader();
    if (focused && $(focused)) $(focused).focus({ preventScroll: true });
  }

  function renderHeader() {
    $("site-title").textContent = t("field.title");
    $("skip").textContent = t("skip");
    const toggle = $("lang");
    toggle.replaceChildren(h("span", { lang: S.lang === "id" ? "en" : "id" }, S.lang === "id" ? "English" : "Bahasa Indonesia"));
    toggle.setAttribute("aria-label", t("lang.switch"));
    const out = $("signout");
    out.hidden = !S.officer;
    out.textContent = t("signout");
    renderNetbar();
  }

  /* Network, queue and sync at a glance, with the send button (on every view but sign-in). */
  function renderNetbar() {
    const bar = $("netbar");
    bar.className = "netbar" + (S.online ? "" : " offline");
    if (!S.officer) { bar.replaceChildren(); bar.hidden = true; return; }
    bar.hidden = false;
    const pending = S.outbox.filter((i) => i.state === "pending").length;
    const failed = S.outbox.filter((i) => i.state === "failed").length;
    bar.replaceChildren(
      h("p", { id: "net-state" }, S.online ? t("net.online") : t("net.offline")),
      h("p", { id: "outbox-count" }, t("outbox.pending", { count: pending }) + (failed ? " · " + t("outbox.failed", { count: failed }) : "")),
      h("p", { id: "sync-at" }, S.sync.at ? t("sync.at", { when: wib(S.sync.at) }) : t("sync.never")),
      h("button", { type: "button", class: "chip", id: "sync", disabled: S.sync.busy || S.flushing,
        onclick: () => syncAll(true) }, S.sync.busy || S.flushing ? t("sync.busy") : pending ? t("outbox.send") : t("sync.now")));
  }

  function go(view, kk) {
    S.view = view;
    S.kk = kk || null;
    const hash = "#" + view + (kk ? "/" + kk : "");
    if (location.hash !== hash) history.pushState(null, "", hash);
    render();
    window.scrollTo(0, 0);
    const heading = document.querySelector("main h1");
    if (heading && !document.querySelector("main [role=alert]")) { heading.setAttribute("tabindex", "-1"); heading.focus({ preventScroll: true }); }
  }

  // ---------------------------------------------------------------- session

  function signedIn() { return !!S.session && !AUTH.expired(S.session); }

  async function startSignIn() {
    if (!S.config) return;
    if (!navigator.onLine) { S.signinError = { code: "network_error", status: 0 }; render(); return; }
    await AUTH.signIn(S.config, location.hash);
  }

  /* A session that ends while offline keeps everything: the officer signs in again, the queue goes. */
  async function sessionEnded() {
    S.session = null;
    await DB.del("kv", "session");
    S.notice = { key: "notice.session_ended", kind: "warning" };
    render();
  }

  async function wipe() {
    await Promise.all([DB.clear("kv"), DB.clear("households"), DB.clear("outbox")]);
    S.session = null; S.officer = null; S.households = {}; S.outbox = []; S.sync.at = null;
    S.found = { sls: "", code: "", error: null }; S.foundSent = [];
  }

  async function signOut(confirmed) {
    if (S.outbox.length && !confirmed) { go("signout"); return; }
    await wipe();
    const url = S.config ? AUTH.signOutUrl(S.config) : null;
    if (url && navigator.onLine) { location.assign(url); return; }
    go("signin");
  }

  // ---------------------------------------------------------------- outbox

  function newKey() { return "field-" + ui.randomHex(16); }

  function position(wanted) {
    if (!wanted || !navigator.geolocation) return Promise.resolve(null);
    return new Promise((resolve) => navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lat: p.coords.latitude, lon: p.coords.longitude, accuracy: Math.round(p.coords.accuracy * 10) / 10 }),
      () => resolve(null), { enableHighAccuracy: true, timeout: 8000, maximumAge: 60000 }));
  }

  /* Recorded: into the outbox first (it survives closing the browser), then sent when possible.
     The Idempotency-Key is made here and kept with the item, so every retry files it once. */
  async function enqueue(kk, kind, body, replaces) {
    const item = { kk: kk, kind: kind, key: newKey(), body: body, created_at: new Date().toISOString(),
      state: "pending", error: null, tries: 0, next_at: 0 };
    if (replaces) { await DB.del("outbox", replaces); }
    item.seq = await DB.put("outbox", item);
    S.outbox = (await DB.all("outbox")).sort((a, b) => a.seq - b.seq);
    flushSoon(0);
  }

  function flushSoon(seconds) {
    clearTimeout(S.flushTimer);
    S.flushTimer = setTimeout(() => flush(), seconds * 1000);
  }

  async function saveItem(item) { await DB.put("outbox", item); }

  /* Send what is pending, oldest first, one at a time (two visits to one household keep their
     order). Retry only what may succeed later (no network, 503, 429) with backoff; anything
     else the server refused is kept on the household for the officer to see and decide. */
  async function flush() {
    if (S.flushing || !navigator.onLine) return;
    if (!S.outbox.some((i) => i.state === "pending")) return;
    if (!signedIn()) { if (S.session) await sessionEnded(); return; }
    S.flushing = true;
    renderNetbar();
    try {
      for (const item of S.outbox.slice()) {
        if (item.state !== "pending") continue;
        const wait = item.next_at - Date.now();
        if (wait > 0) { flushSoon(wait / 1000); break; }
        const target = item.kind === "resolution" ? "/v1/reports/" + encodeURIComponent(item.kk) + "/resolution"
          : item.kind === "household" ? "/v1/households"
          : "/v1/households/" + encodeURIComponent(item.kk) + "/visits";
        const result = await ui.api("POST", target, item.body, { "Idempotency-Key": item.key }, S.session.token);
        if (result.ok) { await delivered(item, result.data); continue; }
        if (result.status === 401) { await sessionEnded(); break; }
        if (RETRYABLE(result.status) || result.code === "write_conflict") {
          const delay = Math.max(result.retryAfter || 0, RETRY_SECONDS[Math.min(item.tries, RETRY_SECONDS.length - 1)]);
          item.tries += 1;
          item.next_at = Date.now() + delay * 1000;
          await saveItem(item);
          flushSoon(delay);
          break;
        }
        await refused(item, result);
      }
    } finally {
      S.flushing = false;
      S.outbox = (await DB.all("outbox")).sort((a, b) => a.seq - b.seq);
      render();
    }
  }

  async function delivered(item, answer) {
    await DB.del("outbox", item.seq);
    S.outbox = S.outbox.filter((i) => i.seq !== item.seq);
    const hh = S.households[item.kk];
    if (!hh) return;
    hh.entry.status = item.kind === "resolution" ? answer.outcome : answer.status;
    if (item.kind === "resolution" || item.kind === "household") hh.entry.done = true;
    if (answer.attempt) hh.entry.visit_attempts = answer.attempt;
    hh.sent.push({ outcome: item.body.outcome || answer.outcome, at: new Date().toISOString(), receipt_code: answer.receipt_code || null });
    await DB.put("households", hh);
  }

  /* The world changed (responded online, no longer assigned, invalid): shown, never retried. */
  async function refused(item, result) {
    item.state = "failed";
    item.error = { code: result.code, status: result.status, problems: problems(result) };
    await saveItem(item);
  }

  /* A found household lives on the phone only for its outbox item: dismissing its last one drops it. */
  async function dismiss(item) {
    await DB.del("outbox", item.seq);
    S.outbox = S.outbox.filter((i) => i.seq !== item.seq);
    const hh = S.households[item.kk];
    if (hh && isFound(hh.entry) && !S.outbox.some((i) => i.kk === item.kk)) {
      delete S.households[item.kk];
      await DB.del("households", item.kk);
      go("worklist");
      return;
    }
    render();
  }

  // ---------------------------------------------------------------- sync

  async function getJson(path) { return ui.api("GET", path, undefined, {}, S.session.token); }

  /* Send the queue, then fetch the worklist and each open household's pre-fill onto the phone. */
  async function syncAll(byHand) {
    if (S.sync.busy) return;
    if (!navigator.onLine) { S.online = false; if (byHand) { S.notice = { key: "notice.offline_kept", kind: "warning" }; render(); } return; }
    if (!signedIn()) { await sessionEnded(); return; }
    S.sync.busy = true;
    S.sync.error = null;
    renderNetbar();
    try {
      await flush();
      if (!signedIn()) return;
      const entries = [];
      let cursor = null;
      do {
        const result = await getJson("/v1/officers/me/worklist?limit=" + PAGE + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
        if (result.status === 401) { await sessionEnded(); return; }
        if (!result.ok) { S.sync.error = { code: result.code, status: result.status }; return; }
        entries.push(...result.data.households);
        cursor = result.data.next_cursor;
      } while (cursor);
      // A report's case is kept under its reference (its KK is only what the resident typed).
      const mine = new Set(entries.map(entryId));
      for (const entry of entries) {
        const id = entryId(entry);
        const hh = S.households[id] || { kk: id, entry: entry, prefill: null, sent: [] };
        hh.entry = entry;
        if (entry.done && !S.outbox.some((i) => i.kk === id)) hh.prefill = null;  // keep little on the phone
        S.households[id] = hh;
      }
      // Households no longer assigned leave the phone, unless something of theirs is still queued;
      // found ones (on no worklist) leave once sent: only their receipt stays, in memory.
      for (const kk of Object.keys(S.households)) {
        if (!mine.has(kk) && !S.outbox.some((i) => i.kk === kk)) {
          const receipt = S.households[kk].sent.map((x) => x.receipt_code).filter(Boolean)[0];
          if (receipt && isFound(S.households[kk].entry)) S.foundSent.push(receipt);
          delete S.households[kk];
          await DB.del("households", kk);
        }
      }
      const open = entries.filter((e) => !e.done && !isCase(e));
      let index = 0;
      const worker = async () => {
        while (index < open.length) {
          const entry = open[index++];
          const result = await getJson("/v1/households/" + encodeURIComponent(entry.kk));
          if (result.ok) S.households[entry.kk].prefill = result.data;
        }
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
      for (const hh of Object.values(S.households)) await DB.put("households", hh);
      S.sync.at = new Date().toISOString();
      await DB.put("kv", S.sync.at, "synced_at");
    } finally {
      S.sync.busy = false;
      render();
    }
  }

  // ---------------------------------------------------------------- households

  function isCase(entry) { return entry.reason === CASE_REASON; }
  function isFound(entry) { return entry.reason === FOUND_REASON; }
  /* A reference as the resident's receipt prints it: XVZD-R2Z6-JWNC-M. */
  function refText(reference) { return String(reference).replace(/-/g, "").replace(/(.{4})(?=.)/g, "$1-"); }
  function entryId(entry) { return isCase(entry) ? entry.reference : entry.kk; }

  /* What a queued or refused item is, in words. */
  function itemText(item) {
    if (item.kind === "resolution") return t("outbox.resolution", { reference: refText(item.kk), outcome: t("resolution." + item.body.outcome) });
    if (item.kind === "household") return t("found.start") + " (KK " + item.body.kk + ")";
    return item.body.outcome === "interviewed" ? t("outbox.interview") : t("outbox.visit", { outcome: choice("Outcome", item.body.outcome) });
  }

  function pendingOf(kk) { return S.outbox.filter((i) => i.kk === kk && i.state === "pending"); }
  function failedOf(kk) { return S.outbox.filter((i) => i.kk === kk && i.state === "failed"); }

  /* What the phone knows: the server's entry, moved on by what is queued for it. The same rule
     as the API: a failed visit uses one of the household's attempts; when none are left (or it
     moved, or was interviewed) no further failed visit is offered. */
  function local(kk) {
    const hh = S.households[kk];
    const e = hh.entry;
    const queued = pendingOf(kk);
    if (isFound(e)) {
      return { hh: hh, entry: e, queued: queued, isFound: true };
    }
    if (isCase(e)) {
      const resolved = e.done || queued.length > 0;
      return { hh: hh, entry: e, queued: queued, attempts: 0, left: 0, exhausted: false, interviewed: false, moved: false,
        isCase: true, resolved: resolved, canResolve: !resolved, canFail: false, canInterview: false };
    }
    const failedQueued = queued.filter((i) => FAILED_OUTCOMES.indexOf(i.body.outcome) >= 0).length;
    const interviewed = e.status === "interviewed" || queued.some((i) => i.body.outcome === "interviewed");
    const moved = CLOSING_OUTCOMES.indexOf(e.status) >= 0 || queued.some((i) => CLOSING_OUTCOMES.indexOf(i.body.outcome) >= 0);
    const left = Math.max(0, (e.attempts_left || 0) - failedQueued);
    const exhausted = e.reason === "attempts_exhausted" || (e.reason === "revisit" || e.reason === "no_response" || e.reason === "review") && left === 0;
    const open = !e.done && !interviewed && !moved;
    return { hh: hh, entry: e, queued: queued, attempts: (e.visit_attempts || 0) + failedQueued, left: left,
      exhausted: exhausted && !interviewed, interviewed: interviewed, moved: moved,
      canFail: open && !exhausted, canInterview: !interviewed && !(e.done && !exhausted) && !!hh.prefill };
  }

  function tags(kk) {
    const L = local(kk), e = L.entry, list = [];
    if (L.isCase || L.isFound) {  // open: the case tag says it
      list.push(["case", L.isFound ? t("found.start") : t("reason." + CASE_REASON)]);
      if (e.done) list.push(["ok", t("tag.done", { status: L.isFound ? choice("Status", e.status) : t("resolution." + e.status) })]);
    } else if (L.interviewed) list.push(["ok", t("tag.interviewed")]);
    else if (e.done && !L.exhausted) list.push(["ok", t("tag.done", { status: choice("Status", e.status) })]);
    else if (L.exhausted) list.push(["bad", t("reason.attempts_exhausted")]);
    else if (L.moved) list.push(["ok", choice("Outcome", CLOSING_OUTCOMES.indexOf(e.status) >= 0 ? e.status
      : L.queued.find((i) => CLOSING_OUTCOMES.indexOf(i.body.outcome) >= 0).body.outcome)]);
    else list.push(["todo", t("reason." + e.reason)]);
    if (L.attempts) list.push(["", t("visit.attempts", { count: L.attempts })]);
    if (L.queued.length) list.push(["pending", t("tag.pending", { count: L.queued.length })]);
    if (failedOf(kk).length) list.push(["bad", t("tag.refused")]);
    return h("ul", { class: "tags" }, list.map(([kind, text]) => h("li", { class: "tag " + kind }, text)));
  }

  function sortedHouseholds() {
    const q = S.search.trim().toLowerCase();
    const rows = Object.values(S.households).filter((hh) => !q || hh.kk.indexOf(q) >= 0 ||
      (hh.entry.head_name || "").toLowerCase().indexOf(q) >= 0 ||
      (hh.prefill && hh.prefill.register_members.some((m) => m.name.toLowerCase().indexOf(q) >= 0)));
    const key = S.sort === "address" ? (hh) => (hh.entry.address || "") + hh.kk : (hh) => hh.entry.sls_code + (hh.entry.address || "") + hh.kk;
    return rows.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  }

  // ---------------------------------------------------------------- views

  function viewLoading() { return h("section", {}, h("h1", {}, t("view.loading"))); }

  function viewSignin() {
    return h("section", { "aria-labelledby": "signin-title" },
      h("h1", { id: "signin-title" }, t("field.signin.title")),
      S.signinError ? summaryBox([{ code: S.signinError.code, status: S.signinError.status }]) : null,
      S.notice ? notice(S.notice.key, S.notice.vars, S.notice.kind) : null,
      h("p", {}, t("field.signin.intro")),
      h("button", { type: "button", class: "primary", id: "signin", onclick: startSignIn }, t("field.signin.button")));
  }

  /* The households to show, grouped by SLS (one group when sorted by address). */
  function groupedHouseholds() {
    const groups = [];
    for (const hh of sortedHouseholds()) {
      const key = S.sort === "address" ? "" : hh.entry.sls_code;
      if (!groups.length || groups[groups.length - 1].key !== key) groups.push({ key: key, items: [] });
      groups[groups.length - 1].items.push(hh);
    }
    return groups;
  }

  function viewWorklist() {
    const groups = groupedHouseholds();
    const total = Object.keys(S.households).length;
    const open = Object.keys(S.households).filter((kk) => local(kk).canResolve || local(kk).canFail || (local(kk).canInterview && !S.households[kk].entry.done)).length;
    return h("section", { "aria-labelledby": "worklist-title" },
      h("h1", { id: "worklist-title" }, t("worklist.title")),
      h("p", { id: "worklist-summary" }, t("worklist.summary", { officer: S.officer, total: total, open: open })),
      S.notice ? notice(S.notice.key, S.notice.vars, S.notice.kind) : null,
      S.sync.error ? summaryBox([{ code: S.sync.error.code, status: S.sync.error.status }]) : null,
      !signedIn() ? h("div", { class: "notice warning", role: "status" },
        h("p", {}, t("notice.signin_to_send", { count: S.outbox.length })),
        h("button", { type: "button", class: "secondary", id: "signin-again", onclick: startSignIn }, t("field.signin.again"))) : null,
      S.foundSent.length ? h("div", { class: "notice", role: "status", id: "found-sent" }, h("p", {}, t("found.sent")),
        h("ul", {}, S.foundSent.map((r) => h("li", {}, refText(r))))) : null,
      foundAction(),
      h("div", { class: "tools" },
        field("search", t("worklist.search"), h("input", { id: "search", type: "search", value: S.search, autocomplete: "off",
          oninput: (ev) => { S.search = ev.target.value; renderList(); } }), null, t("worklist.search_hint")),
        field("sort", t("worklist.sort"), h("select", { id: "sort", onchange: (ev) => { S.sort = ev.target.value; render(); } },
          h("option", { value: "sls", selected: S.sort === "sls" }, t("worklist.sort_sls")),
          h("option", { value: "address", selected: S.sort === "address" }, t("worklist.sort_address"))))),
      h("div", { id: "list" }, listBody(groups, total)));
  }

  /* "Record a new household", once, above the list: in an SLS on the phone or a typed SLS code. */
  function slsOnPhone() { return [...new Set(Object.values(S.households).map((hh) => hh.entry.sls_code))].sort(); }

  function foundAction() {
    const F = S.found, codes = slsOnPhone(), chosen = F.sls || codes[0] || "other";
    return h("div", { class: "found", id: "found-action" },
      field("found-sls", t("found.sls"), h("select", { id: "found-sls",
        onchange: (ev) => { F.sls = ev.target.value; F.error = null; render(); } },
        codes.map((c) => h("option", { value: c, selected: chosen === c }, c)),
        h("option", { value: "other", selected: chosen === "other" }, t("found.other")))),
      chosen === "other" ? field("found-code", t("found.code"), h("input", { id: "found-code", inputmode: "numeric", autocomplete: "off",
        maxlength: "14", value: F.code, oninput: (ev) => { F.code = ev.target.value; } }), F.error) : null,
      h("button", { type: "button", class: "secondary", id: "found-start", onclick: () => {
        if (chosen !== "other") { startFound(chosen); return; }
        const code = F.code.replace(/\s/g, "");
        F.error = !code ? "missing_field" : code.length !== 14 || CensusRules.checkAreaCode(code) ? "invalid_area_code" : null;
        if (F.error) { render(); $("found-code").focus(); return; }
        startFound(code);
      } }, t("found.record")));
  }

  function listBody(groups, total) {
    if (!total) return h("p", { id: "empty" }, S.sync.at ? t("worklist.empty") : t("worklist.not_synced"));
    if (!groups.length) return h("p", { id: "empty" }, t("worklist.no_match"));
    return groups.map((g) => h("section", { "aria-label": g.key ? t("worklist.sls", { sls: g.key }) : t("worklist.all") },
      g.key ? h("h2", { class: "sls" }, t("worklist.sls", { sls: g.key })) : null,
      h("ul", { class: "hhs" }, g.items.map((hh) => h("li", {},
        h("a", { class: "hh", href: "#household/" + hh.kk, id: "hh-" + hh.kk },
          h("strong", {}, hh.entry.head_name || hh.kk),
          h("span", { class: "facts" }, (hh.entry.address || "") + " · " + (isCase(hh.entry) ? t("case.reference_short", { reference: refText(hh.kk) }) : "KK " + hh.kk)),
          tags(hh.kk)))))));
  }

  /* Typing in the search box redraws the list only (focus and caret stay). */
  function renderList() {
    const list = $("list");
    if (list) list.replaceChildren(...[listBody(groupedHouseholds(), Object.keys(S.households).length)].flat());
  }

  /* What a refusal means for the officer, where it differs from what a resident is told. */
  function problemText(code, status) {
    const own = window.CENSUS_MESSAGES[S.lang].ui["problem.code." + code];
    return own || errorText(code, status);
  }

  function problemBox(item) {
    const e = item.error || {};
    const what = itemText(item);
    const interview = item.body.outcome === "interviewed" || item.body.outcome === "enrolled";
    const fix = interview && e.status === 422 ? () => startInterview(S.kk, item)
      : item.kind === "household" && (e.status === 422 || e.status === 409) ? () => startFound(item.body.sls_code, item) : null;
    return h("div", { class: "problem", id: "problem-" + item.seq, role: "alert" },
      h("h2", {}, t("problem.title", { what: what })),
      h("p", { "data-code": e.code }, problemText(e.code, e.status)),
      h("p", { class: "hint" }, t("problem.recorded", { when: wib(item.created_at) })),
      fix ? h("button", { type: "button", class: "secondary", id: "fix-" + item.seq, onclick: fix }, t("problem.fix")) : null,
      h("button", { type: "button", class: "link", id: "dismiss-" + item.seq, onclick: () => dismiss(item) }, t("problem.dismiss")));
  }

  function viewHousehold() {
    const hh = S.households[S.kk];
    if (!hh) return viewWorklist();
    if (isCase(hh.entry) || isFound(hh.entry)) return viewCase(hh);
    const L = local(S.kk), e = hh.entry, p = hh.prefill;
    return h("section", { "aria-labelledby": "household-title" },
      h("p", {}, h("a", { href: "#worklist", id: "back" }, t("back.worklist"))),
      h("h1", { id: "household-title" }, e.head_name || hh.kk),
      failedOf(S.kk).map(problemBox),
      h("dl", { class: "facts-list" },
        h("dt", {}, t("field.kk")), h("dd", {}, hh.kk),
        h("dt", {}, t("household.address")), h("dd", {}, e.address || ""),
        h("dt", {}, t("household.sls")), h("dd", {}, e.sls_code),
        h("dt", {}, t("status.status")), h("dd", { id: "hh-status" }, choice("Status", e.status)),
        h("dt", {}, t("household.reason")), h("dd", { id: "hh-reason" }, L.interviewed ? t("tag.interviewed") : L.exhausted ? t("reason.attempts_exhausted")
          : e.done ? t("reason.done") : t("reason." + e.reason)),
        h("dt", {}, t("household.attempts")), h("dd", { id: "hh-attempts" }, t("household.attempts_value", { count: L.attempts, left: L.left }))),
      tags(S.kk),
      e.done && !L.exhausted && !L.interviewed ? notice("household.no_visit", {}, "info") : null,
      L.exhausted ? notice("household.exhausted", {}, "warning") : null,
      L.queued.length ? h("div", {}, h("h2", {}, t("household.queued")),
        h("ul", { id: "queued" }, L.queued.map((i) => h("li", {}, itemText(i) + " · " + wib(i.created_at))))) : null,
      hh.sent.length ? h("div", {}, h("h2", {}, t("household.sent")),
        h("ul", {}, hh.sent.map((s) => h("li", {}, choice("Outcome", s.outcome) + " · " + wib(s.at))))) : null,
      p ? h("div", {}, h("h2", {}, t("household.members")),
        h("ul", { id: "register" }, p.register_members.map((m) => h("li", {}, m.name + " · " + choice("Relationship", m.relationship))))) : null,
      h("div", { class: "bar" },
        L.canInterview ? h("button", { type: "button", class: "primary", id: "start-interview", onclick: () => startInterview(S.kk) }, t("interview.start")) : null,
        L.canFail ? h("button", { type: "button", class: "secondary", id: "record-visit", onclick: () => startVisit(S.kk) }, t("visit.record")) : null));
  }

  function consentBox(state) {
    return h("div", { class: "check" },
      h("input", { type: "checkbox", id: "consent", checked: !!state.consent, "aria-describedby": "consent-hint",
        onchange: (ev) => { state.consent = ev.target.checked; } }),
      h("div", {}, h("label", { for: "consent" }, t("paradata.consent")), h("p", { class: "hint", id: "consent-hint" }, t("paradata.hint"))));
  }

  function newVisit() { return { outcome: null, duplicate_of: "", note: "", consent: false, errors: {}, busy: false }; }

  function startVisit(kk) {
    S.visit = newVisit();
    go("visit", kk);
  }

  function viewVisit() {
    const hh = S.households[S.kk], v = S.visit;
    if (!hh || !v) return viewWorklist();
    const L = local(S.kk);
    return h("section", { "aria-labelledby": "visit-title" },
      h("p", {}, h("a", { href: "#household/" + S.kk, id: "back" }, t("back.household"))),
      h("h1", { id: "visit-title" }, t("visit.title", { name: hh.entry.head_name || hh.kk })),
      summaryBox(Object.entries(v.errors).map(([name, code]) => ({ code: code, target: name, label: () => t("visit." + name) }))),
      h("p", {}, t("visit.intro", { left: L.left })),
      h("form", { id: "visit-form", novalidate: true, onsubmit: saveVisit },
        radios("outcome", t("visit.outcome"), "outcome", FAILED_OUTCOMES.concat(ADDRESS_OUTCOMES).map((o) => [o, choice("Outcome", o)]), v.outcome,
          (o) => { const redraw = (o === "duplicate") !== (v.outcome === "duplicate"); v.outcome = o; delete v.errors.outcome; if (redraw) render(); },
          v.errors.outcome),
        v.outcome === "duplicate" ? field("duplicate_of", t("visit.duplicate_of"), h("input", { id: "duplicate_of", inputmode: "numeric",
          autocomplete: "off", maxlength: "16", value: v.duplicate_of, oninput: (ev) => { v.duplicate_of = ev.target.value; } }),
          v.errors.duplicate_of) : null,
        field("note", t("visit.note"), h("textarea", { id: "note", maxlength: "500", oninput: (ev) => { v.note = ev.target.value; } }, v.note),
          v.errors.note, t("visit.note_hint")),
        consentBox(v),
        h("button", { type: "submit", class: "primary", id: "save-visit", disabled: v.busy }, t("visit.save"))));
  }

  async function saveVisit(event) {
    event.preventDefault();
    const v = S.visit, kk = S.kk;
    if (v.busy) return;  // a double tap files once
    v.errors = {};
    if (!v.outcome) v.errors.outcome = "missing_field";
    const duplicateOf = v.duplicate_of.replace(/\s/g, "");
    if (v.outcome === "duplicate" && !duplicateOf) v.errors.duplicate_of = "missing_field";
    else if (v.outcome === "duplicate" && (!KK_PATTERN.test(duplicateOf) || duplicateOf === kk)) v.errors.duplicate_of = "invalid_kk";
    if (CONTROL.test(v.note)) v.errors.note = "invalid_value";
    if (Object.keys(v.errors).length) { render(); focusFirstError(); return; }
    v.busy = true;
    render();
    const body = { outcome: v.outcome, recorded_at: new Date().toISOString() };
    if (v.outcome === "duplicate") body.duplicate_of = duplicateOf;
    if (v.note.trim()) body.note = v.note.trim();
    const where = await position(v.consent);
    if (where) body.position = where;
    await enqueue(kk, "visit", body);
    S.visit = null;
    S.notice = { key: "notice.visit_saved", vars: { outcome: choice("Outcome", body.outcome) } };
    go("household", kk);
    S.notice = null;
  }

  function startInterview(kk, failed) {
    const hh = S.households[kk];
    const p = hh.prefill;
    const enrolment = isCase(hh.entry);  // a report's case: the household is enrolled from this interview
    S.interview = { members: [], nextUid: 1, summary: [], respondent: null, consent: false, busy: false,
      replaces: failed ? failed.seq : null, enrolment: enrolment,
      kk: failed && failed.body.kk ? failed.body.kk : enrolment ? hh.entry.kk || "" : null };
    form = CensusForm.create(ui, S.interview, { render: render, doneTarget: "save-interview", enrolment: enrolment });
    const start = failed ? failed.body.response : p && p.latest_response ? { members: p.latest_response.members, departed: [] } : null;
    S.interview.members = form.membersFrom(p ? p.register_members : [], start);
    if (!S.interview.members.length) S.interview.members.push(form.newMember(null));
    if (failed) {
      S.interview.respondent = failed.body.response.respondent_nik;
      form.placeServerProblems(failed.error.problems, "response.");
    } else {
      const head = p ? p.register_members.find((m) => m.relationship === "head") : null;
      S.interview.respondent = head ? head.nik : null;
    }
    go("interview", kk);
  }

  /* A household on no list found in an SLS, enrolled like a case; `failed`: a refused one to correct. */
  function startFound(sls, failed) {
    const body = failed ? failed.body : null;
    S.interview = { members: [], nextUid: 1, summary: [], replaces: failed ? failed.seq : null, enrolment: true, found: sls,
      was: failed ? failed.kk : null,
      kk: body ? body.kk : "", address: body ? body.address : "" };
    form = CensusForm.create(ui, S.interview, { render: render, doneTarget: "save-interview", enrolment: true });
    S.interview.members = form.membersFrom([], body ? body.response : null);
    if (!S.interview.members.length) S.interview.members.push(form.newMember(null));
    if (failed) {
      S.interview.respondent = body.response.respondent_nik;
      form.placeServerProblems(failed.error.problems, "response.");
      for (const p of failed.error.problems || []) {
        if (p.field === "kk" || p.field === "address") S.interview[p.field + "Error"] = p.code;
      }
      if (failed.error.code === "household_exists") {
        S.interview.kkError = "household_exists";
        S.interview.summary = [{ code: "household_exists", target: "enrol-kk", label: () => t("case.kk_on_card") }];
      }
    }
    go("interview", sls);
  }

  function viewInterview() {
    const I = S.interview, hh = I && I.found ? null : S.households[S.kk];
    if (!I || (!hh && !I.found)) return viewWorklist();
    const present = I.members.filter((m) => !m.departed && m.f.nik);
    const title = I.found ? t("found.start") + " · " + t("worklist.sls", { sls: I.found })
      : t(I.enrolment ? "interview.enrol_title" : "interview.title", { name: hh.entry.head_name || hh.kk });
    return h("section", { "aria-labelledby": "interview-title" },
      h("p", {}, I.found ? h("a", { href: "#worklist", id: "back" }, t("back.worklist"))
        : h("a", { href: "#household/" + S.kk, id: "back" }, t("back.household"))),
      h("h1", { id: "interview-title" }, title),
      summaryBox(I.summary),
      h("p", {}, t(I.found ? "found.intro" : I.enrolment ? "interview.enrol_intro" : "interview.intro")),
      I.enrolment ? field("enrol-kk", t("case.kk_on_card"), h("input", { id: "enrol-kk", inputmode: "numeric", autocomplete: "off",
        maxlength: "16", value: I.kk || "", oninput: (ev) => { I.kk = ev.target.value; } }), I.kkError) : null,
      I.found ? field("found-address", t("household.address"), h("input", { id: "found-address", autocomplete: "off", maxlength: "200",
        value: I.address, oninput: (ev) => { I.address = ev.target.value; } }), I.addressError) : null,
      field("respondent", t("interview.respondent"), h("select", { id: "respondent", onchange: (ev) => { I.respondent = ev.target.value || null; } },
        h("option", { value: "" }, t("choose")),
        present.map((m) => h("option", { value: m.f.nik, selected: I.respondent === m.f.nik }, form.memberLabel(m)))), I.respondentError),
      h("ol", { class: "members" }, I.members.map(form.viewMember)),
      h("button", { type: "button", class: "secondary", id: "add-member", onclick: form.addMember }, t("member.add")),
      I.enrolment ? null : consentBox(I),  // a resolution carries no position
      h("div", { class: "bar" },
        h("button", { type: "button", class: "primary", id: "save-interview", disabled: I.busy, onclick: saveInterview }, t("interview.save"))));
  }

  async function saveInterview() {
    const I = S.interview, kk = S.kk;
    if (I.busy) return;  // a double tap files once
    I.respondentError = null;
    I.kkError = null;
    I.addressError = null;
    const ok = form.validateAll();
    const address = (I.address || "").trim();
    const first = [];  // the form's own fields, in page order, before the members' problems
    if (I.enrolment) {
      I.kk = (I.kk || "").replace(/\s/g, "");
      const taken = I.found && S.households[I.kk] && I.kk !== I.was;
      if (!KK_PATTERN.test(I.kk) || taken) {
        I.kkError = taken ? "household_exists" : I.kk ? "invalid_kk" : "missing_field";
        first.push({ code: I.kkError, target: "enrol-kk", label: () => t("case.kk_on_card") });
      }
    }
    if (I.found && (!address || CONTROL.test(address))) {
      I.addressError = address ? "invalid_value" : "missing_field";
      first.push({ code: I.addressError, target: "found-address", label: () => t("household.address") });
    }
    const present = I.members.filter((m) => !m.departed);
    if (!I.respondent || !present.some((m) => m.f.nik === I.respondent)) {
      I.respondentError = "missing_field";
      first.push({ code: "missing_field", target: "respondent", label: () => t("interview.respondent") });
    }
    I.summary = first.concat(I.summary);
    if (!ok || I.respondentError || I.kkError || I.addressError) { render(); focusFirstError(); return; }
    I.busy = true;
    render();
    const response = Object.assign({ respondent_nik: I.respondent }, form.submissionBody());
    if (I.found) {
      const body = { kk: I.kk, sls_code: I.found, address: address, response: response };
      await keepFound(body, I.replaces, I.was);
      S.interview = null;
      S.notice = { key: "notice.interview_saved" };
      go("household", body.kk);
      S.notice = null;
      return;
    }
    if (I.enrolment) {
      const reported = S.households[kk].entry.kk;
      const body = { outcome: "enrolled", response: response };
      if (I.kk !== reported) body.kk = I.kk;
      await enqueue(kk, "resolution", body, I.replaces);
      S.interview = null;
      S.notice = { key: "notice.resolution_saved", vars: { outcome: t("resolution.enrolled") } };
      go("household", kk);
      S.notice = null;
      return;
    }
    const body = { outcome: "interviewed", response: response, recorded_at: new Date().toISOString() };
    const where = await position(I.consent);
    if (where) body.position = where;
    await enqueue(kk, "interview", body, I.replaces);
    S.interview = null;
    S.notice = { key: "notice.interview_saved" };
    go("household", kk);
    S.notice = null;
  }

  async function keepFound(body, replaces, was) {
    const head = body.response.members.find((m) => m.relationship === "head");
    const hh = { kk: body.kk, prefill: null, sent: [], entry: { kk: body.kk, sls_code: body.sls_code, address: body.address,
      head_name: head ? head.name : "", reason: FOUND_REASON, status: null, done: false } };
    if (was && was !== body.kk) { delete S.households[was]; await DB.del("households", was); }
    S.households[body.kk] = hh;
    await DB.put("households", hh);
    await enqueue(body.kk, "household", body, replaces);
  }

  // ---------------------------------------------------------------- a report's case

  /* A household the register missed, as the resident reported it: enrol it (the interview),
     match it to a register household, or close it as not found. Also a `found` household. */
  function viewCase(hh) {
    const L = local(hh.kk), e = hh.entry, found = isFound(e);
    const receipt = hh.sent.map((s) => s.receipt_code).filter(Boolean)[0];
    return h("section", { "aria-labelledby": "household-title" },
      h("p", {}, h("a", { href: "#worklist", id: "back" }, t("back.worklist"))),
      h("h1", { id: "household-title" }, e.head_name || hh.kk),
      h("p", { class: "notice info", id: "case-label" }, t(found ? "found.start" : "case.label")),
      S.notice ? notice(S.notice.key, S.notice.vars, S.notice.kind) : null,
      failedOf(hh.kk).map(problemBox),
      h("dl", { class: "facts-list" },
        found ? [h("dt", {}, t("field.kk")), h("dd", { id: "found-kk" }, hh.kk)]
          : [h("dt", {}, t("report.reference")), h("dd", { id: "case-reference" }, refText(e.reference)),
            h("dt", {}, t("case.head")), h("dd", { id: "case-head" }, e.head_name || "")],
        h("dt", {}, t(found ? "household.address" : "case.address")), h("dd", { id: "case-address" }, e.address || ""),
        h("dt", {}, t("household.sls")), h("dd", {}, e.sls_code),
        found ? null : [h("dt", {}, t("case.kk")), h("dd", {}, e.kk || "")],
        e.phone ? [h("dt", {}, t("case.phone")), h("dd", {}, h("a", { href: "tel:" + e.phone.replace(/[^\d+]/g, "") }, e.phone))] : null,
        h("dt", {}, t("status.status")), h("dd", { id: "hh-status" }, !found ? t("resolution." + e.status)
          : e.done ? choice("Status", e.status) : t("tag.pending", { count: 1 })),
        receipt ? [h("dt", {}, t("field.receipt_code")), h("dd", { id: "found-receipt" }, refText(receipt))] : null),
      tags(hh.kk),
      L.queued.length ? h("div", {}, h("h2", {}, t("household.queued")),
        h("ul", { id: "queued" }, L.queued.map((i) => h("li", {}, itemText(i) + " · " + wib(i.created_at))))) : null,
      hh.sent.length && !found ? h("div", {}, h("h2", {}, t("household.sent")),
        h("ul", {}, hh.sent.map((s) => h("li", {}, t("resolution." + s.outcome) + " · " + wib(s.at))))) : null,
      L.canResolve ? h("div", { class: "bar" },
        h("button", { type: "button", class: "primary", id: "case-enrol", onclick: () => startInterview(hh.kk) }, t("case.enrol")),
        h("button", { type: "button", class: "secondary", id: "case-resolve", onclick: () => startResolve(hh.kk) }, t("case.resolve"))) : null);
  }

  function newResolve() { return { outcome: null, kk: "", reason: null, note: "", errors: {}, busy: false }; }

  function startResolve(id) {
    S.resolve = newResolve();
    go("resolve", id);
  }

  function viewResolve() {
    const hh = S.households[S.kk], r = S.resolve;
    if (!hh || !r || !isCase(hh.entry)) return viewWorklist();
    const labels = { outcome: "resolve.outcome", kk: "resolve.kk", reason: "resolve.reason", note: "visit.note" };
    return h("section", { "aria-labelledby": "resolve-title" },
      h("p", {}, h("a", { href: "#household/" + S.kk, id: "back" }, t("back.household"))),
      h("h1", { id: "resolve-title" }, t("resolve.title", { reference: refText(hh.kk) })),
      summaryBox(Object.entries(r.errors).map(([name, code]) => ({ code: code, target: name === "outcome" || name === "reason" ? name : "resolve-" + name, label: () => t(labels[name]) }))),
      h("form", { id: "resolve-form", novalidate: true, onsubmit: saveResolve },
        radios("outcome", t("resolve.outcome"), "outcome", [["matched", t("resolve.matched")], ["not_found", t("resolution.not_found")]], r.outcome,
          (o) => { r.outcome = o; delete r.errors.outcome; render(); }, r.errors.outcome),
        r.outcome === "matched" ? field("resolve-kk", t("resolve.kk"), h("input", { id: "resolve-kk", inputmode: "numeric", autocomplete: "off",
          maxlength: "16", value: r.kk, oninput: (ev) => { r.kk = ev.target.value; } }), r.errors.kk) : null,
        r.outcome === "not_found" ? radios("reason", t("resolve.reason"), "reason", NOT_FOUND_REASONS.map((o) => [o, o === "nobody_lives_here" ? t("notfound." + o) : choice("Outcome", o)]), r.reason,
          (o) => { r.reason = o; delete r.errors.reason; }, r.errors.reason) : null,
        field("resolve-note", t("visit.note"), h("textarea", { id: "resolve-note", maxlength: "500", oninput: (ev) => { r.note = ev.target.value; } }, r.note),
          r.errors.note, t("visit.note_hint")),
        h("button", { type: "submit", class: "primary", id: "save-resolve", disabled: r.busy }, t("resolve.save"))));
  }

  async function saveResolve(event) {
    event.preventDefault();
    const r = S.resolve, id = S.kk;
    if (r.busy) return;  // a double tap files once
    r.errors = {};
    const kk = r.kk.replace(/\s/g, "");
    if (!r.outcome) r.errors.outcome = "missing_field";
    if (r.outcome === "matched" && !kk) r.errors.kk = "missing_field";
    else if (r.outcome === "matched" && !KK_PATTERN.test(kk)) r.errors.kk = "invalid_kk";
    if (r.outcome === "not_found" && !r.reason) r.errors.reason = "missing_field";
    if (CONTROL.test(r.note)) r.errors.note = "invalid_value";
    if (Object.keys(r.errors).length) { render(); focusFirstError(); return; }
    r.busy = true;
    render();
    const body = { outcome: r.outcome };
    if (r.outcome === "matched") body.kk = kk;
    if (r.outcome === "not_found") body.reason = r.reason;
    if (r.note.trim()) body.note = r.note.trim();
    await enqueue(id, "resolution", body);
    S.resolve = null;
    S.notice = { key: "notice.resolution_saved", vars: { outcome: t("resolution." + body.outcome) } };
    go("household", id);
    S.notice = null;
  }

  function viewSignout() {
    return h("section", { "aria-labelledby": "signout-title" },
      h("h1", { id: "signout-title" }, t("signout.title")),
      h("p", { class: "notice warning", role: "alert" }, t("signout.warning", { count: S.outbox.length })),
      h("button", { type: "button", class: "secondary", id: "signout-cancel", onclick: () => go("worklist") }, t("signout.cancel")),
      h("button", { type: "button", class: "primary danger-fill", id: "signout-confirm", onclick: () => signOut(true) }, t("signout.confirm")));
  }

  function viewEnded() {
    return h("section", { "aria-labelledby": "ended-title" },
      h("h1", { id: "ended-title" }, t("ended.title")),
      h("p", {}, t("ended.text")));
  }

  const VIEWS = { loading: viewLoading, signin: viewSignin, worklist: viewWorklist, household: viewHousehold, visit: viewVisit,
    interview: viewInterview, resolve: viewResolve, signout: viewSignout, ended: viewEnded };

  // ---------------------------------------------------------------- start

  function route() {
    const [view, kk] = (location.hash.replace("#", "") || "worklist").split("/");
    if (!S.officer) { S.view = "signin"; render(); return; }
    if (view !== "interview") S.interview = null;  // a form left by Back is not found again by Forward
    if ((view === "household" || view === "visit" || view === "interview" || view === "resolve") && S.households[kk]) {
      if (view === "visit" && !S.visit) { S.visit = newVisit(); }
      if (view === "resolve" && !S.resolve) { S.resolve = newResolve(); }
      if (view === "interview" && !S.interview) { startInterview(kk); return; }
      S.view = view; S.kk = kk;
    } else if (view === "signout") S.view = "signout";
    else { S.view = "worklist"; S.kk = null; }
    render();
  }

  async function load() {
    S.session = (await DB.get("kv", "session")) || null;
    S.officer = (await DB.get("kv", "officer")) || null;
    S.sync.at = (await DB.get("kv", "synced_at")) || null;
    for (const hh of await DB.all("households")) S.households[hh.kk] = hh;
    S.outbox = (await DB.all("outbox")).sort((a, b) => a.seq - b.seq);
  }

  async function start() {
    $("lang").addEventListener("click", () => {
      S.lang = S.lang === "id" ? "en" : "id";
      try { localStorage.setItem("census.lang", JSON.stringify(S.lang)); } catch (e) { /* private mode */ }
      render();
      $("lang").focus();
    });
    $("signout").addEventListener("click", () => signOut(false));
    window.addEventListener("popstate", route);
    window.addEventListener("online", () => { S.online = true; renderNetbar(); syncAll(); });
    window.addEventListener("offline", () => { S.online = false; renderNetbar(); });
    if ("serviceWorker" in navigator) navigator.serviceWorker.register("sw.js").catch(() => { /* works online without it */ });
    render();
    try { S.config = await AUTH.loadConfig("config.json"); } catch (e) { S.config = null; }
    await load();
    if (S.config && S.config.field_phase_end && Date.now() > Date.parse(S.config.field_phase_end)) {
      await wipe();
      S.view = "ended";
      render();
      return;
    }
    let returnTo = null;
    try {
      const back = S.config ? await AUTH.completeSignIn(S.config) : null;
      if (back) {
        if (S.officer && S.officer !== back.session.officer_id && (S.outbox.length || Object.keys(S.households).length)) {
          S.signinError = { code: "auth_other_officer" };
        } else {
          S.session = back.session;
          S.officer = back.session.officer_id;
          S.signinError = null;
          S.notice = null;
          await DB.put("kv", S.session, "session");
          await DB.put("kv", S.officer, "officer");
          returnTo = back.returnTo;
        }
      }
    } catch (error) {
      S.signinError = { code: error.code || "auth_failed" };
    }
    if (returnTo && returnTo !== location.hash) history.replaceState(null, "", location.pathname + returnTo);
    route();
    if (S.officer && signedIn() && navigator.onLine) syncAll();
  }

  start();
})();
