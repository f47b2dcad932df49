/**
 * Just enough PromQL and Prometheus text format for the tests of deploy/prometheus and deploy/grafana: the metric
 * selectors an expression uses, the series a /metrics text exposes, and whether a selector selects any of them.
 */

export interface Matcher {
	label: string;
	op: "=" | "!=" | "=~" | "!~";
	value: string;
}

export interface Selector {
	metric: string;
	matchers: Matcher[];
}

export interface Series {
	metric: string;
	labels: Record<string, string>;
}

const KEYWORDS = new Set(["by", "without", "and", "or", "unless", "on", "ignoring", "group_left", "group_right", "bool", "offset", "inf", "nan"]);

/** The metric selectors of a PromQL expression (functions, grouping labels, ranges and numbers left out). */
export function selectorsOf(expr: string): Selector[] {
	const bare = expr
		.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
		.replace(/\[[^\]]*\]/g, " ")
		.replace(/(^|[^\w.])\d+(\.\d+)?(e[+-]?\d+)?/gi, "$1 ");
	const selectors: Selector[] = [];
	const re = /([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?/g;
	for (let m = re.exec(bare); m; m = re.exec(bare)) {
		const [, name, braces] = m;
		const next = bare.slice(re.lastIndex).trimStart();
		if (!braces && next.startsWith("(")) continue;
		if (KEYWORDS.has(name.toLowerCase())) continue;
		selectors.push({ metric: name, matchers: braces ? matchersOf(braces) : [] });
	}
	return selectors;
}

function matchersOf(braces: string): Matcher[] {
	return [...braces.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)].map(m => ({ label: m[1], op: m[2] as Matcher["op"], value: m[3] }));
}

/** The series of a Prometheus text exposition. */
export function seriesOf(text: string): Series[] {
	const series: Series[] = [];
	for (const line of text.split("\n")) {
		const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+\S+/);
		if (!m) continue;
		const labels: Record<string, string> = {};
		for (const l of (m[3] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
		series.push({ metric: m[1], labels });
	}
	return series;
}

/** Whether a selector selects at least one of the series; `ignore` names labels the scrape adds (job, instance). */
export function selects(selector: Selector, series: Series[], ignore = ["job", "instance"]): boolean {
	const matchers = selector.matchers.filter(m => !ignore.includes(m.label));
	return series.some(
		s =>
			s.metric === selector.metric &&
			matchers.every(m => {
				const v = s.labels[m.label] ?? "";
				if (m.op === "=") return v === m.value;
				if (m.op === "!=") return v !== m.value;
				const hit = new RegExp(`^(?:${m.value})$`).test(v);
				return m.op === "=~" ? hit : !hit;
			}),
	);
}
