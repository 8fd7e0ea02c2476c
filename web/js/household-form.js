/* The household form's members, shared by the resident page (js/app.js) and the officers'
   interview (field/field.js): one set of questions, one client-side check per field (the
   server's rules, from rules.js), the same departed/added handling and the same body.

   CensusForm.create(ui, S, hooks) works on S.members, S.nextUid and S.summary; hooks.render()
   redraws, hooks.changed() is called after every answer, hooks.completed(m) when a card is
   confirmed or left with every answer valid (the resident page saves then), hooks.doneTarget
   is the id focused once the last open member is confirmed. */
var CensusForm = (function () {
  "use strict";

  // The form's choices, in the server's order (shared/vocabulary.py; tests/unit/test_web_messages.py
  // reads this JSON and fails if it drifts from the vocabulary).
  const CHOICES = {"Relationship": ["head", "spouse", "child", "child_in_law", "grandchild", "parent", "parent_in_law", "other_relative", "household_help", "other"], "Sex": ["male", "female"], "MaritalStatus": ["never_married", "married", "divorced", "widowed"], "Religion": ["islam", "protestant", "catholic", "hindu", "buddhist", "confucian", "other"], "Education": ["none", "primary", "junior_secondary", "senior_secondary", "diploma", "bachelor", "master", "doctorate"], "Citizenship": ["WNI", "WNA"], "DepartureReason": ["died", "moved_out", "not_a_member"], "AddedBecause": ["born", "moved_in", "other"]};
  const FIELDS = ["name", "nik", "relationship", "sex", "birth_date", "marital_status", "religion", "education",
    "citizenship", "lives_at_kk_address", "current_area_code", "added_because"];
  const IDENTITY = ["name", "nik", "relationship", "sex", "birth_date"];

  function create(ui, S, hooks) {
    const R = window.CensusRules;
    const { t, h, $, field, radios, select, choice, longDate, age, focusTarget } = ui;
    const render = () => hooks.render();
    const changed = () => { if (hooks.changed) hooks.changed(); };
    const completed = (m) => { if (hooks.completed) hooks.completed(m); };
    // A household enrolled in the field has no register: every member is its register, none "added".
    const enrolment = !!hooks.enrolment;

    function emptyFields() {
      const f = {};
      for (const name of FIELDS) f[name] = null;
      f.citizenship = "WNI";  // nearly every household; changed where it is not so
      f.lives_at_kk_address = true;
      return f;
    }

    function newMember(register, fields) {
      const m = { uid: S.nextUid++, registerNik: register ? register.nik : null, register: register || null,
        f: emptyFields(), departed: null, open: true, identityOpen: !register, errors: {} };
      if (register) for (const name of IDENTITY) m.f[name] = register[name] || null;
      childDefaults(m);
      for (const [name, value] of Object.entries(fields || {})) if (FIELDS.indexOf(name) >= 0) m.f[name] = value;
      if (m.f.current_area_code && m.f.lives_at_kk_address !== false) m.f.lives_at_kk_address = false;
      return m;
    }

    /* A young child's only possible answers, pre-selected where still empty (visible, and
       changeable like any other answer). True if it set something. */
    function childDefaults(m) {
      const years = age(m.f.birth_date);
      let set = false;
      if (years !== null && years < 10 && !m.f.marital_status) { m.f.marital_status = "never_married"; set = true; }
      if (years !== null && years < 7 && !m.f.education) { m.f.education = "none"; set = true; }
      return set;
    }

    /* Members from the register, overlaid with a saved draft or the answers last sent
       (matched by NIK; `from_register` is not a field and is dropped). */
    function membersFrom(register, draft) {
      const members = [];
      const draftMembers = draft ? (draft.members || []).slice() : [];
      const departed = {};
      for (const d of (draft && draft.departed) || []) departed[d.nik] = d.reason || "not_a_member";
      const unmatched = [];
      for (const r of register) {
        const index = draftMembers.findIndex((d) => d.nik === r.nik && !d.added_because);
        if (index >= 0) {
          members.push(newMember(r, draftMembers.splice(index, 1)[0]));
        } else {
          const m = newMember(r);
          if (departed[r.nik]) m.departed = departed[r.nik];
          else if (draft) unmatched.push(m);
          members.push(m);
        }
      }
      for (const d of draftMembers) {
        // A register member whose NIK was being corrected comes back as the next unmatched one.
        const target = !d.added_because && unmatched.length ? unmatched.shift() : null;
        if (target) {
          for (const [name, value] of Object.entries(d)) if (FIELDS.indexOf(name) >= 0) target.f[name] = value;
          target.identityOpen = true;
        } else members.push(newMember(null, d));
      }
      for (const m of members) m.open = !!draft ? !(m.departed || isComplete(m)) : true;
      return members;
    }

    function memberLabel(m) {
      const name = (m.f.name || "").trim();
      // Unnamed, its place in the list tells it apart (each card is a landmark named so).
      return name || t("member.new", { n: S.members.indexOf(m) + 1 });
    }

    function memberProblems(m) {
      const e = {};
      if (m.departed) return e;
      const f = m.f;
      const nameProblem = R.checkName(f.name);
      if (nameProblem) e.name = nameProblem;
      if (!f.nik) e.nik = "missing_field";
      for (const name of ["relationship", "sex", "marital_status", "religion", "education", "citizenship"]) {
        if (!f[name]) e[name] = "missing_field";
      }
      if (!f.birth_date) e.birth_date = "missing_field";
      else if (R.checkBirthDate(f.birth_date)) e.birth_date = R.checkBirthDate(f.birth_date);
      if (f.nik) {
        const nikProblem = R.checkNikAgainst(f.nik, f.sex, e.birth_date ? null : f.birth_date);
        if (nikProblem) e.nik = nikProblem;
      }
      if (f.lives_at_kk_address === null) e.lives_at_kk_address = "missing_field";
      else if (f.lives_at_kk_address === false) {
        if (!f.current_area_code) e.current_area_code = "missing_current_area_code";
        else if (R.checkAreaCode(f.current_area_code)) e.current_area_code = "invalid_area_code";
      }
      if (!m.registerNik && !enrolment && !f.added_because) e.added_because = "missing_field";
      return e;
    }

    function isComplete(m) { return !Object.keys(memberProblems(m)).length; }

    function householdProblems() {
      const items = [];
      const present = S.members.filter((m) => !m.departed);
      if (!present.length || present.length > 30) items.push({ code: "member_count" });
      const heads = present.filter((m) => m.f.relationship === "head").length;
      if (present.length && heads !== 1) items.push({ code: "head_count" });
      const seen = {};
      for (const m of present) {
        if (!m.f.nik) continue;
        if (seen[m.f.nik] && !m.errors.nik) m.errors.nik = "duplicate_nik";
        seen[m.f.nik] = true;
      }
      return items;
    }

    function memberId(m, name) { return "m" + m.uid + "-" + name; }
    function fieldLabel(name) { return t(name === "nik" ? "field.member_nik" : "field." + name); }

    /* Check every member and the household; fill S.summary. True when the form may go. */
    function validateAll() {
      S.summary = [];
      for (const m of S.members) {
        m.errors = memberProblems(m);
        if (Object.keys(m.errors).length) {
          m.open = true;
          if (IDENTITY.some((name) => m.errors[name])) m.identityOpen = true;
        }
      }
      const household = householdProblems();
      for (const m of S.members) {
        for (const [name, code] of Object.entries(m.errors)) {
          S.summary.push({ code: code, target: memberId(m, name), label: () => memberLabel(m) + " · " + fieldLabel(name) });
          m.open = true;
          if (IDENTITY.indexOf(name) >= 0) m.identityOpen = true;
        }
      }
      S.summary.push(...household);
      return !S.summary.length;
    }

    function memberBody(m) {
      const f = m.f, body = {};
      for (const name of FIELDS) {
        if (name === "current_area_code") body[name] = f.lives_at_kk_address === false ? f.current_area_code : null;
        else if (name === "added_because") { if (!m.registerNik && !enrolment) body[name] = f.added_because; }
        else body[name] = name === "name" ? (f.name || "").trim() : f[name];
      }
      return body;
    }

    function submissionBody() {
      return {
        members: S.members.filter((m) => !m.departed).map(memberBody),
        departed: S.members.filter((m) => m.departed && m.registerNik).map((m) => ({ nik: m.registerNik, reason: m.departed }))
      };
    }

    /* Typing: update the state and report the change; no redraw (focus and caret stay). */
    function setField(m, name, value, redraw) {
      m.f[name] = value;
      if (m.errors[name]) {
        delete m.errors[name];
        const el = $(memberId(m, name));
        if (el && !redraw) { el.removeAttribute("aria-invalid"); const err = $(memberId(m, name) + "-err"); if (err) err.remove(); }
      }
      if (redraw) render();
      changed();
    }

    /* Most households share one religion: the first answer is offered to the members not yet
       answered (shown in their cards, changed there if it differs). */
    function setReligion(m, value) {
      const others = S.members.filter((x) => x !== m && !x.departed && !x.f.religion);
      if (value) for (const x of others) x.f.religion = value;
      setField(m, "religion", value, others.length > 0);
    }

    /* Leaving a field: check it at once, as the server will (NIK against sex and birth date,
       dates). The verdict is shown in place, without a redraw: a redraw here would swallow the
       tap that moved the focus away (the button under the finger would be replaced). */
    function checkOnBlur(m) {
      const found = memberProblems(m);
      for (const name of ["nik", "birth_date", "current_area_code", "name"]) {
        if (!m.f[name]) continue;  // an empty field is only "required" once the member is confirmed
        if (found[name]) m.errors[name] = found[name]; else delete m.errors[name];
        showError(memberId(m, name), m.errors[name]);
      }
    }

    /* The error under one field, as ui.field draws it. */
    function showError(id, code) {
      const control = $(id);
      if (!control) return;
      const box = control.closest(".field");
      const shown = $(id + "-err");
      if ((shown ? shown.dataset.code : undefined) === code) return;
      if (shown) shown.remove();
      const describedBy = (control.getAttribute("aria-describedby") || "").split(" ").filter((x) => x && x !== id + "-err");
      if (code) {
        box.append(h("p", { class: "error", id: id + "-err", "data-code": code }, ui.errorText(code)));
        describedBy.push(id + "-err");
        control.setAttribute("aria-invalid", "true");
        box.classList.add("invalid");
      } else {
        control.removeAttribute("aria-invalid");
        box.classList.remove("invalid");
      }
      if (describedBy.length) control.setAttribute("aria-describedby", describedBy.join(" "));
      else control.removeAttribute("aria-describedby");
    }

    function confirmMember(m) {
      m.errors = memberProblems(m);
      if (Object.keys(m.errors).length) {
        if (IDENTITY.some((name) => m.errors[name])) m.identityOpen = true;
        render();
        const first = Object.keys(m.errors)[0];
        focusTarget(memberId(m, first));
        return;
      }
      m.open = false;
      render();
      completed(m);
      const next = S.members.find((x) => x.open);
      const target = next ? $("m" + next.uid + "-title") : $(hooks.doneTarget);
      if (target) { target.focus(); target.scrollIntoView({ block: "start" }); }
    }

    function addMember() {
      const m = newMember(null);
      S.members.push(m);
      render();
      $("m" + m.uid + "-title").focus();
      changed();
    }

    function removeMember(m) {
      S.members = S.members.filter((x) => x !== m);
      render();
      $("add-member").focus();
      changed();
    }

    /* Looked at once the focus settles: a redraw moves it out and back in. */
    function leftCard(m) {
      setTimeout(() => {
        const card = $("m" + m.uid);
        if (card && card.contains(document.activeElement)) return;
        if (S.members.indexOf(m) >= 0 && isComplete(m)) completed(m);
      }, 0);
    }

    function viewMember(m) {
      const id = (name) => memberId(m, name);
      const e = m.errors;
      const complete = !m.departed && isComplete(m);
      const badge = m.departed ? choice("DepartureReason", m.departed) : complete ? t("member.complete") : t("member.incomplete");
      const relationship = m.f.relationship ? choice("Relationship", m.f.relationship) : "";
      const head = h("div", { class: "member-head" },
        h("h2", { id: id("title"), tabindex: "-1" }, memberLabel(m)),
        h("p", { class: "badge " + (m.departed ? "gone" : complete ? "ok" : "todo") }, badge));
      const facts = h("p", { class: "facts" }, [relationship, m.f.sex ? choice("Sex", m.f.sex) : "",
        m.f.birth_date ? longDate(m.f.birth_date) + (age(m.f.birth_date) !== null ? " (" + t("member.age", { age: age(m.f.birth_date) }) + ")" : "") : "",
        m.f.nik ? "NIK " + m.f.nik : ""].filter(Boolean).join(" · "));
      if (!m.open) {
        const given = m.departed ? "" : [choice("MaritalStatus", m.f.marital_status), choice("Religion", m.f.religion),
          choice("Education", m.f.education)].filter(Boolean).join(" · ");
        return h("li", { class: "member closed", id: "m" + m.uid }, head, facts,
          given ? h("p", { class: "facts", id: id("answers") }, given) : null,
          h("button", { type: "button", class: "link", id: id("edit"), "aria-expanded": "false",
            onclick: () => { m.open = true; render(); $(id("title")).focus(); } }, t("member.edit", { name: memberLabel(m) })));
      }
      const parts = [head];
      if (m.registerNik) {
        parts.push(field(id("presence"), t("member.presence", { name: memberLabel(m) }),
          h("select", { id: id("presence"), onchange: (ev) => { m.departed = ev.target.value || null; delete m.errors.presence; render(); changed(); } },
            h("option", { value: "" }, t("member.present")),
            CHOICES.DepartureReason.map((r) => h("option", { value: r, selected: m.departed === r }, t("member.gone", { reason: choice("DepartureReason", r) })))),
          e.presence));
      }
      if (!m.departed) {
        if (m.registerNik && !m.identityOpen) {
          parts.push(facts, h("button", { type: "button", class: "link", id: id("identity"), "aria-expanded": "false",
            onclick: () => { m.identityOpen = true; render(); $(id("name")).focus(); } }, t("member.correct_identity")));
        } else {
          const text = (name, extra) => h("input", Object.assign({ id: id(name), value: m.f[name] || "", autocomplete: "off",
            oninput: (ev) => setField(m, name, ev.target.value.trim() === "" ? null : ev.target.value),
            onblur: () => checkOnBlur(m) }, extra || {}));
          parts.push(h("div", { class: "identity" },
            field(id("name"), t("field.name"), text("name", { maxlength: "100" }), e.name),
            field(id("nik"), t("field.member_nik"), text("nik", { inputmode: "numeric", maxlength: "16", pattern: "[0-9]*" }), e.nik, t("hint.member_nik")),
            radios(id("sex"), t("field.sex"), id("sex"), CHOICES.Sex.map((v) => [v, choice("Sex", v)]), m.f.sex,
              (v) => { setField(m, "sex", v); checkOnBlur(m); }, e.sex),
            field(id("birth_date"), t("field.birth_date"), h("input", { type: "date", id: id("birth_date"), value: m.f.birth_date || "",
              min: "1900-01-01", max: R.latestToday(), onchange: (ev) => {
                setField(m, "birth_date", ev.target.value || null);
                if (childDefaults(m)) render();
                checkOnBlur(m);
              } }), e.birth_date),
            field(id("relationship"), t("field.relationship"), select(id("relationship"), "Relationship", m.f.relationship,
              (v) => setField(m, "relationship", v, true)), e.relationship)));
          if (!m.registerNik && !enrolment) {
            parts.push(field(id("added_because"), t("field.added_because"), select(id("added_because"), "AddedBecause", m.f.added_because,
              (v) => setField(m, "added_because", v)), e.added_because));
          }
        }
        parts.push(
          field(id("marital_status"), t("field.marital_status"), select(id("marital_status"), "MaritalStatus", m.f.marital_status,
            (v) => setField(m, "marital_status", v)), e.marital_status),
          field(id("religion"), t("field.religion"), select(id("religion"), "Religion", m.f.religion,
            (v) => setReligion(m, v)), e.religion),
          field(id("education"), t("field.education"), select(id("education"), "Education", m.f.education,
            (v) => setField(m, "education", v)), e.education),
          radios(id("citizenship"), t("field.citizenship"), id("citizenship"), CHOICES.Citizenship.map((v) => [v, choice("Citizenship", v)]),
            m.f.citizenship, (v) => setField(m, "citizenship", v), e.citizenship),
          radios(id("lives_at_kk_address"), t("field.lives_at_kk_address"), id("lives_at_kk_address"),
            [[true, t("yes")], [false, t("no")]], m.f.lives_at_kk_address, (v) => setField(m, "lives_at_kk_address", v, true), e.lives_at_kk_address));
        if (m.f.lives_at_kk_address === false) {
          parts.push(field(id("current_area_code"), t("field.current_area_code"), h("input", { id: id("current_area_code"),
            value: m.f.current_area_code || "", inputmode: "numeric", maxlength: "16", autocomplete: "off",
            oninput: (ev) => setField(m, "current_area_code", ev.target.value.trim() || null), onblur: () => checkOnBlur(m) }),
          e.current_area_code, t("hint.current_area_code")));
        }
      }
      parts.push(h("div", { class: "actions" },
        h("button", { type: "button", class: "secondary", id: id("confirm"), onclick: () => confirmMember(m) },
          m.departed ? t("member.done") : t("member.confirm")),
        m.registerNik ? null : h("button", { type: "button", class: "link danger", id: id("remove"), onclick: () => removeMember(m) },
          t("member.remove"))));
      return h("li", { class: "member", id: "m" + m.uid, onfocusout: hooks.completed ? () => leftCard(m) : null },
        h("section", { "aria-labelledby": id("title") }, parts));
    }

    /* A member's answers as a definition list, for the review before sending. */
    function answers(m) {
      const f = m.f;
      const rows = [
        [t("field.member_nik"), f.nik], [t("field.relationship"), choice("Relationship", f.relationship)],
        [t("field.sex"), choice("Sex", f.sex)], [t("field.birth_date"), longDate(f.birth_date)],
        [t("field.marital_status"), choice("MaritalStatus", f.marital_status)], [t("field.religion"), choice("Religion", f.religion)],
        [t("field.education"), choice("Education", f.education)], [t("field.citizenship"), choice("Citizenship", f.citizenship)],
        [t("field.lives_at_kk_address"), f.lives_at_kk_address ? t("yes") : t("no") + " - " + f.current_area_code]
      ];
      if (!m.registerNik && !enrolment) rows.push([t("field.added_because"), choice("AddedBecause", f.added_because)]);
      return h("dl", {}, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
    }

    /* A 422 from the server: each problem next to its field (members[i] is the i-th member
       sent; `prefix` is where the form sits in the body, e.g. "response."). */
    function placeServerProblems(list, prefix) {
      S.summary = [];
      const present = S.members.filter((m) => !m.departed);
      const departed = S.members.filter((m) => m.departed && m.registerNik);
      for (const p of list) {
        const path = (p.field || "").startsWith(prefix || "") ? (p.field || "").slice((prefix || "").length) : "";
        let match = /^members\[(\d+)\]\.(\w+)$/.exec(path);
        if (match && present[+match[1]]) {
          const m = present[+match[1]], name = match[2];
          m.errors[name] = p.code;
          m.open = true;
          if (IDENTITY.indexOf(name) >= 0) m.identityOpen = true;
          const known = FIELDS.indexOf(name) >= 0;
          S.summary.push({ code: p.code, target: memberId(m, known ? name : "title"),
            label: () => memberLabel(m) + (known ? " · " + fieldLabel(name) : "") });
          continue;
        }
        match = /^departed\[(\d+)\]/.exec(path);
        if (match && departed[+match[1]]) {
          const m = departed[+match[1]];
          m.open = true;
          m.errors.presence = p.code;
          S.summary.push({ code: p.code, target: memberId(m, "presence"), label: () => memberLabel(m) + " · " + fieldLabel("presence") });
          continue;
        }
        S.summary.push({ code: p.code, status: p.status });
      }
    }

    return {
      newMember: newMember, membersFrom: membersFrom, memberLabel: memberLabel, memberProblems: memberProblems,
      isComplete: isComplete, validateAll: validateAll, memberBody: memberBody, submissionBody: submissionBody,
      viewMember: viewMember, answers: answers, addMember: addMember, placeServerProblems: placeServerProblems
    };
  }

  return { CHOICES: CHOICES, FIELDS: FIELDS, IDENTITY: IDENTITY, create: create };
})();
