// The web UI's browser test, driven by TestBrowserFlow (ui_browser_test.go),
// which starts the feed, makes the files below and reads the outcome:
// headless Chromium goes through sign-up, two-factor enrolment, log-out and
// log-in with a code, certificate registration, a refused unsigned upload,
// a signed upload, and the package page that shows the signature; it saves
// screenshots of the main pages at 1280 and 390 px.
//
// Environment (all set by the Go test):
//   SIGNET_TEST_CHROMIUM, SIGNET_TEST_NODE_MODULES   the browser and playwright-core
//   SIGNET_UI_URL            the feed's base URL
//   SIGNET_UI_SHOTS          the directory for screenshots
//   SIGNET_UI_CERT           the author certificate (.cer, DER)
//   SIGNET_UI_SIGNED, SIGNET_UI_UNSIGNED   packages signed with it, and not
//   SIGNET_UI_PACKAGE, SIGNET_UI_VERSION   the signed package's id and version
//   SIGNET_UI_SIGNER, SIGNET_UI_TSA, SIGNET_UI_FINGERPRINT   what its page must show
//   SIGNET_UI_MUST_SIGN      the refusal of the unsigned upload
//   SIGNET_UI_WARN_PACKAGE   a package whose newest version is unsigned after a signed one
//
// It prints one line per step and exits non-zero on the first failure.
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const os = require("os");
const path = require("path");

const env = (name) => {
  const v = process.env[name];
  if (!v) {
    throw new Error(`${name} is not set`);
  }
  return v;
};

const { chromium } = require(path.join(env("SIGNET_TEST_NODE_MODULES"), "playwright-core"));

const base = env("SIGNET_UI_URL");
const shots = env("SIGNET_UI_SHOTS");
const password = "a long test password, 2fa on";
const widths = [1280, 390];

// totp is RFC 6238's code (SHA-1, 6 digits, 30 s) for a base32 secret at
// a time step.
function totp(secret, step) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secret.replace(/[\s=]/g, "").toUpperCase()) {
    const i = alphabet.indexOf(c);
    if (i < 0) {
      throw new Error(`not base32: ${c}`);
    }
    bits += i.toString(2).padStart(5, "0");
  }
  const key = Buffer.alloc(Math.floor(bits.length / 8));
  for (let i = 0; i < key.length; i++) {
    key[i] = parseInt(bits.slice(i * 8, i * 8 + 8), 2);
  }
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = crypto.createHmac("sha1", key).update(counter).digest();
  const off = mac[mac.length - 1] & 0xf;
  const n = (mac.readUInt32BE(off) & 0x7fffffff) % 1000000;
  return String(n).padStart(6, "0");
}

const nowStep = () => Math.floor(Date.now() / 1000 / 30);

function check(cond, what) {
  if (!cond) {
    throw new Error(`check failed: ${what}`);
  }
}

