/**
 * Headless Chromium for the browser tests: Debian's `chromium` (/usr/bin/chromium, installed by .ci/run), driven by
 * playwright-core, never a downloaded browser. The flags keep it off the network (this machine refuses outside
 * connections); Playwright gives every launch a fresh profile.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Where the browser tests save their screenshots: a temporary folder, so that a test run leaves the tree clean;
 * `npm run screenshots` sets SCREENSHOTS_DIR to docs/screenshots to renew the ones the README shows.
 */
export const SCREENSHOTS = path.resolve(process.env.SCREENSHOTS_DIR ?? path.join(os.tmpdir(), "shopflow-screenshots"));
fs.mkdirSync(SCREENSHOTS, { recursive: true });

/** Launches headless Chromium; fails with a clear message when it is not installed. */
export async function launchBrowser(): Promise<Browser> {
	if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium package (bash .ci/run does)`);
	return chromium.launch({
		executablePath: CHROMIUM,
		headless: true,
		args: [
			"--no-sandbox",
			"--disable-gpu",
			"--disable-quic",
			"--no-first-run",
			"--disable-background-networking",
			"--disable-component-update",
			"--disable-sync",
		],
	});
}

/**
 * The errors a page printed or threw, to assert that a journey ran clean. With `allowApiAnswers`, Chromium's
 * "Failed to load resource" lines for /api/ calls are left out: a 4xx the page shows in words (a declined card,
 * an unknown voucher) is an answer, not an error of the page.
 */
export function collectPageErrors(page: Page, opts: { allowApiAnswers?: boolean } = {}): string[] {
	const errors: string[] = [];
	page.on("pageerror", e => errors.push(e.message));
	page.on("console", m => {
		if (m.type() !== "error") return;
		if (opts.allowApiAnswers && m.text().startsWith("Failed to load resource") && new URL(m.location().url || "http://x/").pathname.startsWith("/api/")) return;
		errors.push(`${m.text()} ${m.location().url}`.trim());
	});
	return errors;
}
