/* How every browser test starts Debian's Chromium (never a downloaded browser): one place for
   the executable and its flags. */
"use strict";

const { chromium } = require("playwright-core");

const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--no-first-run"];

function launch() {
  return chromium.launch({ executablePath: "/usr/bin/chromium", args: FLAGS });
}

module.exports = { launch };
