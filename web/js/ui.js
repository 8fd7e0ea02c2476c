/* What every census web app shares besides its rules (rules.js) and texts (messages.js): the
   texts in the chosen language, a DOM builder, labelled fields wired for screen readers, and
   the JSON API call. Used by the resident page (js/app.js), the officers' app (field/field.js)
   and the supervisors' console. No build step: a plain script that defines `CensusUI`. */
var CensusUI = (function () {
  "use strict";

  /* `state.lang` is read on every call, so a language toggle needs only a redraw. */
  function create(state, choices) {
    const MESSAGES = window.CENSUS_MESSAGES;
    const R = window.CensusRules;

    function t(key, vars) {
      let text = MESSAGES[state.lang].ui[key];
      if (text === undefined) text = MESSAGES.id.ui[key] || key;
      return text.replace(/\{(\w+)\}/g, (_, name) => (vars && vars[name] !== undefined ? vars[name] : ""));
    }
    function errorText(code, status) {
      const errors = MESSAGES[state.lang].errors;
      if (errors[code]) return errors[code];
      if (status === 0) return errors.network_error;
      return status >= 500 || status === 429 ? errors.service_busy : errors.unknown_error;
    }
    function choice(kind, value) { return MESSAGES[state.lang].choices[kind + "." + value] || value; }
    function locale() { return state.lang === "id" ? "id-ID" : "en-GB"; }
    function wib(iso) {
      if (!iso) return "";
      return new Date(iso).toLocaleString(locale(), { timeZone: "Asia/Jakarta", dateStyle: "medium", timeStyle: "short" }) + " WIB";
    }
    function longDate(text) {
      const d = R.parseDate(text);
      if (!d) return text || "";
      return new Date(Date.UTC(d.year, d.month - 1, d.day)).toLocaleDateString(locale(),
        { timeZone: "UTC", day: "numeric", month: "long", year: "numeric" });
    }
    function age(text) {
      const d = R.parseDate(text);
      if (!d) return null;
      const now = new Date();
      let years = now.getFullYear() - d.year;
      if (now.getMonth() + 1 < d.month || (now.getMonth() + 1 === d.month && now.getDate() < d.day)) years -= 1;
      return years;
    }

    function h(tag, attrs, ...children) {
      const el = document.createElement(tag);
      for (const [name, value] of Object.entries(attrs || {})) {
        if (value === null || value === undefined || value === false) continue;
        if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
        else if (name === "text") el.textContent = value;
        else el.setAttribute(name, value === true ? "" : value);
      }
      for (const child of children.flat(Infinity)) {
        if (child === null || child === undefined || child === false) continue;
        el.append(child.nodeType ? child : String(child));
      }
      return el;
    }
    const $ = (id) => document.getElementById(id);

    /* A labelled field with its hint and its error, wired for screen readers. */
    function field(id, label, control, error, hint) {
      const describedBy = [hint ? id + "-hint" : null, error ? id + "-err" : null].filter(Boolean).join(" ");
      if (describedBy) control.setAttribute("aria-describedby", describedBy);
      if (error) control.setAttribute("aria-invalid", "true");
      return h("div", { class: "field" + (error ? " invalid" : "") },
        h("label", { for: id }, label),
        hint ? h("p", { class: "hint", id: id + "-hint" }, hint) : null,
        control,
        error ? h("p", { class: "error", id: id + "-err", "data-code": error }, errorText(error)) : null);
    }

    /* Radio buttons in a fieldset whose legend is the question. */
    function radios(id, legend, name, options, value, onChange, error) {
      return h("fieldset", {
        class: "field radios" + (options.length === 2 ? " pair" : "") + (error ? " invalid" : ""), id: id,
        "aria-describedby": error ? id + "-err" : null, "aria-invalid": error ? "true" : null
      },
        h("legend", {}, legend),
        options.map(([optionValue, label]) => h("label", { class: "radio" },
          h("input", {
            type: "radio", name: name, id: id + "-" + optionValue, value: String(optionValue),
            checked: value === optionValue, onchange: () => onChange(optionValue)
          }), " ", label)),
        error ? h("p", { class: "error", id: id + "-err", "data-code": error }, errorText(error)) : null);
    }

    function select(id, kind, value, onChange) {
      return h("select", { id: id, onchange: (e) => onChange(e.target.value || null) },
        h("option", { value: "" }, t("choose")),
        choices[kind].map((v) => h("option", { value: v, selected: value === v }, choice(kind, v))));
    }

    function summaryBox(items) {
      if (!items.length) return null;
      // A label may be a function, so that it follows a change of language.
      const text = (item) => {
        const label = typeof item.label === "function" ? item.label() : item.label;
        return (label ? label + ": " : "") + errorText(item.code, item.status);
      };
      return h("div", { class: "summary", role: "alert", tabindex: "-1", id: "summary" },
        h("h2", {}, t("summary.title")),
        h("ul", {}, items.map((item) => h("li", {},
          item.target ? h("a", { href: "#" + item.target, onclick: (e) => { e.preventDefault(); focusTarget(item.target); } }, text(item))
            : text(item)))));
    }

    function focusTarget(id) {
      const el = $(id);
      if (!el) return;
      const input = el.matches("fieldset") ? el.querySelector("input") : el;
      (input || el).focus();
      el.scrollIntoView({ block: "center" });
    }

    function focusFirstError() {
      const summary = $("summary");
      if (summary) { summary.focus(); return; }
      const invalid = document.querySelector("[aria-invalid=true]");
      if (invalid) (invalid.matches("fieldset") ? invalid.querySelector("input") : invalid).focus();
    }

    function notice(key, vars, kind) {
      return h("p", { class: "notice " + (kind || "info"), role: "status" }, t(key, vars));
    }

    /* A JSON call: never throws; a lost network is status 0 with code network_error. */
    async function api(method, path, body, headers, token, keepalive) {
      const all = Object.assign({ Accept: "application/json" }, headers || {});
      if (body !== undefined) all["Content-Type"] = "application/json";
      if (token) all.Authorization = "Bearer " + token;
      try {
        const response = await fetch(path, {
          method: method, headers: all, cache: "no-store", keepalive: !!keepalive,
          body: body === undefined ? undefined : JSON.stringify(body)
        });
        let data = null;
        try { data = await response.json(); } catch (e) { data = null; }
        const error = data && data.error ? data.error : null;
        return {
          ok: response.ok, status: response.status, data: data, headers: response.headers, error: error,
          code: error ? error.code : (response.ok ? null : "unknown_error"),
          retryAfter: +(response.headers.get("Retry-After") || 0)
        };
      } catch (e) {
        return { ok: false, status: 0, data: null, error: null, code: "network_error", retryAfter: 0 };
      }
    }

    /* The problems of an error answer: its details, else the error itself. */
    function problems(result) {
      if (!result.error) return [{ code: result.code, field: null, status: result.status }];
      const details = result.error.details && result.error.details.length ? result.error.details : [result.error];
      return details.map((d) => ({ code: d.code, field: d.field || null, status: result.status }));
    }

    /* Random hex, for Idempotency-Keys and OAuth state. */
    function randomHex(bytes) {
      const data = new Uint8Array(bytes);
      window.crypto.getRandomValues(data);
      return Array.from(data, (b) => b.toString(16).padStart(2, "0")).join("");
    }

    return {
      t: t, errorText: errorText, choice: choice, wib: wib, longDate: longDate, age: age,
      h: h, $: $, field: field, radios: radios, select: select, summaryBox: summaryBox, focusTarget: focusTarget,
      focusFirstError: focusFirstError, notice: notice, api: api, problems: problems, randomHex: randomHex
    };
  }

  return { create: create };
})();
