/* Staff sign-in for the officers' app and the supervisors' console: OAuth 2.0 authorization
   code with PKCE (RFC 7636) against the stack's Cognito user pool (its hosted sign-in), or
   locally against `census serve`'s stand-in (/local-auth/oauth2/...), which speaks the same
   protocol. The differences live in the app's config.json:
     {"auth": {"authorize_url", "token_url", "logout_url", "client_id", "scope"}, "field_phase_end"}
   The ID token is what the API's Cognito authorizer checks. No refresh token is kept: a lost
   phone holds at most one ID token, valid for one shift (docs/field-app.md). */
var CensusStaffAuth = (function () {
  "use strict";

  const PENDING = "census.staff-auth";  // sessionStorage: the verifier and state of a sign-in under way

  function base64url(bytes) {
    let text = "";
    for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function random(bytes) {
    const data = new Uint8Array(bytes);
    window.crypto.getRandomValues(data);
    return base64url(data);
  }

  /* The app's own address, without query or fragment: the registered callback URL. */
  function redirectUri() { return location.origin + location.pathname.replace(/[^/]*$/, ""); }

  async function loadConfig(url) {
    const response = await fetch(url || "config.json", { cache: "no-cache" });
    if (!response.ok) throw new Error("config " + response.status);
    return response.json();
  }

  /* Leave for the sign-in page; `returnTo` (a hash) is where the app resumes afterwards. */
  async function signIn(config, returnTo) {
    const verifier = random(32);
    const digest = await window.crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
    const state = random(16);
    sessionStorage.setItem(PENDING, JSON.stringify({ verifier: verifier, state: state, returnTo: returnTo || "" }));
    const query = new URLSearchParams({
      response_type: "code", client_id: config.auth.client_id, redirect_uri: redirectUri(),
      scope: config.auth.scope || "openid", state: state, code_challenge: base64url(digest), code_challenge_method: "S256"
    });
    location.assign(config.auth.authorize_url + "?" + query.toString());
  }

  /* The claims of a JWT (not verified here: the API verifies; the app only reads who and until when). */
  function claims(token) {
    const part = token.split(".")[1] || "";
    const text = atob(part.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((part.length + 3) % 4));
    return JSON.parse(decodeURIComponent(Array.from(text, (c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0")).join("")));
  }

  /* {token, officer_id, groups, expires_at (ms)} from an ID token. */
  function session(idToken) {
    const c = claims(idToken);
    const groups = Array.isArray(c["cognito:groups"]) ? c["cognito:groups"] : String(c["cognito:groups"] || "").split(/[ ,]+/).filter(Boolean);
    return { token: idToken, officer_id: c["cognito:username"], groups: groups, expires_at: c.exp * 1000 };
  }

  function expired(s, now) { return !s || !s.expires_at || s.expires_at <= (now || Date.now()) + 30 * 1000; }

  /* Back from the sign-in page (?code=&state=): exchange the code for tokens. Returns
     {session, returnTo}, null when this load is no sign-in's return, or throws {code}. */
  async function completeSignIn(config) {
    const params = new URLSearchParams(location.search);
    if (!params.has("code") && !params.has("error")) return null;
    const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
    sessionStorage.removeItem(PENDING);
    history.replaceState(null, "", location.pathname + location.hash);  // the code is single-use: off the address bar
    if (params.has("error")) throw { code: "auth_failed" };
    if (!pending || pending.state !== params.get("state")) throw { code: "auth_state_mismatch" };
    const body = new URLSearchParams({
      grant_type: "authorization_code", client_id: config.auth.client_id, code: params.get("code"),
      redirect_uri: redirectUri(), code_verifier: pending.verifier
    });
    let response;
    try {
      response = await fetch(config.auth.token_url, {
        method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: body.toString(), cache: "no-store"
      });
    } catch (e) {
      throw { code: "network_error" };
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok || !data.id_token) throw { code: "auth_failed" };
    return { session: session(data.id_token), returnTo: pending.returnTo };
  }

  /* End the hosted sign-in's own session too, then come back to the app. */
  function signOutUrl(config) {
    if (!config.auth.logout_url) return null;
    return config.auth.logout_url + "?" + new URLSearchParams({ client_id: config.auth.client_id, logout_uri: redirectUri() }).toString();
  }

  return { loadConfig: loadConfig, signIn: signIn, completeSignIn: completeSignIn, session: session, claims: claims,
    expired: expired, signOutUrl: signOutUrl, redirectUri: redirectUri };
})();
