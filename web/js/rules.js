/* The server's input rules (shared/nik.py, shared/areas.py, shared/receipts.py,
   shared/responses.py), repeated here so a resident sees a typing error at once. The server
   stays the judge: these only give earlier feedback, with the same error codes. Also loaded
   by node in tests/unit/test_web_site.py, which compares it with the Python rules. */
var CensusRules = (function () {
  "use strict";
  var PROVINCES = [11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 31, 32, 33, 34, 35, 36, 51, 52, 53,
    61, 62, 63, 64, 65, 71, 72, 73, 74, 75, 76, 81, 82, 91, 92, 93, 94, 95, 96].map(String);
  var AREA_LENGTHS = [2, 4, 7, 10, 14, 16];
  var RECEIPT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  var MAX_MEMBERS = 30;  // the most members a household's form (or draft) takes: shared/responses.py

  function digits(value, length) { return typeof value === "string" && value.length === length && /^[0-9]+$/.test(value); }

  function regionOk(region) {
    return PROVINCES.indexOf(region.slice(0, 2)) >= 0 && region.slice(2, 4) !== "00" && region.slice(4, 6) !== "00";
  }

  function daysIn(month, year) { return new Date(Date.UTC(year, month, 0)).getUTCDate(); }

  /* day/month exists in 19YY or 20YY: the two-digit year leaves the century open. */
  function realDay(day, month, yy) {
    if (month < 1 || month > 12 || day < 1) return false;
    return day <= daysIn(month, 1900 + yy) || day <= daysIn(month, 2000 + yy);
  }

  /* {sex, day, month, yy} or {code: "invalid_nik"}. */
  function parseNik(value) {
    if (!digits(value, 16) || !regionOk(value.slice(0, 6))) return { code: "invalid_nik" };
    var day = +value.slice(6, 8), month = +value.slice(8, 10), yy = +value.slice(10, 12), sex = "male";
    if (day > 40) { sex = "female"; day -= 40; }
    if (!realDay(day, month, yy) || value.slice(12) === "0000") return { code: "invalid_nik" };
    return { sex: sex, day: day, month: month, yy: yy };
  }

  /* The first problem of a NIK against the member's sex and birth date (YYYY-MM-DD), or null. */
  function checkNikAgainst(nik, sex, birthDate) {
    var parsed = parseNik(nik);
    if (parsed.code) return parsed.code;
    if (sex && parsed.sex !== sex) return "nik_sex_mismatch";
    var d = parseDate(birthDate);
    if (d && (parsed.day !== d.day || parsed.month !== d.month || parsed.yy !== d.year % 100)) return "nik_birth_date_mismatch";
    return null;
  }

  function checkKk(value) {
    if (!digits(value, 16) || !regionOk(value.slice(0, 6))) return "invalid_kk";
    if (!realDay(+value.slice(6, 8), +value.slice(8, 10), +value.slice(10, 12)) || value.slice(12) === "0000") return "invalid_kk";
    return null;
  }

  function checkAreaCode(code) {
    if (typeof code !== "string" || !/^[0-9]+$/.test(code) || AREA_LENGTHS.indexOf(code.length) < 0) return "invalid_area_code";
    if (PROVINCES.indexOf(code.slice(0, 2)) < 0) return "invalid_area_code";
    for (var i = 1, start = 2; i < AREA_LENGTHS.length && AREA_LENGTHS[i] <= code.length; start = AREA_LENGTHS[i], i++) {
      if (AREA_LENGTHS[i] !== 16 && /^0+$/.test(code.slice(start, AREA_LENGTHS[i]))) return "invalid_area_code";
    }
    return null;
  }

  /* "YYYY-MM-DD" -> {year, month, day} if it is a real date, else null. */
  function parseDate(text) {
    var m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(text || "");
    if (!m) return null;
    var year = +m[1], month = +m[2], day = +m[3];
    if (month < 1 || month > 12 || day < 1 || day > daysIn(month, year)) return null;
    return { year: year, month: month, day: day };
  }

  /* Today in Indonesia's easternmost zone (UTC+9), as the server judges "in the future". */
  function latestToday(now) {
    return new Date((now || new Date()).getTime() + 9 * 3600 * 1000).toISOString().slice(0, 10);
  }

  function checkBirthDate(text, now) {
    if (!parseDate(text)) return "invalid_date";
    if (text > latestToday(now)) return "future_date";
    if (text < "1900-01-01") return "invalid_date";
    return null;
  }

  function checkName(name) {
    var trimmed = (name || "").trim();
    if (!trimmed) return "missing_field";
    if (Array.from(trimmed).length > 100) return "invalid_length";
    if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/.test(trimmed)) return "invalid_name";
    return null;
  }

  function luhn32(values, doubleFirst) {
    var total = 0, dbl = doubleFirst;
    for (var i = values.length - 1; i >= 0; i--) {
      var v = values[i];
      if (dbl) { v *= 2; v = Math.floor(v / 32) + (v % 32); }
      total += v; dbl = !dbl;
    }
    return total % 32;
  }

  /* The canonical 13-character receipt code, or null if it cannot be one. */
  function normalizeReceiptCode(text) {
    if (typeof text !== "string" || text.length > 64 || !/^[\x00-\x7f]*$/.test(text)) return null;
    var aliases = { O: "0", I: "1", L: "1" }, cleaned = "";
    var upper = text.toUpperCase();
    for (var i = 0; i < upper.length; i++) {
      var ch = upper[i];
      if (ch === "-" || ch === " ") continue;
      ch = aliases[ch] || ch;
      if (RECEIPT_ALPHABET.indexOf(ch) < 0) return null;
      cleaned += ch;
    }
    if (cleaned.length !== 13) return null;
    var values = cleaned.split("").map(function (c) { return RECEIPT_ALPHABET.indexOf(c); });
    return luhn32(values, false) === 0 ? cleaned : null;
  }

  function formatReceiptCode(code) { return code.replace(/(.{4})(?=.)/g, "$1-"); }

  /* The password rules the server applies before its list of common passwords. */
  function checkNewPassword(password, kk, nik) {
    var length = Array.from(password).length;  // code points, as Python's len()
    if (length < 8) return "password_too_short";
    if (length > 128) return "password_too_long";
    if ((kk && password.indexOf(kk) >= 0) || (nik && password.indexOf(nik) >= 0)) return "password_contains_identifier";
    return null;
  }

  return {
    MAX_MEMBERS: MAX_MEMBERS,
    parseNik: parseNik, checkNikAgainst: checkNikAgainst, checkKk: checkKk, checkAreaCode: checkAreaCode,
    parseDate: parseDate, latestToday: latestToday, checkBirthDate: checkBirthDate, checkName: checkName,
    normalizeReceiptCode: normalizeReceiptCode, formatReceiptCode: formatReceiptCode, checkNewPassword: checkNewPassword
  };
})();
if (typeof module !== "undefined") module.exports = CensusRules;
