/* The supervisors' console: progress by area (charts, table, CSV), worklists (preview, generate,
   loads, reassignment), the review queue, password resets with a one-time code, and the audit
   trail. A client of the API only (/v1/...); plain JavaScript, no build step. Views are drawn
   from the URL's hash (#/progress/1671, #/review/1671010, #/household/<kk>, ...), so the
   browser's back button and bookmarks work and every view can be opened by keyboard. Staff
   sign in through js/staff-auth.js (OAuth code + PKCE, as the officers' app does); the ID token
   lives in this tab's sessionStorage only. */
(function () {
  "use strict";

  const MESSAGES = window.CENSUS_MESSAGES;  // shared: error messages and choice labels
  const TEXTS = window.CENSUS_CONSOLE_MESSAGES;  // the console's own (console/messages.js)
  const AUTH = window.CensusStaffAuth;
  const SESSION = "census.console.session";  // sessionStorage: {token, officer_id, groups, expires_at}
  const Charts = window.ConsoleCharts;
  const LEVELS = { 2: "province", 4: "regency", 7: "district", 10: "village", 14: "sls", 16: "sub_sls" };
  const CHILD = { 2: 4, 4: 7, 7: 10, 10: 14 };
  // Stacking order of the bars; colours keep 3:1 against white (WCAG 1.4.11) and are told apart
  // by the legend and the table as well, never by colour alone.
  const SEGMENTS = [
    { key: "clean", color: "#1c6b34" },
    { key: "interviewed", color: "#0b4f8a" },
    { key: "needs_review", color: "#b35c00" },
    { key: "not_home", color: "#6b3fa0" },
    { key: "refused", color: "#a4161a" },
    { key: "moved", color: "#4a5360" },
    { key: "address_not_found", color: "#7a4b12" },
    { key: "not_residential", color: "#1f6f6b" },
    { key: "duplicate", color: "#9c2a72" },
    { key: "pending", color: "#8a8f96" }
  ];
  // The API's progress figures (shared/store/schema.py PROGRESS_FIELDS), each a figure, a column and a CSV field.
  const COLUMNS = ["households", "responded_online", "interviewed", "clean", "needs_review", "awaiting_review", "pending", "to_visit",
    "address_not_found", "not_residential", "duplicate", "reported", "enrolled"];
  const REASONS = ["head_not_register_head", "child_age_implausible", "grandchild_age_implausible", "parent_age_implausible",
    "parent_in_law_age_implausible", "spouse_under_15", "member_missing_without_reason", "member_added_without_reason"];
  const lang = { current: (function () { try { return localStorage.getItem("census.lang") === "en" ? "en" : "id"; } catch (e) { return "id"; } })() };
  let me = null;  // {officer_id, roles, areas}
  let notice = null;  // {kind, text} shown once on the next view
  let authConfig = null;  // config.json: where staff sign in
  let signinError = null;  // {code} of a sign-in that came back refused
  const names = {};  // area code -> name, learnt from the API's answers (their area_names)

  // ---------------------------------------------------------------- text

  function t(key, vars) {
    let text = TEXTS[lang.current][key];
    if (text === undefined) text = TEXTS.id[key] || key;
    return text.replace(/\{(\w+)\}/g, (_, name) => (vars && vars[name] !== undefined ? vars[name] : ""));
  }
  function errorText(code) {
    return MESSAGES[lang.current].errors[code] || MESSAGES[lang.current].errors.unknown_error;
  }
  function statusLabel(status) { return MESSAGES[lang.current].choices["Status." + status] || status; }
  function reasonLabel(reason) { return t("reason." + reason); }
  function number(n) { return new Intl.NumberFormat(lang.current === "id" ? "id-ID" : "en-GB").format(n || 0); }
  function pct(part, whole) { return whole ? (100 * part / whole).toFixed(1) + "%" : "–"; }
  function when(iso) {
    if (!iso) return "–";
    return new Date(iso).toLocaleString(lang.current === "id" ? "id-ID" : "en-GB", { dateStyle: "medium", timeStyle: "short" });
  }
  function clock(iso) {
    const moment = new Date(iso), locale = lang.current === "id" ? "id-ID" : "en-GB";
    return moment.toDateString() === new Date().toDateString()
      ? moment.toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" }) : when(iso);
  }
  function levelName(code) { return t("level." + LEVELS[code.length]); }
  /* Names beside the codes: "Kecamatan 1671010 – Ilir Barat II"; a code the area list does not
     name stays a bare code. */
  function areaName(code) { return names[code] || ""; }
  function named(code) { return areaName(code) ? code + " – " + areaName(code) : code; }
  function areaLabel(code) { return levelName(code) + " " + named(code); }
  function learn(answer) {
    if (answer && typeof answer === "object" && answer.area_names) Object.assign(names, answer.area_names);
    return answer;
  }

  // ---------------------------------------------------------------- DOM

  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (k === "text") node.textContent = v;
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.appendChild(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
    }
    return node;
  }
  function field(id, label, control, hint) {
    return h("div", { class: "field" }, h("label", { for: id }, label), hint ? h("p", { class: "hint", id: id + "-hint" }, hint) : null, control);
  }
  function selectOf(id, options, value, extra) {
    return h("select", { id, name: id, ...(extra || {}) }, options.map(([v, label]) => h("option", { value: v, selected: v === value }, label)));
  }
  function table(caption, head, rows, opts) {
    return h("div", { class: "panel", role: "region", "aria-label": caption, tabindex: "0" },
      h("table", { class: "data", id: opts && opts.id },
        h("caption", {}, caption),
        h("thead", {}, h("tr", {}, head.map((c, i) => h("th", { scope: "col", class: i && !(opts && opts.numeric === false) ? null : "text" }, c)))),
        h("tbody", {}, rows.length ? rows : [h("tr", {}, h("td", { colspan: head.length }, t("empty")))])));
  }
  function say(kind, text) { notice = { kind, text }; }
  function problem(error) {
    return h("div", { class: "notice warning", role: "alert" }, errorText(error.code), error.message && !MESSAGES[lang.current].errors[error.code] ? " (" + error.message + ")" : "");
  }

  // ---------------------------------------------------------------- session

  function session() {
    try { return JSON.parse(sessionStorage.getItem(SESSION) || "null"); } catch (e) { return null; }
  }
  function signedIn() { return !AUTH.expired(session()); }
  function forget() {
    try { sessionStorage.removeItem(SESSION); } catch (e) { /* private mode */ }
    me = null;
  }
  async function startSignIn() {
    if (!authConfig) return;
    await AUTH.signIn(authConfig, location.hash);
  }
  function signOut() {
    forget();
    const url = authConfig ? AUTH.signOutUrl(authConfig) : null;
    if (url) { location.assign(url); return; }
    location.hash = "#/progress";
    render();
  }

  // ---------------------------------------------------------------- API

  class ApiError extends Error {
    constructor(status, code, message) { super(message || code); this.status = status; this.code = code; }
  }
  async function api(method, path, body) {
    const headers = { Authorization: "Bearer " + ((session() || {}).token || "") };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let answer;
    try {
      answer = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      throw new ApiError(0, "network_error");
    }
    const type = answer.headers.get("Content-Type") || "";
    if (!answer.ok) {
      let code = "unknown_error", message = "";
      if (type.includes("json")) {
        const data = await answer.json().catch(() => null);
        if (data && data.error) { code = data.error.code; message = data.error.message; }
      }
      if (answer.status === 401) forget();
      throw new ApiError(answer.status, code, message);
    }
    return type.includes("json") ? learn(await answer.json()) : answer.text();
  }
  function download(name, text, type) {
    const blob = new Blob([text], { type: type || "text/csv;charset=utf-8" });
    const link = h("a", { href: URL.createObjectURL(blob), download: name, hidden: true }, name);
    document.body.appendChild(link);
    link.click();
    setTimeout(() => { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
  }
  function csvLine(values) {
    return values.map((v) => {
      const s = v === null || v === undefined ? "" : String(v);
      // A cell starting with = + - @ would be a formula in a spreadsheet: quote it as text.
      const safe = /^[=+\-@]/.test(s) ? "'" + s : s;
      return /[",\n]/.test(safe) ? '"' + safe.replace(/"/g, '""') + '"' : safe;
    }).join(",");
  }

  // ---------------------------------------------------------------- frame

  const main = () => document.getElementById("main");
  function route() {
    const raw = location.hash.replace(/^#\/?/, "");
    const [path, query] = raw.split("?");
    const parts = path.split("/").filter(Boolean);
    return { view: parts[0] || "progress", arg: parts[1] || null, query: new URLSearchParams(query || "") };
  }
  function homeArea() { return me && me.areas.length ? me.areas.slice().sort((a, b) => a.length - b.length)[0] : null; }

  function chrome(view) {
    document.documentElement.lang = lang.current;
    document.title = t("view." + view) + " – " + t("title");
    document.getElementById("site-title").textContent = t("title");
    document.getElementById("skip").textContent = t("skip");
    document.getElementById("footer").textContent = t("footer");
    document.getElementById("menu").setAttribute("aria-label", t("menu"));
    for (const name of ["progress", "worklists", "review", "reset", "audit"]) {
      const link = document.getElementById("nav-" + name);
      link.textContent = t("view." + name);
      link.hidden = !signedIn();
      if (name === view || (view === "household" && name === "review")) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    const switcher = document.getElementById("lang");
    switcher.textContent = "";
    switcher.appendChild(h("span", { lang: lang.current === "id" ? "en" : "id" }, lang.current === "id" ? "English" : "Bahasa Indonesia"));
    switcher.setAttribute("aria-label", t("lang.switch"));
    const out = document.getElementById("signout");
    out.textContent = t("signout");
    out.hidden = !signedIn();
  }

  let renders = 0;
  /* Draws the current view into a fresh container and swaps it in when done, so a render that
     a newer one overtook (a quick second click) never mixes its elements with the newer one's. */
  async function render(focus) {
    const mine = ++renders;
    const r = route();
    chrome(r.view);
    const frame = main();
    frame.setAttribute("aria-busy", "true");
    const root = document.createElement("div");
    const swap = () => {
      if (mine !== renders) return false;
      frame.textContent = "";
      frame.appendChild(root);
      frame.setAttribute("aria-busy", "false");
      return true;
    };
    if (!signedIn()) { drawSignIn(root, signinError); swap(); return; }
    if (!me) {
      try { me = await api("GET", "/v1/staff/me"); } catch (e) {
        if (!signedIn()) { drawSignIn(root, e); swap(); return; }
        root.appendChild(problem(e)); swap(); return;
      }
    }
    if (notice) { root.appendChild(h("div", { class: "notice" + (notice.kind === "warning" ? " warning" : ""), role: "status" }, notice.text)); notice = null; }
    const views = { progress: drawProgress, worklists: drawWorklists, review: drawReview, household: drawHousehold, reset: drawReset, audit: drawAudit };
    const draw = views[r.view] || drawProgress;
    try {
      await draw(root, r);
    } catch (e) {
      if (!signedIn()) { root.textContent = ""; drawSignIn(root, e); swap(); return; }
      root.appendChild(problem(e));
    }
    if (!swap()) return;
    for (const swatch of root.querySelectorAll(".swatch")) swatch.style.background = swatch.dataset.color;
    if (focus !== false) { const h1 = root.querySelector("h1"); if (h1) { h1.tabIndex = -1; h1.focus(); } }
  }

  function drawSignIn(root, error) {
    root.appendChild(h("h1", {}, t("signin.title")));
    root.appendChild(h("p", {}, t("signin.intro")));
    if (error) root.appendChild(problem(error));
    else if (!authConfig) root.appendChild(problem({ code: "network_error" }));
    root.appendChild(h("button", { type: "button", class: "primary", id: "signin", disabled: !authConfig, onclick: startSignIn }, t("signin.submit")));
  }

  function crumbs(view, area) {
    const chain = [2, 4, 7, 10, 14].filter((n) => n <= area.length).map((n) => area.slice(0, n));
    const top = homeArea();
    const visible = chain.filter((code) => !top || code.length >= top.length);
    return h("nav", { class: "crumbs", "aria-label": t("crumbs") }, h("ol", {}, visible.map((code) =>
      h("li", {}, code === area ? h("span", { "aria-current": "page" }, areaLabel(code)) : h("a", { href: `#/${view}/${code}` }, areaLabel(code))))));
  }
  function areaPicker(view, area, query) {
    const form = h("form", { class: "toolbar", onsubmit: (event) => {
      event.preventDefault();
      const value = form.querySelector("#area-code").value.trim();
      location.hash = `#/${view}/${value}` + (query ? "?" + query : "");
    } },
    field("area-code", t("area.code"), h("input", { id: "area-code", name: "area", inputmode: "numeric", value: area, "aria-describedby": "area-code-hint" }), t("area.hint")),
    h("button", { type: "submit", class: "secondary" }, t("area.open")));
    return form;
  }

  // ---------------------------------------------------------------- progress

  function figureList(p) {
    return h("ul", { class: "figures", "aria-label": t("progress.figures") }, COLUMNS.map((k) =>
      h("li", {}, h("span", { class: "n" }, number(p[k])), h("span", { class: "l" }, t("col." + k)))),
    h("li", {}, h("span", { class: "n" }, pct(p.responded_online, p.households)), h("span", { class: "l" }, t("progress.rate"))));
  }

  async function drawProgress(root, r) {
    const area = r.arg || homeArea();
    const [p, history] = await Promise.all([
      api("GET", `/v1/areas/${area}/progress`),
      api("GET", `/v1/areas/${area}/progress/history`).catch(() => ({ days: [] }))
    ]);
    root.appendChild(crumbs("progress", area));
    root.appendChild(h("h1", {}, t("progress.title", { area: areaLabel(area) })));
    root.appendChild(h("p", { class: "small", id: "as-of" }, p.source === "rollup"
      ? t("progress.as_of", { time: clock(p.as_of), minutes: Math.round((p.refresh_seconds || 300) / 60) })
      : t("progress.live", { time: clock(p.as_of) })));
    root.appendChild(figureList(p));
    const children = p.children || [];
    if (children.length) {
      const segments = SEGMENTS.map((s) => ({ ...s, label: statusLabel(s.key) }));
      const chart = Charts.stackedBars(children.map((c) => ({ label: c.area_code.slice(area.length) + (areaName(c.area_code) ? " " + areaName(c.area_code) : ""), values: c })), segments,
        t("chart.bars", { area: areaLabel(area), n: children.length }));
      root.appendChild(h("section", { class: "panel", "aria-labelledby": "bars-title" },
        h("h2", { id: "bars-title" }, t("chart.bars_title", { level: t("level." + LEVELS[CHILD[area.length]]) })),
        h("ul", { class: "legend" }, segments.map((s) => h("li", {}, h("span", { class: "swatch", style: null, "data-color": s.color }), s.label))),
        chart));
    }
    const days = history.days || [];
    if (days.length) {
      const points = days.map((d) => ({ day: d.day, rate: d.households ? d.responded_online / d.households : 0 }));
      root.appendChild(h("section", { class: "panel", "aria-labelledby": "rate-title" },
        h("h2", { id: "rate-title" }, t("chart.rate_title")),
        Charts.rateLine(points, t("chart.rate", { area: areaLabel(area), first: days[0].day, last: days[days.length - 1].day,
          rate: pct(days[days.length - 1].responded_online, days[days.length - 1].households) })),
        h("p", { class: "small" }, t("chart.rate_note"))));
    }
    const rows = children.map((c) => h("tr", {},
      h("th", { scope: "row", class: "text" }, CHILD[area.length] ? h("a", { href: `#/progress/${c.area_code}` }, areaLabel(c.area_code)) : areaLabel(c.area_code)),
      COLUMNS.map((k) => h("td", {}, number(c[k]))), h("td", {}, pct(c.responded_online, c.households))));
    const head = [t("col.area"), ...COLUMNS.map((k) => t("col." + k)), t("progress.rate")];
    root.appendChild(h("div", { class: "actions" },
      h("button", { type: "button", class: "secondary", id: "progress-csv", onclick: () => {
        const lines = [csvLine(["area_code", "name", ...COLUMNS]), csvLine([p.area_code, areaName(p.area_code), ...COLUMNS.map((k) => p[k])]),
          ...children.map((c) => csvLine([c.area_code, areaName(c.area_code), ...COLUMNS.map((k) => c[k])]))];
        download(`progress-${area}.csv`, lines.join("\n") + "\n");
      } }, t("progress.csv")),
      h("a", { href: `#/worklists/${area}` }, t("progress.to_worklists")),
      h("a", { href: `#/review/${area}` }, t("progress.to_review")),
      h("a", { href: `#/audit/${area}` }, t("progress.to_audit"))));
    root.appendChild(table(t("progress.table", { level: children.length ? t("level." + LEVELS[CHILD[area.length]]) : "" }), head, rows, { id: "progress-table" }));
  }

  // ---------------------------------------------------------------- worklists

  async function drawWorklists(root, r) {
    const area = r.arg || homeArea();
    let loads, failed = null;
    try { loads = await api("GET", `/v1/areas/${area}/worklists`); } catch (e) { failed = e; }
    root.appendChild(crumbs("worklists", area));
    root.appendChild(h("h1", {}, t("worklists.title", { area: areaLabel(area) })));
    root.appendChild(areaPicker("worklists", area));
    const previewBox = h("div", { id: "preview" });
    root.appendChild(h("section", { "aria-labelledby": "gen-title" },
      h("h2", { id: "gen-title" }, t("worklists.generate_title")),
      h("p", {}, t("worklists.generate_intro")),
      h("button", { type: "button", class: "primary", id: "preview-button", onclick: async (event) => {
        event.target.disabled = true;
        previewBox.textContent = "";
        try { showPreview(previewBox, area, await api("GET", `/v1/areas/${area}/worklists/preview`)); } catch (e) { previewBox.appendChild(problem(e)); }
        event.target.disabled = false;
      } }, t("worklists.preview")),
      previewBox));
    if (failed) { root.appendChild(problem(failed)); return; }
    const officers = loads.officers || [];
    root.appendChild(h("h2", {}, t("worklists.loads_title")));
    root.appendChild(h("p", {}, loads.generated_at ? t("worklists.generated", { when: when(loads.generated_at), who: loads.generated_by || "–", n: number(loads.households), done: number(loads.done) }) : t("worklists.none")));
    const rows = officers.map((o) => h("tr", {},
      h("th", { scope: "row", class: "text" }, o.officer_id), h("td", {}, number(o.households)), h("td", {}, number(o.done)),
      h("td", {}, pct(o.done, o.households)), h("td", { class: "text" }, o.sls.map((s) => `${named(s.sls_code)} (${s.households})`).join(", "))));
    root.appendChild(table(t("worklists.loads_caption"), [t("col.officer"), t("col.households"), t("col.done"), t("col.done_rate"), t("col.sls")], rows, { id: "loads-table" }));
    root.appendChild(reassignForm(area, officers));
  }

  function showPreview(box, area, preview) {
    box.appendChild(h("div", { class: "notice", role: "status" }, t("worklists.preview_summary", {
      n: number(preview.households), officers: number(preview.officers_assigned), max: number(preview.max_load),
      bound: preview.balance_bound === null ? t("worklists.bound_per_group") : number(preview.balance_bound), split: number(preview.sls_split) })));
    const rows = preview.per_officer.map((o) => h("tr", {}, h("th", { scope: "row", class: "text" }, o.officer_id),
      h("td", {}, number(o.households)), h("td", {}, number(o.sls.length)), h("td", { class: "text" }, o.sls.map(named).join(", "))));
    box.appendChild(table(t("worklists.preview_caption"), [t("col.officer"), t("col.households"), t("col.sls_count"), t("col.sls")], rows, { id: "preview-table" }));
    box.appendChild(h("button", { type: "button", class: "primary", id: "confirm-button", onclick: async (event) => {
      event.target.disabled = true;
      try {
        const done = await api("POST", `/v1/areas/${area}/worklists`);
        say("ok", t("worklists.confirmed", { n: number(done.households), officers: number(done.officers_assigned) }));
        render();
      } catch (e) { box.appendChild(problem(e)); event.target.disabled = false; }
    } }, t("worklists.confirm")));
  }

  function reassignForm(area, officers) {
    const ids = officers.map((o) => o.officer_id);
    const result = h("div", { role: "status" });
    const form = h("form", { id: "reassign", novalidate: true, onsubmit: async (event) => {
      event.preventDefault();
      result.textContent = "";
      const what = form.querySelector("#reassign-what").value.trim();
      const body = { from_officer: form.querySelector("#reassign-from").value, to_officer: form.querySelector("#reassign-to").value.trim() };
      if (what.length === 16 && what.slice(14) !== "00" && !/^\d{14}00$/.test(what)) body.kk = what; else body.sls_code = what;
      if (!body.from_officer) delete body.from_officer;
      try {
        const moved = await api("POST", `/v1/areas/${area}/worklists/reassign`, body);
        say("ok", t("worklists.reassigned", { n: number(moved.moved), to: moved.to_officer }));
        render();
      } catch (e) { result.appendChild(problem(e)); }
    } },
    h("h2", {}, t("worklists.reassign_title")),
    h("p", {}, t("worklists.reassign_intro")),
    h("div", { class: "toolbar" },
      field("reassign-from", t("worklists.from"), selectOf("reassign-from", [["", t("worklists.any_officer")], ...ids.map((i) => [i, i])], "")),
      field("reassign-what", t("worklists.what"), h("input", { id: "reassign-what", name: "what", inputmode: "numeric", "aria-describedby": "reassign-what-hint", required: true }), t("worklists.what_hint")),
      field("reassign-to", t("worklists.to"), h("input", { id: "reassign-to", name: "to", list: "officer-ids", required: true, autocomplete: "off" })),
      h("datalist", { id: "officer-ids" }, ids.map((i) => h("option", { value: i }))),
      h("button", { type: "submit", class: "primary" }, t("worklists.reassign"))),
    result);
    return form;
  }

  // ---------------------------------------------------------------- review queue

  async function drawReview(root, r) {
    const area = r.arg || homeArea();
    const reason = r.query.get("reason") || "";
    const queue = await api("GET", `/v1/areas/${area}/review?limit=200` + (reason ? "&reason=" + encodeURIComponent(reason) : ""));
    root.appendChild(crumbs("review", area));
    root.appendChild(h("h1", {}, t("review.title", { area: areaLabel(area) })));
    const filter = h("form", { class: "toolbar", onsubmit: (event) => {
      event.preventDefault();
      const code = filter.querySelector("#review-area").value.trim();
      const chosen = filter.querySelector("#review-reason").value;
      location.hash = `#/review/${code}` + (chosen ? "?reason=" + chosen : "");
    } },
    field("review-area", t("area.code"), h("input", { id: "review-area", inputmode: "numeric", value: area })),
    field("review-reason", t("review.reason"), selectOf("review-reason", [["", t("review.any_reason")], ...REASONS.map((x) => [x, reasonLabel(x)])], reason)),
    h("button", { type: "submit", class: "secondary" }, t("review.filter")));
    root.appendChild(filter);
    const items = queue.households || [];
    root.appendChild(h("p", { role: "status" }, t("review.count", { n: number(items.length) }) + (queue.next_cursor ? " " + t("review.more") : "")));
    const rows = items.map((item) => h("tr", {},
      h("td", { class: "text" }, h("input", { type: "checkbox", class: "check pick", id: "pick-" + item.kk, value: item.kk, "data-version": item.version, "aria-label": t("review.pick", { kk: item.kk }) })),
      h("th", { scope: "row", class: "text" }, h("a", { href: `#/household/${item.kk}`, class: "mono" }, item.kk)),
      h("td", { class: "text" }, named(item.sls_code)), h("td", { class: "text" }, when(item.flagged_at)), h("td", {}, item.version),
      h("td", { class: "text" }, item.reasons.map(reasonLabel).join("; "))));
    root.appendChild(table(t("review.caption"), [t("review.select"), "KK", t("col.sls"), t("review.flagged_at"), t("review.version"), t("review.reasons")], rows, { id: "review-table", numeric: false }));
    if (!items.length) return;
    const result = h("div", { role: "status" });
    const bulk = h("form", { id: "bulk", novalidate: true, onsubmit: async (event) => {
      event.preventDefault();
      const decision = event.submitter ? event.submitter.value : "accept";
      const picked = [...root.querySelectorAll(".pick:checked")].map((c) => ({ kk: c.value, version: Number(c.dataset.version) }));
      result.textContent = "";
      if (!picked.length) { result.appendChild(h("p", { class: "error" }, t("review.pick_some"))); return; }
      try {
        const answer = await api("POST", `/v1/areas/${area}/review/decisions`, { decision, note: bulk.querySelector("#bulk-note").value || null, households: picked });
        say(answer.refused.length ? "warning" : "ok", t("review.bulk_done", { n: answer.decided.length, refused: answer.refused.length }));
        render();
      } catch (e) { result.appendChild(problem(e)); }
    } },
    h("h2", {}, t("review.bulk_title")),
    h("div", { class: "actions" },
      h("button", { type: "button", class: "link", id: "pick-all", onclick: () => { for (const c of root.querySelectorAll(".pick")) c.checked = true; } }, t("review.pick_all")),
      h("button", { type: "button", class: "link", onclick: () => { for (const c of root.querySelectorAll(".pick")) c.checked = false; } }, t("review.pick_none"))),
    field("bulk-note", t("review.note"), h("textarea", { id: "bulk-note", name: "note", maxlength: "500" })),
    h("div", { class: "actions" },
      h("button", { type: "submit", class: "primary", name: "decision", value: "accept", id: "bulk-accept" }, t("review.accept_selected")),
      h("button", { type: "submit", class: "secondary", name: "decision", value: "visit", id: "bulk-visit" }, t("review.visit_selected"))),
    result);
    root.appendChild(bulk);
  }

  function personCells(m) {
    if (!m) return [h("td", { class: "text" }, "–"), h("td", {}, ""), h("td", {}, ""), h("td", {}, "")];
    return [h("td", { class: "text" }, m.name), h("td", { class: "text" }, m.relationship), h("td", {}, m.sex), h("td", {}, m.birth_date)];
  }

  async function drawHousehold(root, r) {
    const kk = r.arg;
    const view = await api("GET", `/v1/households/${kk}/review`);
    root.appendChild(h("p", {}, h("a", { href: `#/review/${view.sls_code.slice(0, 7)}` }, t("household.back"))));
    root.appendChild(h("h1", {}, t("household.title", { kk })));
    root.appendChild(h("dl", {},
      h("dt", {}, t("household.status")), h("dd", {}, statusLabel(view.status) + (view.in_review_queue ? " – " + t("household.in_queue") : "")),
      h("dt", {}, t("col.sls")), h("dd", {}, named(view.sls_code)),
      h("dt", {}, t("household.address")), h("dd", {}, view.address),
      h("dt", {}, t("review.version")), h("dd", {}, String(view.version)),
      h("dt", {}, t("review.reasons")), h("dd", {}, (view.reasons || []).map(reasonLabel).join("; ") || "–")));
    const change = { unchanged: "", changed: "changed", added: "added", departed: "departed", missing: "departed" };
    const rows = view.comparison.map((row) => h("tr", { class: change[row.change] || null },
      h("td", { class: "text mono" }, row.nik), ...personCells(row.register), ...personCells(row.response),
      h("td", { class: "text" }, t("change." + row.change) + (row.changed && row.changed.length ? ": " + row.changed.map((f) => t("member." + f)).join(", ") : "") +
        (row.reason ? " (" + (MESSAGES[lang.current].choices[(row.change === "added" ? "AddedBecause." : "DepartureReason.") + row.reason] || row.reason) + ")" : ""))));
    const sub = (x) => [t("member.name") + " " + x, t("member.relationship") + " " + x, t("member.sex") + " " + x, t("member.birth_date") + " " + x];
    root.appendChild(table(t("household.comparison"), ["NIK", ...sub(t("household.register")), ...sub(t("household.response")), t("household.change")], rows, { id: "comparison", numeric: false }));
    if (view.in_review_queue) root.appendChild(decisionForm(view));
    root.appendChild(h("h2", {}, t("household.versions")));
    for (const v of view.versions.slice().reverse()) {
      const changes = v.changes;
      root.appendChild(h("details", { class: "version" },
        h("summary", {}, t("household.version_line", { v: v.version, channel: v.channel, status: statusLabel(v.status), when: when(v.submitted_at), n: v.members.length })),
        h("p", {}, t("household.version_changes", { added: changes.added.join(", ") || "–", removed: changes.removed.join(", ") || "–", changed: changes.changed.map((c) => c.nik + " (" + c.fields.join(", ") + ")").join("; ") || "–" })),
        h("p", {}, t("review.reasons") + ": " + (v.review_reasons.map(reasonLabel).join("; ") || "–"))));
    }
    root.appendChild(h("p", {}, h("a", { href: `#/audit/household/${kk}` }, t("household.audit"))));
  }

  function decisionForm(view) {
    const result = h("div", { role: "status" });
    const form = h("form", { id: "decide", novalidate: true, onsubmit: async (event) => {
      event.preventDefault();
      const decision = event.submitter ? event.submitter.value : "accept";
      result.textContent = "";
      try {
        await api("POST", `/v1/households/${view.kk}/review`, { decision, version: view.version, note: form.querySelector("#decide-note").value || null });
        say("ok", t(decision === "accept" ? "household.accepted" : "household.sent", { kk: view.kk }));
        location.hash = `#/review/${view.sls_code.slice(0, 7)}`;
      } catch (e) { result.appendChild(problem(e)); }
    } },
    h("h2", {}, t("household.decide")),
    field("decide-note", t("review.note"), h("textarea", { id: "decide-note", name: "note", maxlength: "500" })),
    h("div", { class: "actions" },
      h("button", { type: "submit", class: "primary", name: "decision", value: "accept", id: "decide-accept" }, t("household.accept")),
      h("button", { type: "submit", class: "secondary", name: "decision", value: "visit", id: "decide-visit" }, t("household.visit"))),
    result);
    return form;
  }

  // ---------------------------------------------------------------- password reset

  async function drawReset(root) {
    root.appendChild(h("h1", {}, t("reset.title")));
    root.appendChild(h("p", {}, t("reset.intro")));
    const result = h("div", { role: "status", id: "reset-result" });
    const form = h("form", { id: "reset", novalidate: true, onsubmit: async (event) => {
      event.preventDefault();
      result.textContent = "";
      const kk = form.querySelector("#reset-kk").value.trim();
      if (!form.querySelector("#reset-checked").checked) { result.appendChild(h("p", { class: "error" }, t("reset.check_first"))); return; }
      try {
        const answer = await api("POST", `/v1/households/${kk}/password-reset`, {});
        result.appendChild(h("div", { class: "result" },
          h("h2", {}, t("reset.code_title")), h("p", { class: "code-box", id: "reset-code" }, answer.reset_code),
          h("p", {}, t("reset.code_intro", { when: when(answer.expires_at) }))));
      } catch (e) { result.appendChild(problem(e)); }
    } },
    field("reset-kk", t("reset.kk"), h("input", { id: "reset-kk", name: "kk", inputmode: "numeric", autocomplete: "off", maxlength: "16", required: true })),
    h("div", { class: "field" }, h("input", { type: "checkbox", id: "reset-checked", class: "check" }), " ", h("label", { for: "reset-checked" }, t("reset.checked"))),
    h("button", { type: "submit", class: "primary" }, t("reset.submit")));
    root.appendChild(form);
    root.appendChild(result);
  }

  // ---------------------------------------------------------------- audit trail

  const AUDIT_HEAD = () => [t("audit.at"), t("audit.action"), t("audit.actor"), t("audit.area"), "KK", t("audit.details")];
  function auditRows(records) {
    return records.map((rec) => h("tr", {},
      h("td", { class: "text" }, when(rec.at)), h("td", { class: "text" }, t("action." + rec.action)), h("td", { class: "text" }, rec.actor),
      h("td", { class: "text" }, named(rec.area_code)), h("td", { class: "text mono" }, rec.kk || ""),
      h("td", { class: "text" }, Object.entries(rec.details || {}).map(([k, v]) => k + "=" + v).join(", "))));
  }

  async function drawAudit(root, r) {
    if (r.arg === "household") return drawHouseholdAudit(root, route().query, location.hash.split("/")[3]);
    const area = r.arg || homeArea();
    const day = r.query.get("day") || new Date().toISOString().slice(0, 10);
    root.appendChild(crumbs("audit", area));
    root.appendChild(h("h1", {}, t("audit.title", { area: areaLabel(area) })));
    const form = h("form", { class: "toolbar", onsubmit: (event) => {
      event.preventDefault();
      location.hash = `#/audit/${form.querySelector("#audit-area").value.trim()}?day=${form.querySelector("#audit-day").value}`;
    } },
    field("audit-area", t("area.code"), h("input", { id: "audit-area", inputmode: "numeric", value: area })),
    field("audit-day", t("audit.day"), h("input", { id: "audit-day", type: "date", value: day })),
    h("button", { type: "submit", class: "secondary" }, t("audit.show")));
    root.appendChild(form);
    const page = await api("GET", `/v1/areas/${area}/audit?day=${day}&limit=500`);
    root.appendChild(h("div", { class: "actions" }, h("button", { type: "button", class: "secondary", id: "audit-csv", onclick: async () => {
      download(`audit-${area}-${day}.csv`, await api("GET", `/v1/areas/${area}/audit?day=${day}&format=csv`));
    } }, t("audit.csv"))));
    root.appendChild(table(t("audit.caption", { n: page.records.length, day }), AUDIT_HEAD(), auditRows(page.records), { id: "audit-table", numeric: false }));
  }

  async function drawHouseholdAudit(root, query, kk) {
    const page = await api("GET", `/v1/households/${kk}/audit`);
    root.appendChild(h("p", {}, h("a", { href: `#/household/${kk}` }, t("audit.back_household"))));
    root.appendChild(h("h1", {}, t("audit.household_title", { kk })));
    root.appendChild(h("div", { class: "actions" }, h("button", { type: "button", class: "secondary", id: "audit-csv", onclick: async () => {
      download(`audit-${kk}.csv`, await api("GET", `/v1/households/${kk}/audit?format=csv`));
    } }, t("audit.csv"))));
    root.appendChild(table(t("audit.caption_household", { n: page.records.length }), AUDIT_HEAD(), auditRows(page.records), { id: "audit-table", numeric: false }));
  }

  // ---------------------------------------------------------------- start

  /* Back from the sign-in page (?code=&state=): the session, and the view the supervisor was on. */
  async function completeSignIn() {
    try { authConfig = await AUTH.loadConfig("config.json"); } catch (e) { authConfig = null; }
    if (!authConfig) return;
    try {
      const back = await AUTH.completeSignIn(authConfig);
      if (!back) return;
      sessionStorage.setItem(SESSION, JSON.stringify(back.session));
      me = null;
      signinError = null;
      if (back.returnTo && back.returnTo !== location.hash) history.replaceState(null, "", location.pathname + back.returnTo);
    } catch (error) {
      signinError = { code: error.code || "auth_failed" };
    }
  }

  document.addEventListener("DOMContentLoaded", async () => {
    document.getElementById("lang").addEventListener("click", () => {
      lang.current = lang.current === "id" ? "en" : "id";
      try { localStorage.setItem("census.lang", lang.current); } catch (e) { /* private mode */ }
      render(false);
    });
    document.getElementById("signout").addEventListener("click", signOut);
    await completeSignIn();
    window.addEventListener("hashchange", () => render());
    render(false);
  });
})();
