/* Staff sign-in for the console. TEMPORARY: until the officers' app's shared staff sign-in
   (OAuth authorization code + PKCE against Cognito, a local stand-in in `census serve`) lands,
   the supervisor pastes a locally signed token (`census token supervisor SPV-1671`).
   The console only uses ConsoleAuth.token(), .signedIn(), .signOut() and .form(). */
(function () {
  "use strict";
  const KEY = "census.console.token";
  function read() { try { return window.sessionStorage.getItem(KEY); } catch (e) { return null; } }
  window.ConsoleAuth = {
    token: read,
    signedIn() { return !!read(); },
    signOut() { try { window.sessionStorage.removeItem(KEY); } catch (e) { /* private mode */ } },
    /* The sign-in form's fields, for the console to draw: [{id, label, hint, type}]. */
    fields: [{ id: "token", label: "signin.token", hint: "signin.token_hint", type: "password" }],
    submit(values) {
      const token = (values.token || "").trim();
      if (!token) return false;
      try { window.sessionStorage.setItem(KEY, token); } catch (e) { return false; }
      return true;
    }
  };
})();
