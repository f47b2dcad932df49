/**
 * The README is a map and docs/ the long form: every relative link of README.md and docs/*.md must lead to a file
 * of this repository (and a `#section` to a heading there), and the README stays short.
 */
import fs from "node:fs";
import path from "node:path";

const ROOT = path.resolve(__dirname, "../..");
const README_MAX_LINES = 450;

interface Link {
	file: string;
	line: number;
	target: string;
}

/** The lines of a Markdown file outside fenced code blocks: as written, and with inline code spans blanked out. */
function proseLines(text: string): Array<{ line: number; raw: string; text: string }> {
	const out: Array<{ line: number; raw: string; text: string }> = [];
	let fence: string | null = null;
	text.split("\n").forEach((raw, i) => {
		const m = /^\s*(```+|~~~+)/.exec(raw);
		if (m) {
			if (fence === null) fence = m[1][0];
			else if (m[1][0] === fence) fence = null;
			return;
		}
		if (fence === null) out.push({ line: i + 1, raw, text: raw.replace(/`[^`]*`/g, "``") });
	});
	return out;
}

/** Inline links `[text](target)` and images of a Markdown file. */
function linksOf(file: string, text: string): Link[] {
	const links: Link[] = [];
	for (const { line, text: prose } of proseLines(text)) {
		for (const m of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) links.push({ file, line, target: m[1] });
	}
	return links;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
	return heading
		.trim()
		.toLowerCase()
		.replace(/[^\p{L}\p{N}\s_-]/gu, "")
		.replace(/\s/g, "-");
}

/** The anchors of a Markdown file's headings, with GitHub's -1, -2 suffixes for repeats. */
function anchorsOf(text: string): Set<string> {
	const seen = new Map<string, number>();
	const anchors = new Set<string>();
	for (const { raw } of proseLines(text)) {
		const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(raw);
		if (!m) continue;
		const base = slug(m[1]);
		const n = seen.get(base) ?? 0;
		seen.set(base, n + 1);
		anchors.add(n === 0 ? base : `${base}-${n}`);
	}
	return anchors;
}

/** Why a link is broken, or null when it leads somewhere that exists. */
function brokenReason(link: Link, read: (file: string) => string | null): string | null {
	const { target } = link;
	if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return null; // http:, https:, mailto:
	const [rawPath, anchor] = target.split("#", 2) as [string, string | undefined];
	const resolved = rawPath === "" ? link.file : path.resolve(path.dirname(link.file), decodeURIComponent(rawPath));
	const rel = path.relative(ROOT, resolved);
	if (rel.startsWith("..") || path.isAbsolute(rel)) return `points outside the repository (${rel})`;
	if (!fs.existsSync(resolved)) return `no such file: ${rel}`;
	if (anchor !== undefined && resolved.endsWith(".md")) {
		const text = read(resolved);
		if (text !== null && !anchorsOf(text).has(anchor.toLowerCase())) return `no heading #${anchor} in ${rel}`;
	}
	return null;
}

function markdownFiles(): string[] {
	const docs = path.join(ROOT, "docs");
	return [path.join(ROOT, "README.md"), ...fs.readdirSync(docs).filter(f => f.endsWith(".md")).map(f => path.join(docs, f))];
}

const readFile = (file: string): string | null => (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : null);

describe("README.md and docs/", () => {
	it("keeps the README under 450 lines", () => {
		const lines = fs.readFileSync(path.join(ROOT, "README.md"), "utf8").trimEnd().split("\n").length;
		expect(lines).toBeLessThan(README_MAX_LINES);
	});

	it("links only to files and headings that exist in the repository", () => {
		const broken: string[] = [];
		let count = 0;
		for (const file of markdownFiles()) {
			for (const link of linksOf(file, fs.readFileSync(file, "utf8"))) {
				count++;
				const reason = brokenReason(link, readFile);
				if (reason) broken.push(`${path.relative(ROOT, file)}:${link.line} (${link.target}): ${reason}`);
			}
		}
		expect(count).toBeGreaterThan(50);
		expect(broken).toEqual([]);
	});

	/** The design notes kept beside the repository, not in it (spelt in pieces so this file does not name them). */
	const OUTSIDE_NAMES = new RegExp(["DESIGN", "STYLE"].map(n => `${n}\\.md`).concat(["\\.\\./" + "shared\\b"]).join("|"));

	it("names no document kept outside the repository", () => {
		const outside: string[] = [];
		for (const file of markdownFiles()) {
			fs.readFileSync(file, "utf8").split("\n").forEach((line, i) => {
				if (OUTSIDE_NAMES.test(line)) outside.push(`${path.relative(ROOT, file)}:${i + 1}`);
			});
		}
		expect(outside).toEqual([]);
	});
});

describe("the link check itself", () => {
	const file = path.join(ROOT, "README.md");

	it("reports a missing file, a missing heading and a link out of the repository", () => {
		expect(brokenReason({ file, line: 1, target: "docs/no-such-file.md" }, readFile)).toMatch(/no such file/);
		expect(brokenReason({ file, line: 1, target: "docs/architecture.md#no-such-heading" }, readFile)).toMatch(/no heading/);
		expect(brokenReason({ file, line: 1, target: ["..", "shared", "NOTES.md"].join("/") }, readFile)).toMatch(/outside the repository/);
		expect(brokenReason({ file, line: 1, target: "#no-such-section" }, readFile)).toMatch(/no heading/);
	});

	it("accepts existing files, folders, headings and web addresses", () => {
		expect(brokenReason({ file, line: 1, target: "services/orders/" }, readFile)).toBeNull();
		expect(brokenReason({ file, line: 1, target: "#configuration" }, readFile)).toBeNull();
		expect(brokenReason({ file, line: 1, target: "https://moleculer.services" }, readFile)).toBeNull();
	});

	it("skips code blocks and inline code, and slugs headings as GitHub does", () => {
		const text = "# A `code` title\n```bash\n# not a heading\n[x](nowhere.md)\n```\n`[y](nowhere.md)` [z](there.md)\n## Events: outbox, delivery\n## Events: outbox, delivery\n";
		expect(linksOf(file, text).map(l => l.target)).toEqual(["there.md"]);
		expect([...anchorsOf(text)]).toEqual(["a-code-title", "events-outbox-delivery", "events-outbox-delivery-1"]);
	});
});
