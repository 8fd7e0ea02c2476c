/* Households the register missed: the report form (reached from the sign-in screen:
   "Kartu keluarga tidak ditemukan?") and the lookup of a report by its reference. Its own
   module: app.js hands it the page's helpers (ctx) and draws the views it returns.
   The area is chosen from the lists by name (province, regency, district, village, SLS),
   each list one GET /v1/areas/{code}/children. The answer to a report is the same whatever
   the KK: this page shows the reference and what happens next, nothing about the KK. */
(function () {
  "use strict";

  const LEVELS = ["province", "regency", "district", "village", "sls"];

  window.CensusReport = function (ctx) {
    const { h, t, field, summaryBox, api, errorText, $, R } = ctx;
    const S = {
      form: { kk: "", nik: "", head_name: "", address: "", phone: "" },
      areas: { lists: { province: null }, chosen: {}, loading: null },
      errors: {}, error: null, busy: false, sent: null, pending: null,
      lookup: { reference: "", result: null, errors: {}, error: null, busy: false }
    };

    // ------------------------------------------------------------ the area lists

    async function loadList(level, parent) {
      S.areas.loading = level;
      ctx.render();
      const result = await api("GET", parent ? "/v1/areas/" + parent + "/children" : "/v1/areas");
      S.areas.loading = null;
      S.areas.lists[level] = result.ok ? result.data.children : [];
      if (!result.ok) S.error = { code: result.code, status: result.status };
      ctx.render();
    }

    function choose(level, code) {
      const index = LEVELS.indexOf(level);
      S.areas.chosen[level] = code || null;
      for (const below of LEVELS.slice(index + 1)) { S.areas.chosen[below] = null; S.areas.lists[below] = null; }
      delete S.errors.sls_code;
      if (code && index + 1 < LEVELS.length) loadList(LEVELS[index + 1], code);
      else ctx.render();
    }

    function areaSelect(level) {
      const list = S.areas.lists[level];
      const id = "area-" + level;
      const disabled = list === null;
      const control = h("select", { id: id, disabled: disabled, onchange: (e) => choose(level, e.target.value) },
        h("option", { value: "" }, S.areas.loading === level ? t("area.loading") : t("choose")),
        (list || []).map((a) => h("option", { value: a.code, selected: S.areas.chosen[level] === a.code }, a.name)));
      return field(id, t("area." + level), control, level === "sls" ? S.errors.sls_code : null);
    }

    // ------------------------------------------------------------ the report

    function keep() {
      for (const name of Object.keys(S.form)) if ($("report-" + name)) S.form[name] = $("report-" + name).value.trim();
    }

    function newKey() {
      const bytes = new Uint8Array(12);
      crypto.getRandomValues(bytes);
      return "report-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    }

    async function send(event) {
      event.preventDefault();
      keep();
      const f = S.form;
      S.errors = {};
      S.error = null;
      if (R.checkKk(f.kk)) S.errors.kk = R.checkKk(f.kk);
      if (R.parseNik(f.nik).code) S.errors.nik = "invalid_nik";
      if (!f.head_name) S.errors.head_name = "missing_field";
      if (!f.address) S.errors.address = "missing_field";
      if (f.phone && !/^\+?[0-9]{8,15}$/.test(f.phone.replace(/[ -]/g, ""))) S.errors.phone = "invalid_phone";
      if (!S.areas.chosen.sls) S.errors.sls_code = "missing_field";
      if (Object.keys(S.errors).length) { ctx.render(); ctx.focusFirstError(); return; }
      const body = { kk: f.kk, nik: f.nik, head_name: f.head_name, address: f.address, sls_code: S.areas.chosen.sls };
      if (f.phone) body.phone = f.phone;
      // The same body again (a retry after a lost answer) keeps its key: the server files it once.
      const text = JSON.stringify(body);
      if (!S.pending || S.pending.body !== text) S.pending = { body: text, key: newKey() };
      S.busy = true;
      ctx.render();
      const result = await api("POST", "/v1/reports", body, { "Idempotency-Key": S.pending.key });
      S.busy = false;
      if (result.ok) {
        S.sent = result.data;
        S.pending = null;
        ctx.render();
        $("report-sent").focus();
        return;
      }
      for (const p of (result.error && result.error.details) || []) {
        const name = p.field === "sls_code" ? "sls_code" : p.field;
        if (name && ["kk", "nik", "head_name", "address", "phone", "sls_code"].includes(name)) S.errors[name] = p.code;
      }
      if (!Object.keys(S.errors).length) S.error = { code: result.code, status: result.status };
      ctx.render();
      ctx.focusFirstError();
    }

    function viewReport() {
      if (S.areas.lists.province === null && S.areas.loading === null) loadList("province", null);
      if (S.sent) {
        return h("section", { "aria-labelledby": "report-sent-title" },
          h("h1", { id: "report-sent-title" }, t("report.sent_title")),
          h("div", { class: "result", id: "report-sent", tabindex: "-1", role: "status" },
            h("p", {}, t("report.sent_intro")),
            h("p", { class: "receipt-code", id: "report-reference" }, S.sent.reference)),
          h("p", {}, t("report.sent_next")),
          h("p", {}, h("a", { href: "#report-status", id: "report-follow",
            onclick: () => { S.lookup.reference = S.sent.reference; } }, t("report.check"))),
          h("p", {}, h("a", { href: "#signin" }, t("report.to_signin"))));
      }
      // Typing updates the state without redrawing; a redraw (a list loaded) keeps what was typed.
      const input = (name, extra) => h("input", Object.assign({ id: "report-" + name, name: name, autocomplete: "off",
        value: S.form[name], oninput: (e) => { S.form[name] = e.target.value; } }, extra || {}));
      return h("section", { "aria-labelledby": "report-title" },
        h("h1", { id: "report-title" }, t("report.title")),
        h("p", {}, t("report.intro")),
        summaryBox(S.error ? [{ code: S.error.code, status: S.error.status }] : []),
        h("form", { id: "report-form", novalidate: true, onsubmit: send },
          field("report-kk", t("report.kk"), input("kk", { inputmode: "numeric", maxlength: "16", pattern: "[0-9]*" }), S.errors.kk, t("hint.kk")),
          field("report-nik", t("report.nik"), input("nik", { inputmode: "numeric", maxlength: "16", pattern: "[0-9]*" }), S.errors.nik),
          field("report-head_name", t("report.head_name"), input("head_name", { maxlength: "100", autocomplete: "name" }), S.errors.head_name),
          h("fieldset", { class: "field areas", id: "report-area", "aria-describedby": "report-area-hint" },
            h("legend", {}, t("report.area")),
            h("p", { class: "hint", id: "report-area-hint" }, t("report.area_hint")),
            LEVELS.map(areaSelect)),
          field("report-address", t("report.address"), input("address", { maxlength: "200", autocomplete: "street-address" }), S.errors.address),
          field("report-phone", t("report.phone"), input("phone", { type: "tel", maxlength: "20", autocomplete: "tel" }), S.errors.phone,
            t("report.hint.phone")),
          h("button", { type: "submit", class: "primary", id: "report-submit", disabled: S.busy }, S.busy ? t("busy") : t("report.send"))),
        h("p", {}, h("a", { href: "#report-status" }, t("report.status_link"))),
        h("p", {}, h("a", { href: "#signin" }, t("report.to_signin"))));
    }

    // ------------------------------------------------------------ the lookup

    async function lookup(event) {
      event.preventDefault();
      const L = S.lookup;
      L.reference = event.target.reference.value.trim();
      L.errors = {};
      L.error = null;
      L.result = null;
      const code = R.normalizeReceiptCode(L.reference);  // a reference has the receipt code's form
      if (!code) { L.errors.reference = "invalid_report_reference"; ctx.render(); ctx.focusFirstError(); return; }
      L.busy = true;
      ctx.render();
      const result = await api("GET", "/v1/reports/" + code);
      L.busy = false;
      if (result.ok) L.result = result.data;
      else if (result.code === "invalid_report_reference" || result.code === "report_not_found") L.errors.reference = result.code;
      else L.error = { code: result.code, status: result.status };
      ctx.render();
      if (L.result) $("report-result").focus(); else ctx.focusFirstError();
    }

    function viewReportStatus() {
      const L = S.lookup, r = L.result;
      const result = r ? h("div", { class: "result", id: "report-result", tabindex: "-1", role: "status" },
        h("h2", {}, t("report.result")),
        h("dl", { class: "facts-list" },
          h("dt", {}, t("report.reference")), h("dd", {}, r.reference),
          h("dt", {}, t("status.status")), h("dd", { id: "report-state" }, t("report.state." + r.status)),
          h("dt", {}, t("report.filed_at")), h("dd", {}, ctx.wib(r.filed_at)),
          r.resolved_at ? [h("dt", {}, t("report.resolved_at")), h("dd", {}, ctx.wib(r.resolved_at))] : null),
        r.resolution ? h("p", { id: "report-resolution" }, t("report.resolution." + r.resolution)) : null,
        h("p", { id: "report-next" }, t("report.next." + r.next_step)),
        r.next_step === "sign_in" || r.next_step === "sign_in_register_kk"
          ? h("p", {}, h("a", { class: "button primary", href: "#signin", id: "report-signin" }, t("signin.submit"))) : null) : null;
      return h("section", { "aria-labelledby": "report-status-title" },
        h("h1", { id: "report-status-title" }, t("report.status_title")),
        summaryBox(L.error ? [{ code: L.error.code, status: L.error.status }] : []),
        result,
        h("form", { id: "report-status-form", novalidate: true, onsubmit: lookup },
          field("reference", t("report.reference"), h("input", { id: "reference", name: "reference", autocomplete: "off",
            autocapitalize: "characters", maxlength: "20", value: L.reference }), L.errors.reference, t("report.hint.reference")),
          h("button", { type: "submit", class: "primary", id: "report-lookup", disabled: L.busy }, t("report.lookup"))),
        h("p", {}, h("a", { href: "#report" }, t("view.report"))),
        h("p", {}, h("a", { href: "#signin" }, t("report.to_signin"))));
    }

    return { report: viewReport, "report-status": viewReportStatus, errorText: errorText };
  };
})();