async function main() {
  fs.mkdirSync(shots, { recursive: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "signet-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: env("SIGNET_TEST_CHROMIUM"),
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1280, height: 900 },
  });
  const problems = [];
  try {
    const page = context.pages()[0] || (await context.newPage());
    page.setDefaultTimeout(20000);
    // A Content-Security-Policy violation or a script error is a console
    // error: none is allowed.
    page.on("console", (m) => {
      if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) {
        problems.push(`console: ${m.text()}`);
      }
    });
    // Pages answer refusals with 4xx on purpose; their assets must load.
    page.on("response", (r) => {
      if (r.status() >= 400 && r.request().resourceType() !== "document") {
        problems.push(`${r.status()} for ${r.url()}`);
      }
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));

    const step = (s) => console.log(`step: ${s}`);
    const alertText = async () => (await page.getByRole("alert").innerText()).trim();
    // shot saves the page at each width, and checks that nothing makes
    // the page wider than the screen.
    const shot = async (name) => {
      for (const w of widths) {
        await page.setViewportSize({ width: w, height: w < 600 ? 844 : 900 });
        await page.screenshot({ path: path.join(shots, `${name}-${w}.png`), fullPage: true });
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        if (overflow > 1) {
          // Name the widest elements that stick out, for the failure.
          const culprits = await page.evaluate(() => Array.from(document.querySelectorAll("body *"))
            .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
            .slice(0, 8)
            .map((el) => `${el.tagName.toLowerCase()}.${el.className} (${Math.round(el.getBoundingClientRect().width)} px)`));
          check(false, `${name} at ${w} px is ${overflow} px wider than the screen: ${culprits.join(", ")}`);
        }
      }
      await page.setViewportSize({ width: 1280, height: 900 });
    };

    await page.goto(base + "/");
    check(await page.getByRole("heading", { level: 1 }).count() === 1, "the home page has one h1");
    await shot("home");
    step("home page");

    await page.getByRole("link", { name: "Sign up" }).first().click();
    await shot("signup");
    await page.getByLabel("Username").fill("alice");
    await page.getByLabel("Email").fill("alice@example.com");
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign up" }).click();
    await page.waitForURL(/\/account\?done=signed-up/);
    check((await page.locator("main").innerText()).includes("Logged in as alice"), "signed up and logged in");
    step("signed up");

    // Refusal: no certificate without a two-factor log-in.
    await page.getByLabel("Certificate file").setInputFiles(env("SIGNET_UI_CERT"));
    await page.getByRole("button", { name: "Upload certificate" }).click();
    const refusal = await alertText();
    check(refusal.includes("needs a log-in with two-factor authentication"), `certificate refused without 2FA: ${refusal}`);
    await shot("account-without-2fa");
    step("certificate refused without a two-factor log-in");

    await page.getByRole("button", { name: "Enable two-factor authentication" }).click();
    await page.waitForURL(/\/account\/2fa$/);
    const secret = (await page.locator("#totp-secret").innerText()).trim();
    const qrLoaded = await page.locator("img.qr").evaluate((img) => img.complete && img.naturalWidth >= 200);
    check(qrLoaded, "the QR code image loads");
    const otpauth = await page.getByRole("link", { name: "Open the otpauth link" }).getAttribute("href");
    check(otpauth.startsWith("otpauth://totp/") && otpauth.includes(`secret=${secret.replace(/\s/g, "")}`), `otpauth link ${otpauth}`);
    await shot("twofactor");
    const enrolStep = nowStep();
    await page.getByLabel("Authentication code").fill(totp(secret, enrolStep));
    await page.getByRole("button", { name: "Verify" }).click();
    await page.getByRole("heading", { name: "Two-factor authentication is on" }).waitFor();
    const codes = await page.locator("#recovery-codes li").count();
    check(codes >= 8, `${codes} recovery codes shown`);
    await shot("recovery-codes");
    step("two-factor authentication enabled");

    await page.getByRole("button", { name: "Log out" }).click();
    await page.waitForURL(/done=logged-out/);
    await page.goto(base + "/login");
    await page.getByLabel("Username").fill("alice");
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByLabel("Authentication code").waitFor();
    await shot("login-code");
    // The enrolment used its step's code; the next step's is within the
    // feed's clock skew and not a replay.
    await page.getByLabel("Authentication code").fill(totp(secret, Math.max(nowStep(), enrolStep + 1)));
    await page.getByRole("button", { name: "Verify" }).click();
    await page.waitForURL(/\/account$/);
    check((await page.locator("main").innerText()).includes("with two-factor authentication"), "logged in with a code");
    step("logged out and in with password and code");

    await page.getByLabel("Certificate file").setInputFiles(env("SIGNET_UI_CERT"));
    await page.getByRole("button", { name: "Upload certificate" }).click();
    await page.waitForURL(/done=certificate-added/);
    const certs = await page.locator("#certificates table").innerText();
    check(certs.includes(env("SIGNET_UI_FINGERPRINT")), "the certificate's fingerprint is listed");
    check(certs.includes(env("SIGNET_UI_SIGNER")), "the certificate's subject is listed");
    await page.getByLabel("Key name").fill("CI");
    await page.getByRole("button", { name: "Create key" }).click();
    const key = (await page.locator("#new-key").innerText()).trim();
    check(key.length > 20, "a new API key is shown");
    await shot("api-key");
    await page.goto(base + "/account");
    await shot("account");
    step("certificate registered, API key created");

    await page.goto(base + "/upload");
    await shot("upload");
    await page.getByLabel("Package file").setInputFiles(env("SIGNET_UI_UNSIGNED"));
    await page.getByRole("button", { name: "Upload", exact: true }).click();
    const unsignedRefusal = await alertText();
    check(unsignedRefusal.includes(env("SIGNET_UI_MUST_SIGN")), `unsigned upload refused: ${unsignedRefusal}`);
    await shot("upload-refused");
    step("unsigned upload refused");

    await page.getByLabel("Package file").setInputFiles(env("SIGNET_UI_SIGNED"));
    await page.getByRole("button", { name: "Upload", exact: true }).click();
    const id = env("SIGNET_UI_PACKAGE");
    const version = env("SIGNET_UI_VERSION");
    await page.waitForURL(new RegExp(`/packages/${id.replace(/\./g, "\\.")}/${version.replace(/\./g, "\\.")}\\?done=uploaded$`));
    const signature = await page.locator("section", { has: page.getByRole("heading", { name: `Signature of ${version}` }) }).innerText();
    for (const want of ["Signed", env("SIGNET_UI_SIGNER"), env("SIGNET_UI_FINGERPRINT"), env("SIGNET_UI_TSA"), "Repository signature"]) {
      check(signature.includes(want), `the signature section shows ${want}:\n${signature}`);
    }
    check(/\d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d UTC by /.test(signature), `the signature section shows the timestamp's time:\n${signature}`);
    await shot("package");
    step("signed upload shown as signed");

    await page.goto(`${base}/packages/${env("SIGNET_UI_WARN_PACKAGE")}`);
    check((await page.locator("main").innerText()).includes("Not signed by its author"), "the unsigned-after-signed warning");
    await shot("package-warning");
    await page.goto(`${base}/packages?q=${encodeURIComponent(id.split(".")[1].toLowerCase())}`);
    check((await page.locator(".pkglist").innerText()).includes(id), "search finds the package");
    await shot("search");
    await page.goto(`${base}/packages/${id}/manage`);
    await shot("manage");
    await page.goto(base + "/");
    await shot("home-with-packages");
    step("warning, search and management pages");
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  if (problems.length > 0) {
    throw new Error(`browser problems:\n${problems.join("\n")}`);
  }
  console.log("ok");
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
