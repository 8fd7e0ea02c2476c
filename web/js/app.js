/* The resident census page: sign in with KK + NIK (+ password), confirm the household's
   members (kept in this tab as they are typed, saved to the server when a member's card is
   completed, on "review" and when the page is hidden), review, submit, receipt and proof;
   and a status check.
   Plain JavaScript, no build step. Every view is drawn from the state object `S`; typing
   updates S without redrawing, so focus and caret stay where the resident left them. */
(function () {
  "use strict";

  const R = window.CensusRules;
  const FIELDS = CensusForm.FIELDS;
  const RETRY_MS = 5000;  // a save that found no connection or a busy server is tried again
  const KEPT = "census.draft";  // the household's answers kept in this tab (sessionStorage)
  const ASIDE = "census.draft.typed";  // answers typed here, set aside when another device's draft won (412)

  // ---------------------------------------------------------------- storage

  function storage(kind) {
    return {
      get(key) { try { return JSON.parse(window[kind].getItem(key)); } catch (e) { return null; } },
      // True if the browser kept it (private modes and full or disabled storage throw).
      set(key, value) { try { window[kind].setItem(key, JSON.stringify(value)); return true; } catch (e) { return false; } },
      del(key) { try { window[kind].removeItem(key); } catch (e) { /* private mode */ } }
    };
  }
  const local = storage("localStorage");  // language, the pending submission's key, the last receipt code
  const tab = storage("sessionStorage");  // the session token and the answers typed: gone when the tab closes

  // ---------------------------------------------------------------- state

  const S = {
    lang: local.get("census.lang") === "en" ? "en" : "id",
    view: "signin",
    signin: { step: "id", kk: "", nik: "", errors: {}, error: null, busy: false },
    session: tab.get("census.session"),
    household: null,  // {kk, register, latest, online_phase_end}
    members: [],
    nextUid: 1,
    etag: null,
    save: newSave(),
    gen: 0,  // bumped on sign-in, sign-out and submit: a draft save's late answer from before is ignored
    signout: null,  // {busy} while signing out saves; {reason} when it could not: offer "sign out anyway"
    notice: null,  // {key, vars, kind, restore}: restore offers the answers set aside back
    aside: tab.get(ASIDE),  // the answers typed here when another device's draft replaced them (412)
    limit: false,  // "add a member" was refused: the household has the most members a form takes
    summary: [],  // [{code, target}] shown at the top of the form
    submit: { busy: false, error: null, retries: 0, timer: null },
    sent: null,  // the body last filed from this tab (JSON), to tell a correction from what was sent
    receipt: local.get("census.receipt"),
    status: { busy: false, result: null, error: null, errors: {}, needPassword: false }
  };

  /* A draft save's state. last: the body the server has; sending: bodies sent whose answer has
     not come (a page left mid-save: on a 412 or a reload, a server draft equal to one is ours);
     pending: the save in flight (a promise of "the server has the answers"); kept: whether the
     browser could keep the answers in the tab. */
  function newSave() {
    return { state: "idle", at: null, timer: null, busy: false, again: null, last: null, rejected: {}, sending: [], pending: null, kept: true };
  }

  // ---------------------------------------------------------------- text, DOM, the form

  const ui = CensusUI.create(S, CensusForm.CHOICES);
  const { t, errorText, choice, wib, h, $, field, summaryBox, focusFirstError, notice, problems } = ui;
  const form = CensusForm.create(ui, S, { render: () => render(), changed: typed, completed: () => saveDraft(), doneTarget: "to-review" });
  const { memberProblems, submissionBody, membersFrom, memberLabel, isComplete, validateAll, viewMember, answers, addMember, newMember } = form;

  /* Redraw the view, keeping the focused element (by id) and the scroll position. */
  function render() {
    const focused = document.activeElement && document.activeElement.id;
    const main = $("main");
    main.replaceChildren(viewSignout() || "", VIEWS[S.view]());
    document.documentElement.lang = S.lang;
    document.title = t("title") + " - " + t("view." + S.view);
    renderHeader();
    if (focused && $(focused)) $(focused).focus({ preventScroll: true });
  }

  function renderHeader() {
    $("site-title").textContent = t("title");
    $("skip").textContent = t("skip");
    const toggle = $("lang");
    // The button's name is in the page's language; the language's own name is in that language.
    toggle.replaceChildren(h("span", { lang: S.lang === "id" ? "en" : "id" }, S.lang === "id" ? "English" : "Bahasa Indonesia"));
    toggle.setAttribute("aria-label", t("lang.switch"));
    const out = $("signout");
    // Also with the session gone: answers kept in the tab can still be forgotten (a shared computer).
    out.hidden = !(S.session || S.household || tab.get(KEPT) || tab.get(ASIDE));
    out.textContent = S.signout && S.signout.busy ? t("signout.saving") : t("signout");
    out.disabled = !!(S.signout && S.signout.busy);
    const nav = $("nav-status");
    nav.textContent = t("nav.status");
    nav.setAttribute("aria-current", S.view === "status" ? "page" : "false");
    $("footer").textContent = t("footer");
  }

  // ---------------------------------------------------------------- API

  function api(method, path, body, headers, useSession, keepalive) {
    return ui.api(method, path, body, headers, useSession && S.session ? S.session.token : null, keepalive);
  }

  function isSessionProblem(code) { return code === "session_expired" || code === "session_invalid" || code === "session_required"; }

  // ---------------------------------------------------------------- sign in

  async function signIn(event) {
    event.preventDefault();
    const si = S.signin;
    if (si.busy) return;
    const form = event.target;
    si.kk = form.kk.value.trim();
    si.nik = form.nik.value.trim();
    si.errors = {};
    si.error = null;
    const kkProblem = R.checkKk(si.kk), nikProblem = R.parseNik(si.nik).code;
    if (kkProblem) si.errors.kk = kkProblem;
    if (nikProblem) si.errors.nik = nikProblem;
    const body = { kk: si.kk, nik: si.nik };
    if (si.step === "password") {
      body.password = form.password.value;
      if (!body.password) si.errors.password = "missing_field";
    } else if (si.step === "setup" || si.step === "reset") {
      if (si.step === "reset") {
        body.reset_code = form.reset_code.value.trim();
        if (!body.reset_code) si.errors.reset_code = "missing_field";
      }
      body.new_password = form.new_password.value;
      const problem = R.checkNewPassword(body.new_password, si.kk, si.nik);
      if (problem) si.errors.new_password = problem;
      else if (form.confirm_password.value !== body.new_password) si.errors.confirm_password = "password_mismatch";
    }
    if (Object.keys(si.errors).length) { render(); focusFirstError(); return; }
    si.busy = true;
    render();
    const result = await api("POST", "/v1/sessions", body);
    si.busy = false;
    if (result.ok) {
      newGeneration();  // a save still on its way belongs to the household signed in before
      S.session = { token: result.data.token, kk: result.data.kk, expires_at: result.data.expires_at };
      tab.set("census.session", S.session);
      si.step = "id";
      si.errors = {};
      S.notice = result.data.password_set ? { key: "notice.password_set" } : null;
      // The sign-in answer carries the household (register, draft, latest): no second request.
      if (result.data.household) showHousehold(result.data.household, null);
      else await loadHousehold();
      return;
    }
    if (result.code === "password_setup_required") si.step = "setup";
    else if (result.code === "password_required") si.step = "password";
    else if (result.code === "reset_code_required") si.step = "reset";
    else {
      for (const p of problems(result)) {
        if (p.field && ["new_password", "password", "kk", "nik", "reset_code"].indexOf(p.field) >= 0) si.errors[p.field] = p.code;
        else si.error = { code: p.code, status: p.status, minutes: Math.ceil(result.retryAfter / 60) };
      }
    }
    render();
    if (si.step !== "id" && !Object.keys(si.errors).length && !si.error) {
      $(si.step === "setup" ? "new_password" : si.step === "reset" ? "reset_code" : "password").focus();
    } else focusFirstError();
  }

  /* From now on, answers to draft saves sent before are ignored (sign-in, sign-out, submit). */
  function newGeneration(keepSave) {
    clearTimeout(S.save.timer);
    S.gen += 1;
    if (!keepSave) { S.save = newSave(); S.signout = null; }
  }

  /* Signing out saves what is not saved yet first, then leaves nothing of the household in
     the browser (a shared computer). If the server did not take the answers (no connection,
     the session ran out, a server error), they stay in the tab and the resident chooses:
     stay (and sign in again, or wait for the connection), or sign out anyway and lose them. */
  async function signOut() {
    if (S.signout && S.signout.busy) return;
    clearTimeout(S.save.timer);
    let reason = null;
    if (S.session && S.household && S.view !== "receipt") {
      const gen = S.gen;
      S.signout = { busy: true };
      renderHeader();
      const saved = await saveSettled();
      if (gen !== S.gen) return;  // someone else signed in meanwhile: theirs is not to sign out
      S.signout = null;
      if (!saved) reason = !S.session ? "session" : S.save.state === "offline" ? "offline" : "error";
    } else if (!S.session && S.view !== "receipt" && (S.household ? JSON.stringify(draftBody()) !== S.save.last : tab.get(KEPT))) {
      reason = "session";  // signed out by the server, answers kept here: they cannot be saved now
    }
    if (!reason && (S.aside || tab.get(ASIDE))) reason = "aside";  // typed here, replaced by another device's draft
    if (reason) {
      S.signout = { reason: reason };
      render();
      $("signout-stay").focus();  // the safe choice first: Enter keeps the answers
      return;
    }
    forget();
  }

  /* Nothing of the household left in this tab. */
  function forget() {
    newGeneration();
    S.signout = null;
    S.session = null;
    tab.del("census.session");
    tab.del(KEPT);
    tab.del(ASIDE);
    S.aside = null;
    S.household = null;
    S.members = [];
    S.etag = null;
    S.summary = [];
    S.notice = null;
    go("signin");
  }

  /* Sign-out could not save: what is at stake, and the choice. */
  function viewSignout() {
    const so = S.signout;
    if (!so || !so.reason) return null;
    return h("div", { class: "summary", role: "alert", id: "signout-problem" },
      h("h2", {}, t("signout.unsaved")),
      h("p", {}, t("signout.reason." + so.reason)),
      h("p", {}, t("signout.choice")),
      h("div", { class: "bar" },
        h("button", { type: "button", class: "primary", id: "signout-stay", onclick: () => { S.signout = null; render(); $("main").focus(); } },
          t("signout.stay")),
        h("button", { type: "button", class: "secondary", id: "signout-anyway", onclick: forget }, t("signout.anyway"))));
  }

  /* A session problem mid-way: sign in again; what was typed stays in memory (and in the tab). */
  function sessionLost(code) {
    S.session = null;
    tab.del("census.session");
    S.signin.error = { code: code };
    S.signin.step = "id";
    go("signin");
  }

  // ---------------------------------------------------------------- household

  async function loadHousehold(reason) {
    const result = await api("GET", "/v1/session/household", undefined, {}, true);
    if (!result.ok) {
      if (isSessionProblem(result.code) || result.status === 401) { sessionLost(result.code); return; }
      S.signin.error = { code: result.code, status: result.status };
      go("signin");
      return;
    }
    showHousehold(result.data, result.headers.get("ETag"), reason);
  }

  /* The household as GET /v1/session/household (or the sign-in answer) gives it. reason
     "draft_changed": a save was refused (412) and S.members are the answers typed here. */
  function showHousehold(data, etagHeader, reason) {
    const changed = reason === "draft_changed";
    // What was sent from this tab, unchanged, is reloaded from the server like any other visit.
    const keepTyped = !changed && S.household && S.household.kk === data.kk && S.members.length &&
      S.sent !== JSON.stringify(submissionBody());
    // After a 412 the answers typed are those in memory (the browser may be unable to keep them).
    const copy = changed && S.household && S.household.kk === data.kk ? tabCopy() : tab.get(KEPT);
    // A correction starts from the draft, else from what was last sent, else from the register.
    const latest = data.latest && data.latest.members ? { members: data.latest.members, departed: data.latest.departed } : null;
    S.household = data;
    S.etag = data.draft ? data.draft.etag || etagHeader : null;
    S.save.rejected = {};
    const kept = keepTyped ? null : keptInTab(data, copy, !changed);
    S.save.state = data.draft ? "saved" : "idle";
    S.save.at = data.draft ? data.draft.saved_at : null;
    if (keepTyped) {
      // Signed in again after the session ran out: keep what was typed, save it over the draft.
      S.save.last = null;
      saveDraft();
    } else if (kept) {
      // A reload (or a new sign-in in this tab): what was typed here, saved or not. After a 412:
      // the server's draft is this tab's own, so the answers typed since go on top of it.
      if (!changed) S.members = kept.members;  // after a 412 the cards on the page stay as they are
      S.save.last = kept.saved;
      S.save.sending = kept.sending;
      if (kept.saved !== JSON.stringify(draftBody())) S.save.state = "local";
      if (!changed) S.notice = { key: "notice.draft_kept" };
    } else {
      // Another device's draft wins; what was typed here is set aside, to be restored on request.
      if (changed) setAside(copy, data);
      S.members = membersFrom(data.register.members, data.draft || latest);
      S.save.last = JSON.stringify(draftBody());
      S.save.sending = [];
      if (changed) S.notice = { key: "notice.draft_changed", kind: "warning", restore: !!S.aside };
      else if (data.draft) S.notice = { key: "notice.draft_resumed", vars: { when: wib(data.draft.saved_at) } };
      else if (data.latest && data.latest.receipt_code) {
        S.notice = { key: "notice.already_submitted", vars: { code: R.formatReceiptCode(data.latest.receipt_code),
          version: data.latest.version, when: wib(data.latest.submitted_at) } };
      }
    }
    if (!changed && S.aside) {  // set aside before a reload: still offered back
      if (S.aside.kk === data.kk) S.notice = { key: "notice.draft_changed", kind: "warning", restore: true };
      else dropAside();
    }
    keepInTab();
    S.summary = [];
    // After a 412 over this tab's own draft there is nothing to tell: the resident stays where they are.
    if (changed && kept && (S.view === "household" || S.view === "review")) render();
    else go("household");
  }

  // ---------------------------------------------------------------- the answers kept in this tab

  /* Every answer as typed (also what the page's checks still refuse), the ETag, the body the
     server was last given and those sent without an answer yet: in sessionStorage, so a reload
     loses nothing and closing the tab or signing out leaves nothing behind. One household at a
     time, named inside. */
  function tabCopy() {
    return { kk: S.household.kk, version: sentVersion(S.household), etag: S.etag, saved: S.save.last, sending: S.save.sending,
      members: S.members.map((m) => ({ nik: m.registerNik, f: m.f, departed: m.departed, open: m.open, identityOpen: m.identityOpen })) };
  }

  /* True if the browser kept them (the save state says "saved on this device" only then). */
  function keepInTab() {
    if (!S.household) return true;
    S.save.kept = tab.set(KEPT, tabCopy());
    return S.save.kept;
  }

  function sentVersion(data) { return data.latest && data.latest.version ? data.latest.version : 0; }

  /* The members of a copy kept in the tab, on this household's register; null if they no longer fit it. */
  function keptMembers(data, kept) {
    const register = {};
    for (const r of data.register.members) register[r.nik] = r;
    const members = [];
    for (const k of kept.members) {
      if (k.nik && !register[k.nik]) return null;
      const m = newMember(k.nik ? register[k.nik] : null);
      Object.assign(m.f, k.f);
      Object.assign(m, { departed: k.departed || null, open: !!k.open, identityOpen: !!k.identityOpen });
      members.push(m);
    }
    return members.filter((m) => m.registerNik).length === data.register.members.length ? members : null;
  }

  /* The members kept in this tab for this household, if they are still the draft's latest: the
     server's draft is the one they were based on (`sameBase`: a reload), or is one this tab
     sent (a save sent as the page was left arrived, but its answer did not; or it arrived after
     the reloaded page read the draft, so the next save was refused with 412), or is exactly
     what they would save. Else another device saved meanwhile, and the server's draft wins. */
  function keptInTab(data, kept, sameBase) {
    if (!kept || kept.kk !== data.kk || !Array.isArray(kept.members)) { tab.del(KEPT); return null; }  // another household's: gone
    if (kept.version !== sentVersion(data)) return null;  // sent since (from another device): start from what was sent
    const members = keptMembers(data, kept);
    if (!members) return null;
    const sending = Array.isArray(kept.sending) ? kept.sending : [];
    const serverEtag = data.draft ? data.draft.etag : null;
    if (sameBase && (kept.etag || null) === serverEtag) return { members: members, saved: kept.saved, sending: sending };
    if (!data.draft) return null;
    const server = JSON.stringify(draftBody(membersFrom(data.register.members, data.draft)));
    if ([kept.saved].concat(sending).includes(server) || JSON.stringify(draftBody(members)) === server) {
      return { members: members, saved: server, sending: [] };
    }
    return null;
  }

  /* What was typed here, replaced by another device's draft: kept aside (memory and tab) unless
     it is the same as that draft. */
  function setAside(copy, data) {
    S.aside = null;
    const members = copy && copy.kk === data.kk ? keptMembers(data, copy) : null;
    if (!members) return;
    const answersOf = (list) => JSON.stringify(list.map((m) => [m.registerNik, m.f, m.departed]));
    if (answersOf(members) === answersOf(membersFrom(data.register.members, data.draft))) return;
    S.aside = copy;
    tab.set(ASIDE, copy);
  }

  /* "Restore what you typed": the answers set aside come back and are saved over the other device's. */
  function restoreTyped() {
    const members = S.aside && S.household ? keptMembers(S.household, S.aside) : null;
    dropAside();
    if (members) {
      S.members = members;
      S.notice = { key: "notice.typed_restored" };
      keepInTab();
      setSaveState("local");
    }
    render();
    $("household-title").focus();
    saveDraft();
  }

  function dropAside() {
    S.aside = null;
    tab.del(ASIDE);
    if (S.notice && S.notice.restore) S.notice = { key: S.notice.key, kind: S.notice.kind };
  }

  /* An answer changed: kept in the tab at once; the server hears of it at the next save. */
  function typed() {
    keepInTab();
    if (S.limit && S.members.filter((m) => !m.departed).length < R.MAX_MEMBERS) {  // a member removed: room again
      S.limit = false;
      const el = $("member-limit");
      if (el) el.remove();
    }
    if (S.save.state !== "saving") setSaveState("local");
  }

  /* The draft: every field given so far that passes the client's checks and was not refused
     by the server since it last changed (so one bad field never stops the rest saving). */
  function draftBody(all) {
    const members = [], list = all || S.members;
    for (const m of list.filter((x) => !x.departed)) {
      const problems = memberProblems(m), body = {};
      for (const name of FIELDS) {
        const value = m.f[name];
        if (value === null || value === "" || problems[name] || S.save.rejected[m.uid + "." + name] === value) continue;
        if (name === "added_because" && m.registerNik) continue;
        if (name === "current_area_code" && m.f.lives_at_kk_address !== false) continue;
        body[name] = name === "name" ? value.trim() : value;
      }
      if (Object.keys(body).length) members.push(body);
    }
    const departed = list.filter((m) => m.departed && m.registerNik).map((m) => ({ nik: m.registerNik, reason: m.departed }));
    return { members: members, departed: departed };
  }

  /* The draft to the server, if it changed since the last save: when a member's card is
     completed (confirmed, or left with every answer valid), on "review", when the page is
     hidden or left, on sign-out. A promise: true when the server has the answers on the page.
     Every save is a keepalive request: one under way when the page is left still arrives. */
  function saveDraft(leaving) {
    const save = S.save;
    if (!S.session || !S.household || S.view === "receipt" || S.submit.busy) return Promise.resolve(false);
    if (save.busy) {
      // What to save once the save under way ends: the answers as they are now (a card
      // completed meanwhile), or, if the page is being left, whatever they are by then.
      save.again = { text: JSON.stringify(draftBody()), leaving: !!(leaving || (save.again && save.again.leaving)) };
      return save.pending;
    }
    save.pending = putDraft(save);
    return save.pending;
  }

  function putBody(body) {
    return api("PUT", "/v1/session/household/draft", body, S.etag ? { "If-Match": S.etag } : {}, true, true);
  }

  async function putDraft(save) {
    const gen = S.gen;
    const body = draftBody(), text = JSON.stringify(body);
    if (text === save.last) { if (save.state === "local") setSaveState(save.at ? "saved" : "idle"); return true; }
    save.busy = true;
    setSaveState("saving");
    save.sending = save.sending.filter((x) => x !== text).concat([text]).slice(-3);
    keepInTab();
    const result = await putBody(body);
    save.busy = false;
    const again = save.again;
    save.again = null;
    // Signed out, signed in again, or sent meanwhile: this answer is about answers no longer on the page.
    if (gen !== S.gen || save !== S.save || S.view === "receipt") return false;
    if (result.status) save.sending = save.sending.filter((x) => x !== text);  // answered: no longer "sent, unknown"
    let refused = false;
    if (result.ok) {
      S.etag = result.data.etag || result.headers.get("ETag");
      save.last = text;
      save.at = result.data.saved_at;
      keepInTab();
      setSaveState(text === JSON.stringify(draftBody()) ? "saved" : "local");
    } else if (result.status === 412 || result.status === 428) {
      await loadHousehold("draft_changed");
      if (gen !== S.gen || !S.household) return false;
      // The server's draft was this tab's own (see keptInTab): the answers typed since go on top.
      if (S.save.state === "local") return saveDraft();
      return JSON.stringify(draftBody()) === S.save.last && !S.aside;
    } else if (result.status === 401) {
      sessionLost(result.code);
      return false;
    } else if (result.status === 422) {
      // The server is the judge: show its verdict by the field, and save the rest without it.
      const sent = S.members.filter((x) => !x.departed), elsewhere = [];
      for (const p of problems(result)) {
        const match = /^members\[(\d+)\]\.(\w+)$/.exec(p.field || "");
        const owner = match ? sentMember(body, sent, +match[1]) : null;
        if (owner) {
          owner.errors[match[2]] = p.code;
          save.rejected[owner.uid + "." + match[2]] = owner.f[match[2]];
        } else elsewhere.push({ code: p.code, status: p.status });  // e.g. `members`: too many of them
      }
      if (elsewhere.length) S.summary = elsewhere;
      refused = JSON.stringify(draftBody()) !== text;  // something left out: the rest can go
      setSaveState("error");
      render();
      if (!refused) return false;
    } else {
      setSaveState(result.status === 0 ? "offline" : "error");
      save.timer = setTimeout(saveDraft, RETRY_MS);
      return false;
    }
    // The rest without what was refused, or what changed meanwhile: at once, as the next moment
    // to save may be far off (or the page is being left).
    const wanted = again ? (again.leaving ? JSON.stringify(draftBody()) : again.text) : null;
    if (refused || (again && wanted !== save.last)) return saveDraft(again.leaving);
    return JSON.stringify(draftBody()) === save.last;
  }

  /* The page is being left while a save is under way: the answers typed since cannot wait for
     its answer (the page will be gone), so they go now, as a keepalive request too. Its If-Match
     names both the ETag the save under way was sent with and the one it will get if it is taken
     (`<version>.<n+1>`, shared/drafts.py), so whichever of the two arrives second still fits;
     another device's save in between still refuses it (412). */
  function sendLeaving() {
    const save = S.save, body = draftBody(), text = JSON.stringify(body);
    if (text === save.last || save.sending.includes(text)) return;
    const tag = /^"?(\d+)\.(\d+)"?$/.exec(S.etag || "");
    if (!tag) return;  // no draft yet or an unknown form: the follow-up waits for the save under way
    save.sending = save.sending.concat([text]).slice(-3);
    keepInTab();
    api("PUT", "/v1/session/household/draft", body, { "If-Match": `"${tag[1]}.${tag[2]}", "${tag[1]}.${+tag[2] + 1}"` }, true, true);
  }

  /* Every save under way finished, and one more if the answers changed meanwhile: true when the
     server has the answers on the page. */
  async function saveSettled() {
    for (let i = 0; i < 4; i++) {
      while (S.save.busy) await S.save.pending;
      if (!S.session || !S.household) return false;
      if (JSON.stringify(draftBody()) === S.save.last) return true;
      if (!(await saveDraft()) && !S.save.busy) return false;
    }
    return !S.save.busy && JSON.stringify(draftBody()) === S.save.last;
  }

  /* The member behind draft.members[i] (members with nothing to save are left out of it). */
  function sentMember(body, present, index) {
    let i = -1;
    for (const m of present) {
      const problems = memberProblems(m);
      if (FIELDS.some((name) => m.f[name] !== null && m.f[name] !== "" && !problems[name])) i += 1;
      if (i === index) return m;
    }
    return null;
  }

  function setSaveState(state) {
    S.save.state = state;
    const el = $("save-state");
    if (el) { el.textContent = saveStateText(); el.dataset.state = state; }
  }

  function saveStateText() {
    const save = S.save;
    if (save.state === "local") return save.kept ? t("save.local") : t("save.local_unkept");
    if (save.state === "saving") return t("save.saving");
    if (save.state === "saved") return t("save.saved", { when: wib(save.at) });
    if (save.state === "offline") return save.kept ? t("save.offline") : t("save.offline_unkept");
    if (save.state === "error") return t("save.error");
    return t("save.idle");
  }

  function toReview() {
    if (!validateAll()) { render(); focusFirstError(); return; }
    saveDraft();
    go("review");
  }

  // ---------------------------------------------------------------- submit

  function hash(text) {  // FNV-1a: which body a stored Idempotency-Key belongs to, without keeping the body
    let h1 = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) { h1 ^= text.charCodeAt(i); h1 = Math.imul(h1, 0x01000193) >>> 0; }
    return h1.toString(16) + ":" + text.length;
  }

  function newKey() {
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return "web-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  /* One Idempotency-Key per body (and KK): kept in localStorage, so a retry, a double tap or a
     reload after a lost answer files the household once. */
  async function submit() {
    clearTimeout(S.submit.timer);
    if (S.submit.busy || S.view === "receipt") return;
    const kk = S.household.kk, body = submissionBody();
    const fingerprint = hash(kk + JSON.stringify(body));
    // Only a fingerprint of the KK and the answers is kept with the key, never the answers.
    let pending = local.get("census.pending");
    if (!pending || pending.hash !== fingerprint) {
      pending = { hash: fingerprint, key: newKey() };
      local.set("census.pending", pending);
    }
    S.submit.busy = true;
    S.submit.error = null;
    render();
    // A draft save under way is let finish first (a draft arriving after the submission would
    // outlive it); its answer is ignored: it is about answers now being sent.
    const inFlight = S.save.busy ? S.save.pending : null;
    newGeneration(true);
    if (inFlight) await inFlight;
    const result = await api("POST", "/v1/households/" + encodeURIComponent(kk) + "/responses", body,
      { "Idempotency-Key": pending.key }, true);
    S.submit.busy = false;
    if (result.ok) {
      // The key stays with its fingerprint: sending the same answers again (back, then send)
      // is answered from the server's record instead of filing a copy; changed answers get a new key.
      // The server filed the draft with this version: nothing is saved again until an answer
      // changes (a draft copy of what was sent, left by closing the tab, would hide it later).
      S.etag = null;
      S.save.last = JSON.stringify(draftBody());
      S.submit.retries = 0;
      S.receipt = result.data;
      S.sent = JSON.stringify(body);
      tab.del(KEPT);  // sent: the server has the answers, the browser keeps none
      dropAside();
      S.household.latest = Object.assign({}, S.household.latest, { version: result.data.version });  // what a later copy is based on
      local.set("census.receipt", { receipt_code: result.data.receipt_code });
      S.notice = null;
      go("receipt");
      return;
    }
    if (isSessionProblem(result.code)) { sessionLost(result.code); return; }
    if (result.code === "idempotency_key_reused") {  // the key was spent on another body: a new one
      local.del("census.pending");
      if (S.submit.retries++ < 1) { submit(); return; }
    }
    if (result.status === 422) {
      form.placeServerProblems(problems(result));
      go("household");
      focusFirstError();
      return;
    }
    S.submit.error = { code: result.code, status: result.status };
    if ((result.status === 503 || result.status === 429) && result.retryAfter && S.submit.retries < 3) {
      S.submit.retries += 1;
      S.submit.timer = setTimeout(submit, Math.min(result.retryAfter, 30) * 1000);
    }
    render();
    const retry = $("submit-error");
    if (retry) retry.focus();
  }

  // ---------------------------------------------------------------- status

  async function statusByCode(event) {
    event.preventDefault();
    const st = S.status, text = event.target.receipt_code.value;
    st.errors = {};
    st.error = null;
    st.result = null;
    const code = R.normalizeReceiptCode(text);
    if (!code) { st.errors.receipt_code = "invalid_receipt_code"; render(); focusFirstError(); return; }
    st.busy = true;
    render();
    const result = await api("GET", "/v1/receipts/" + code);
    st.busy = false;
    if (result.ok) st.result = result.data;
    else if (result.code === "invalid_receipt_code" || result.code === "receipt_not_found") st.errors.receipt_code = result.code;
    else st.error = { code: result.code, status: result.status };
    render();
    if (st.result) $("status-result").focus(); else focusFirstError();
  }

  async function statusByHousehold(event) {
    event.preventDefault();
    const st = S.status, form = event.target;
    st.errors = {};
    st.error = null;
    st.result = null;
    const kk = form.status_kk.value.trim(), nik = form.status_nik.value.trim(), password = form.status_password.value;
    if (R.checkKk(kk)) st.errors.status_kk = R.checkKk(kk);
    if (R.parseNik(nik).code) st.errors.status_nik = "invalid_nik";
    if (Object.keys(st.errors).length) { st.form = { kk: kk, nik: nik }; render(); focusFirstError(); return; }
    st.busy = true;
    st.form = { kk: kk, nik: nik };
    render();
    const body = { respondent_nik: nik };
    if (password) body.password = password;
    const result = await api("POST", "/v1/households/" + encodeURIComponent(kk) + "/status", body);
    st.busy = false;
    if (result.ok) st.result = result.data;
    else if (result.code === "password_required") { st.needPassword = true; st.errors.status_password = "password_required"; }
    else st.error = { code: result.code, status: result.status, minutes: Math.ceil(result.retryAfter / 60) };
    render();
    if (st.result) $("status-result").focus(); else focusFirstError();
  }

  // ---------------------------------------------------------------- views

  function go(view) {
    S.view = view;
    const hash = "#" + view;
    if (location.hash !== hash) history.pushState(null, "", hash);
    render();
    window.scrollTo(0, 0);
    const heading = document.querySelector("main h1, main h2");
    if (heading && !document.querySelector("main [role=alert]")) { heading.setAttribute("tabindex", "-1"); heading.focus({ preventScroll: true }); }
  }

  function viewSignin() {
    const si = S.signin;
    const input = (id, extra) => h("input", Object.assign({ id: id, name: id, autocomplete: "off" }, extra));
    const kk = input("kk", { inputmode: "numeric", maxlength: "16", value: si.kk, pattern: "[0-9]*", oninput: resetStep });
    const nik = input("nik", { inputmode: "numeric", maxlength: "16", value: si.nik, pattern: "[0-9]*", oninput: resetStep });
    const error = si.error ? [{ code: si.error.code, status: si.error.status }] : [];
    return h("section", { "aria-labelledby": "signin-title" },
      h("h1", { id: "signin-title" }, t("signin.title")),
      h("p", {}, t("signin.intro")),
      summaryBox(error.map((e) => ({ code: e.code, status: e.status }))),
      si.error && si.error.code === "too_many_attempts" && si.error.minutes
        ? h("p", { class: "hint" }, t("signin.retry_after", { minutes: si.error.minutes })) : null,
      h("form", { id: "signin-form", novalidate: true, onsubmit: signIn },
        field("kk", t("field.kk"), kk, si.errors.kk, t("hint.kk")),
        field("nik", t("field.nik"), nik, si.errors.nik, t("hint.nik")),
        si.step === "password" ? [
          h("p", { class: "notice info", role: "status" }, t("signin.password_needed")),
          field("password", t("field.password"), input("password", { type: "password", autocomplete: "current-password" }), si.errors.password)
        ] : null,
        si.step === "reset" ? [
          h("p", { class: "notice info", role: "status" }, t("signin.reset_needed")),
          field("reset_code", t("field.reset_code"), input("reset_code", { autocapitalize: "characters", maxlength: "12", spellcheck: "false" }),
            si.errors.reset_code, t("hint.reset_code"))
        ] : null,
        si.step === "setup" || si.step === "reset" ? [
          si.step === "setup" ? h("p", { class: "notice info", role: "status" }, t("signin.setup_needed")) : null,
          field("new_password", t("field.new_password"), input("new_password", { type: "password", autocomplete: "new-password" }),
            si.errors.new_password, t("hint.new_password")),
          field("confirm_password", t("field.confirm_password"), input("confirm_password", { type: "password", autocomplete: "new-password" }),
            si.errors.confirm_password)
        ] : null,
        h("button", { type: "submit", class: "primary", id: "signin-submit", disabled: si.busy },
          si.busy ? t("busy") : si.step === "id" ? t("signin.next") : t("signin.submit"))),
      h("p", {}, h("a", { href: "#status" }, t("signin.status_link"))),
      h("p", {}, h("a", { href: "#report", id: "report-link" }, t("signin.report_link"))));
  }

  function resetStep() {
    // Another KK or NIK: the server decides afresh whether it needs a password.
    if (S.signin.step !== "id") {
      S.signin.kk = $("kk").value.trim();
      S.signin.nik = $("nik").value.trim();
      S.signin.step = "id";
      render();
    }
  }

  function viewHousehold() {
    if (!S.household) return viewSignin();
    const present = S.members.filter((m) => !m.departed);
    const done = S.members.filter((m) => m.departed || isComplete(m)).length;
    return h("section", { "aria-labelledby": "household-title" },
      h("h1", { id: "household-title" }, t("household.title")),
      h("p", {}, t("household.intro", { kk: S.household.kk })),
      S.notice ? notice(S.notice.key, S.notice.vars, S.notice.kind) : null,
      S.notice && S.notice.restore ? h("p", { class: "bar" },
        h("button", { type: "button", class: "secondary", id: "restore-typed", onclick: restoreTyped }, t("notice.restore_typed")),
        h("button", { type: "button", class: "link", id: "drop-typed", onclick: () => { dropAside(); render(); $("household-title").focus(); } },
          t("notice.drop_typed"))) : null,
      summaryBox(S.summary),
      h("p", { class: "progress" }, t("household.progress", { done: done, total: S.members.length, present: present.length })),
      h("ol", { class: "members" }, S.members.map(viewMember)),
      S.limit ? h("p", { class: "notice warning", id: "member-limit", role: "alert", tabindex: "-1" }, t("member.limit", { max: R.MAX_MEMBERS })) : null,
      h("button", { type: "button", class: "secondary", id: "add-member", onclick: addOne }, t("member.add")),
      h("div", { class: "bar" },
        h("p", { id: "save-state", class: "save", role: "status", "aria-live": "polite", "data-state": S.save.state }, saveStateText()),
        h("button", { type: "button", class: "primary", id: "to-review", onclick: toReview }, t("household.review"))));
  }

  /* A member more, up to the most the server takes (shared/responses.py MAX_MEMBERS). */
  function addOne() {
    S.limit = S.members.filter((m) => !m.departed).length >= R.MAX_MEMBERS;
    if (!S.limit) { addMember(); return; }
    render();
    $("member-limit").focus();
  }

  function viewReview() {
    if (!S.household) return viewSignin();
    const present = S.members.filter((m) => !m.departed), gone = S.members.filter((m) => m.departed);
    const err = S.submit.error;
    return h("section", { "aria-labelledby": "review-title" },
      h("h1", { id: "review-title" }, t("review.title")),
      h("p", {}, t("review.intro", { count: present.length })),
      h("ol", { class: "review" }, present.map((m) => h("li", {}, h("h2", {}, memberLabel(m)), answers(m)))),
      gone.length ? [h("h2", {}, t("review.departed")),
        h("ul", {}, gone.map((m) => h("li", {}, memberLabel(m) + ": " + choice("DepartureReason", m.departed))))] : null,
      err ? h("div", { class: "summary", role: "alert", id: "submit-error", tabindex: "-1" },
        h("h2", {}, t("submit.failed")), h("p", {}, errorText(err.code, err.status)), h("p", {}, t("submit.kept"))) : null,
      h("div", { class: "bar" },
        h("button", { type: "button", class: "secondary", id: "back-to-form", onclick: () => go("household") }, t("review.back")),
        h("button", { type: "button", class: "primary", id: "submit", disabled: S.submit.busy, "aria-busy": S.submit.busy ? "true" : null,
          onclick: submit }, S.submit.busy ? t("submit.sending") : err ? t("submit.retry") : t("submit.send"))));
  }

  function proofLink(code) {
    return h("a", { class: "button primary", id: "proof", href: "/v1/receipts/" + code + "/proof", target: "_blank", rel: "noopener" },
      t("receipt.proof"));
  }

  function viewReceipt() {
    const r = S.receipt;
    if (!r || !r.status) return viewStatus();
    return h("section", { "aria-labelledby": "receipt-title" },
      h("h1", { id: "receipt-title" }, t("receipt.title")),
      h("p", {}, t("receipt.intro")),
      h("p", { class: "receipt-code", id: "receipt-code" }, R.formatReceiptCode(r.receipt_code)),
      h("dl", { class: "facts-list" },
        h("dt", {}, t("status.status")), h("dd", {}, choice("Status", r.status)),
        h("dt", {}, t("status.version")), h("dd", {}, String(r.version)),
        h("dt", {}, t("status.submitted_at")), h("dd", {}, wib(r.submitted_at))),
      h("p", {}, t("receipt.keep")),
      proofLink(r.receipt_code),
      h("p", {}, h("a", { href: "#status" }, t("receipt.check_status"))),
      S.session ? h("p", {}, h("button", { type: "button", class: "link", id: "correct", onclick: () => loadHousehold() }, t("receipt.correct"))) : null);
  }

  function viewStatus() {
    const st = S.status, r = st.result;
    const remembered = S.receipt && S.receipt.receipt_code ? R.formatReceiptCode(S.receipt.receipt_code) : "";
    const result = r ? h("div", { class: "result", id: "status-result", tabindex: "-1", role: "status" },
      h("h2", {}, t("status.result")),
      h("dl", { class: "facts-list" },
        r.receipt_code ? [h("dt", {}, t("status.receipt_code")), h("dd", { id: "status-code" }, R.formatReceiptCode(r.receipt_code))] : null,
        h("dt", {}, t("status.status")), h("dd", { id: "status-value" }, choice("Status", r.status)),
        r.version ? [h("dt", {}, t("status.version")), h("dd", {}, String(r.version))] : null,
        r.last_submitted_at ? [h("dt", {}, t("status.submitted_at")), h("dd", {}, wib(r.last_submitted_at))] : null,
        r.member_count ? [h("dt", {}, t("status.member_count")), h("dd", {}, String(r.member_count))] : null),
      r.receipt_code ? proofLink(r.receipt_code) : h("p", {}, t("status.not_yet"))) : null;
    return h("section", { "aria-labelledby": "status-title" },
      h("h1", { id: "status-title" }, t("status.title")),
      summaryBox(st.error ? [{ code: st.error.code, status: st.error.status }] : []),
      result,
      h("form", { id: "status-code-form", novalidate: true, onsubmit: statusByCode },
        h("h2", {}, t("status.by_code")),
        field("receipt_code", t("field.receipt_code"), h("input", { id: "receipt_code", name: "receipt_code", autocomplete: "off",
          autocapitalize: "characters", value: remembered, maxlength: "20" }), st.errors.receipt_code, t("hint.receipt_code")),
        h("button", { type: "submit", class: "primary", id: "status-code-submit", disabled: st.busy }, t("status.check"))),
      h("form", { id: "status-household-form", novalidate: true, onsubmit: statusByHousehold },
        h("h2", {}, t("status.by_household")),
        field("status_kk", t("field.kk"), h("input", { id: "status_kk", name: "status_kk", inputmode: "numeric", maxlength: "16",
          autocomplete: "off", value: (st.form && st.form.kk) || "" }), st.errors.status_kk),
        field("status_nik", t("field.nik"), h("input", { id: "status_nik", name: "status_nik", inputmode: "numeric", maxlength: "16",
          autocomplete: "off", value: (st.form && st.form.nik) || "" }), st.errors.status_nik),
        field("status_password", t("field.password_if_set"), h("input", { id: "status_password", name: "status_password", type: "password",
          autocomplete: "current-password" }), st.errors.status_password),
        h("button", { type: "submit", class: "secondary", id: "status-household-submit", disabled: st.busy }, t("status.check"))),
      h("p", {}, h("a", { href: S.household ? "#household" : "#signin" }, S.household ? t("status.back_to_form") : t("status.to_signin"))));
  }

  const VIEWS = { signin: viewSignin, household: viewHousehold, review: viewReview, receipt: viewReceipt, status: viewStatus };
  // Households the register missed (web/js/report.js): loaded on first use (the first load stays
  // small), its views drawn with the page's helpers.
  const REPORT_VIEWS = ["report", "report-status"];
  function withReportViews(then) {
    if (VIEWS.report) { then(); return; }
    const added = () => {
      const ctx = { h, t, field, summaryBox, api, errorText, $, R, wib, render: () => render(), focusFirstError: () => focusFirstError() };
      const views = window.CensusReport(ctx);
      for (const name of REPORT_VIEWS) VIEWS[name] = views[name];
      then();
    };
    if (window.CensusReport) { added(); return; }
    const script = document.createElement("script");
    script.src = "js/report.js";
    script.onload = added;
    document.head.append(script);
  }

  // ---------------------------------------------------------------- start

  function route() {
    const wanted = location.hash.replace("#", "") || "signin";
    if (REPORT_VIEWS.includes(wanted) && !VIEWS.report) { withReportViews(route); return; }
    let view = VIEWS[wanted] ? wanted : "signin";
    if ((view === "household" || view === "review") && !S.household) view = S.session ? "household" : "signin";
    if (view === "receipt" && !(S.receipt && S.receipt.status)) view = "status";
    if (view === "household" && !S.household && S.session) { loadHousehold(); return; }
    S.view = view;
    render();
  }

  function start() {
    $("lang").addEventListener("click", () => {
      S.lang = S.lang === "id" ? "en" : "id";
      local.set("census.lang", S.lang);
      render();
      $("lang").focus();
    });
    $("signout").addEventListener("click", signOut);
    window.addEventListener("popstate", route);
    window.addEventListener("online", () => { if (S.save.state === "offline") saveDraft(); });
    // The tab goes to the background, is reloaded or closes: save now (keepalive outlives the
    // page). pagehide covers the browsers that skip visibilitychange when a page is left.
    const leaving = (event) => {
      if (!S.session || !S.household || S.view === "receipt") return;
      if (S.save.busy && event.type === "pagehide") sendLeaving();  // the page goes: no waiting for the save under way
      saveDraft(true);  // else when the save under way ends (a hidden tab still runs)
    };
    document.addEventListener("visibilitychange", (event) => { if (document.visibilityState === "hidden") leaving(event); });
    window.addEventListener("pagehide", leaving);
    if (S.session && S.session.expires_at && new Date(S.session.expires_at) < new Date()) { S.session = null; tab.del("census.session"); }
    if (S.session && (location.hash === "" || location.hash === "#household" || location.hash === "#review")) { loadHousehold(); return; }
    route();
  }

  start();
})();
